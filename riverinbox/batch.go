package riverinbox

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// maxBatch bounds the jobs one transaction inserts.
const maxBatch = 128

// batcher inserts the jobs of concurrent deliveries together: while one
// batch's transaction runs, the deliveries that arrive wait, and go in the
// next batch, one transaction for all of them. A lone delivery is inserted
// at once. Under load this turns one transaction per delivery into one
// per batch, so that a delivery waits for about two transactions, not for
// the ones of every delivery ahead of it.
type batcher struct {
	insertMany func(context.Context, []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)

	mu      sync.Mutex
	queue   []*pending
	running bool // a goroutine is inserting the queue's batches
}

// pending is one delivery's job, waiting for its batch.
type pending struct {
	ctx    context.Context // the request's
	params river.InsertManyParams
	key    string // the unique key, or "" when the job is not unique
	err    error  // the batch's error, set before done is closed
	done   chan struct{}
}

// insert inserts one job, unique by key unless key is "", in the next
// batch, and returns the batch's error, or ctx's when ctx ends first; the
// job may then still be inserted, and a delivery sent again finds it.
func (b *batcher) insert(ctx context.Context, params river.InsertManyParams, key string) error {
	p := &pending{ctx: ctx, params: params, key: key, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run inserts batches until the queue is empty.
func (b *batcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		if len(b.queue) == 0 {
			b.queue = nil // let the backing array go
		}
		b.mu.Unlock()
		b.insertBatch(batch)
	}
}

// insertBatch inserts batch in one transaction and tells each waiter the
// outcome. The transaction's context ends when the contexts of all the
// batch's requests have, as a lone request's insert would end with its
// own. A delivery that is in the batch twice, sent again before its first
// job was inserted, is inserted once: PostgreSQL refuses one insert that
// meets the same unique key twice.
func (b *batcher) insertBatch(batch []*pending) {
	params := make([]river.InsertManyParams, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, p := range batch {
		if p.key != "" {
			if seen[p.key] {
				continue
			}
			seen[p.key] = true
		}
		params = append(params, p.params)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var waiting atomic.Int64
	waiting.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, p := range batch {
		stops[i] = context.AfterFunc(p.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
	}
	_, err := b.insertMany(ctx, params)
	for _, stop := range stops {
		stop()
	}
	cancel()
	for _, p := range batch {
		p.err = err
		close(p.done)
	}
}
