package riverinbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeInserts records the batches a batcher inserts; each call waits for
// a value on release, which is its error.
type fakeInserts struct {
	mu      sync.Mutex
	batches [][]string        // each batch's delivery keys
	ctxs    []context.Context // each batch's context
	called  chan struct{}
	release chan error
}

func newFakeInserts() *fakeInserts {
	return &fakeInserts{called: make(chan struct{}, 16), release: make(chan error)}
}

func (f *fakeInserts) insertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	var keys []string
	for _, p := range params {
		keys = append(keys, p.Args.(Args).DeliveryKey)
	}
	f.mu.Lock()
	f.batches = append(f.batches, keys)
	f.ctxs = append(f.ctxs, ctx)
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

// behindABatch starts a lone delivery's batch (key "a"), calls queue while
// that batch's transaction runs, waits until n deliveries wait behind it,
// lets it commit, and returns once the next batch is in its transaction.
func behindABatch(t *testing.T, f *fakeInserts, b *batcher, n int, queue func()) {
	t.Helper()
	first := insertAll(b, "a")
	<-f.called
	queue()
	waitQueued(b, n)
	f.release <- nil
	require.NoError(t, <-first)
	<-f.called
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

	var rest <-chan error
	behindABatch(t, f, b, 5, func() { rest = insertAll(b, "b", "c", "d", "c", "") })
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
	var rest <-chan error
	behindABatch(t, f, b, 2, func() { rest = insertAll(b, "b", "c") })
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

// A batch's transaction goes on while one of its requests waits, and ends
// when all of them have ended, as a lone request's insert ends with it.
func TestBatchEndsWhenAllItsRequestsHave(t *testing.T) {
	t.Parallel()
	f := newFakeInserts()
	b := &batcher{insertMany: f.insertMany}
	ctxB, cancelB := context.WithCancel(context.Background())
	ctxC, cancelC := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	behindABatch(t, f, b, 2, func() {
		go func() { errs <- b.insert(ctxB, river.InsertManyParams{Args: Args{DeliveryKey: "b"}}, "b") }()
		go func() { errs <- b.insert(ctxC, river.InsertManyParams{Args: Args{DeliveryKey: "c"}}, "c") }()
	})
	f.mu.Lock()
	batchCtx := f.ctxs[1]
	f.mu.Unlock()

	cancelB()
	assert.ErrorIs(t, <-errs, context.Canceled)
	assert.NoError(t, batchCtx.Err(), "c still waits for the batch")
	cancelC()
	assert.ErrorIs(t, <-errs, context.Canceled)
	<-batchCtx.Done() // both gave up: the transaction ends
	f.release <- batchCtx.Err()
}

// A delivery that is in one batch twice is inserted once, on a real
// PostgreSQL, which refuses one insert that meets a unique key twice.
func TestBatchWithADeliveryTwiceInsertsItOnce(t *testing.T) {
	t.Parallel()
	url := os.Getenv("MERGELINK_TEST_POSTGRES")
	if url == "" {
		t.Skip("set MERGELINK_TEST_POSTGRES to run on a real PostgreSQL")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	schema := fmt.Sprintf("riverinbox_batch_%d", time.Now().UnixNano())
	_, err = pool.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema})
	require.NoError(t, err)
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(t, err)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: schema})
	require.NoError(t, err)

	keys := []string{"a", "b", "a", "", ""}
	for i := len(keys); i < maxBatch; i++ {
		keys = append(keys, fmt.Sprint("k", i))
	}
	var batch []*pending
	for _, k := range keys {
		opts := &river.InsertOpts{}
		if k != "" {
			opts.UniqueOpts = river.UniqueOpts{ByArgs: true}
		}
		batch = append(batch, &pending{ctx: ctx, params: river.InsertManyParams{Args: Args{DeliveryKey: k}, InsertOpts: opts}, key: k, done: make(chan struct{})})
	}
	(&batcher{insertMany: client.InsertMany}).insertBatch(batch)
	for _, p := range batch {
		<-p.done
		require.NoError(t, p.err)
	}
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".river_job").Scan(&n))
	assert.Equal(t, maxBatch-1, n, "a full batch, a and b once each, and both jobs with no key")

	_, err = client.InsertMany(ctx, []river.InsertManyParams{batch[0].params, batch[0].params})
	assert.ErrorContains(t, err, "ON CONFLICT DO UPDATE command cannot affect row a second time", "what the batcher's merge avoids")
}
