package riverinbox

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeInserts records the batches a batcher inserts; each call waits for
// a value on release, which is its error.
type fakeInserts struct {
	mu      sync.Mutex
	batches [][]string // each batch's delivery keys
	called  chan struct{}
	release chan error
}

func newFakeInserts() *fakeInserts {
	return &fakeInserts{called: make(chan struct{}, 16), release: make(chan error)}
}

func (f *fakeInserts) insertMany(_ context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	var keys []string
	for _, p := range params {
		keys = append(keys, p.Args.(Args).DeliveryKey)
	}
	f.mu.Lock()
	f.batches = append(f.batches, keys)
	f.mu.Unlock()
	f.called <- struct{}{}
	return nil, <-f.release
}

// waitQueued returns once n jobs wait in b's queue.
func waitQueued(b *batcher, n int) {
	for {
		b.mu.Lock()
		queued := len(b.queue)
		b.mu.Unlock()
		if queued == n {
			return
		}
		runtime.Gosched()
	}
}

// insertAll inserts a job for each key from a goroutine of its own and
// returns their errors' channel.
func insertAll(b *batcher, keys ...string) <-chan error {
	errs := make(chan error, len(keys))
	for _, k := range keys {
		go func() {
			errs <- b.insert(context.Background(), river.InsertManyParams{Args: Args{DeliveryKey: k}}, k)
		}()
	}
	return errs
}

func TestBatcherInsertsWhatArrivesDuringABatchInTheNext(t *testing.T) {
	t.Parallel()
	f := newFakeInserts()
	b := &batcher{insertMany: f.insertMany}

	first := insertAll(b, "a")
	<-f.called // a's batch is in its transaction
	rest := insertAll(b, "b", "c", "d", "c", "")
	waitQueued(b, 5)
	f.release <- nil
	require.NoError(t, <-first)
	<-f.called
	f.release <- nil
	for range 5 {
		require.NoError(t, <-rest)
	}

	require.Len(t, f.batches, 2, "one transaction for the lone first delivery, one for all that came during it")
	assert.Equal(t, []string{"a"}, f.batches[0])
	assert.ElementsMatch(t, []string{"b", "c", "d", ""}, f.batches[1],
		"c, sent twice into one batch, is inserted once (PostgreSQL refuses one insert that meets a unique key twice); a job with no key is never merged")
}

func TestBatcherGivesTheBatchsErrorToEveryDelivery(t *testing.T) {
	t.Parallel()
	f := newFakeInserts()
	b := &batcher{insertMany: f.insertMany}
	first := insertAll(b, "a")
	<-f.called
	rest := insertAll(b, "b", "c")
	waitQueued(b, 2)
	f.release <- nil
	require.NoError(t, <-first)
	<-f.called
	failed := errors.New("connection refused")
	f.release <- failed
	for range 2 {
		assert.ErrorIs(t, <-rest, failed)
	}
}

func TestBatcherStopsWaitingWhenTheRequestEnds(t *testing.T) {
	t.Parallel()
	f := newFakeInserts()
	b := &batcher{insertMany: f.insertMany}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() { errs <- b.insert(ctx, river.InsertManyParams{Args: Args{DeliveryKey: "a"}}, "a") }()
	<-f.called
	cancel()
	assert.ErrorIs(t, <-errs, context.Canceled, "the request answers (503) while its batch still runs")
	f.release <- nil

	// The batcher goes on: the next delivery starts a batch of its own.
	next := insertAll(b, "b")
	<-f.called
	f.release <- nil
	require.NoError(t, <-next)
	assert.Equal(t, [][]string{{"a"}, {"b"}}, f.batches)
}
