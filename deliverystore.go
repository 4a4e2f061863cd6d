package mergelink

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// DeliveryState is what a DeliveryStore knows of a delivery.
type DeliveryState int

const (
	// DeliveryNew: the caller has claimed the delivery, must process it
	// and then call Done.
	DeliveryNew DeliveryState = iota
	// DeliveryDone: a copy of the delivery was processed successfully
	// before; it must not be processed again.
	DeliveryDone
	// DeliveryBusy: another copy is being processed right now and the
	// store does not wait for it. The WebhookHandler then answers 503 so
	// that Merge retries later.
	DeliveryBusy
)

func (s DeliveryState) String() string {
	switch s {
	case DeliveryNew:
		return "new"
	case DeliveryDone:
		return "done"
	case DeliveryBusy:
		return "busy"
	}
	return fmt.Sprintf("DeliveryState(%d)", int(s))
}

// DeliveryStore remembers which webhook deliveries were processed, so that
// a WebhookHandler runs its function once per distinct delivery although
// Merge retries. Keys are the hex SHA-256 of the signed body, since Merge
// signs no delivery id. Implementations must be safe for concurrent use; a
// store shared by several processes (a database, say) makes the guarantee
// hold across them.
type DeliveryStore interface {
	// Begin claims key. It returns DeliveryNew when the caller now owns
	// the key and must report the outcome with Done; DeliveryDone when a
	// copy succeeded before; DeliveryBusy when another copy is being
	// processed. A store may instead wait for that copy to finish; it
	// then returns ctx.Err() if ctx ends first. Any error makes the
	// handler answer 503, so that Merge retries.
	Begin(ctx context.Context, key string) (DeliveryState, error)
	// Done ends a claim that Begin granted. A success is remembered; a
	// failure is forgotten, so that Merge's retry processes the delivery
	// again.
	Done(key string, succeeded bool)
}

// Defaults of MemoryDeliveryStore.
const (
	DefaultDeliveryTTL        = 24 * time.Hour
	DefaultDeliveryMaxEntries = 10000
)

// MemoryDeliveryStoreOptions configures NewMemoryDeliveryStore. The zero
// value gives the defaults.
type MemoryDeliveryStoreOptions struct {
	// TTL is how long a processed delivery is remembered; 0 means
	// DefaultDeliveryTTL (Merge's retries end well within it).
	TTL time.Duration
	// MaxEntries bounds how many processed deliveries are remembered; past
	// it the oldest are forgotten first. 0 means DefaultDeliveryMaxEntries.
	MaxEntries int
	// Now is the clock, time.Now when nil; tests pass their own.
	Now func() time.Time
}

// MemoryDeliveryStore is the DeliveryStore that a WebhookHandler uses by
// default: it remembers processed deliveries in memory, in one process,
// for a TTL and up to a number of entries. A copy that arrives while
// another is being processed waits for it: it is then done (when the first
// succeeded) or claimed (when the first failed). Make one with
// NewMemoryDeliveryStore: the zero value is not ready for use.
type MemoryDeliveryStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	entries  map[string]*delivery
	finished list.List // keys of processed deliveries, oldest first
}

type delivery struct {
	wait chan struct{} // closed when the claim ends
	done bool
	at   time.Time
}

// NewMemoryDeliveryStore returns an empty MemoryDeliveryStore. It fails
// with a *ValidationError when TTL or MaxEntries is negative.
func NewMemoryDeliveryStore(o MemoryDeliveryStoreOptions) (*MemoryDeliveryStore, error) {
	c := validate.New("MemoryDeliveryStoreOptions")
	if o.TTL < 0 {
		c.Add("TTL", "must not be negative (0 means 24h)", o.TTL.String())
	}
	if o.MaxEntries < 0 {
		c.Add("MaxEntries", "must not be negative (0 means 10000)", fmt.Sprint(o.MaxEntries))
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	s := &MemoryDeliveryStore{ttl: o.TTL, max: o.MaxEntries, now: o.Now, entries: make(map[string]*delivery)}
	if s.ttl == 0 {
		s.ttl = DefaultDeliveryTTL
	}
	if s.max == 0 {
		s.max = DefaultDeliveryMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Begin claims key, waiting while another copy is being processed. It
// fails only with ctx.Err().
func (s *MemoryDeliveryStore) Begin(ctx context.Context, key string) (DeliveryState, error) {
	for {
		s.mu.Lock()
		s.expire()
		d := s.entries[key]
		if d == nil {
			s.entries[key] = &delivery{wait: make(chan struct{})}
			s.mu.Unlock()
			return DeliveryNew, nil
		}
		if d.done {
			s.mu.Unlock()
			return DeliveryDone, nil
		}
		wait := d.wait
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return DeliveryBusy, ctx.Err()
		}
	}
}

// Done ends the claim on key; it does nothing for a key that is not
// claimed.
func (s *MemoryDeliveryStore) Done(key string, succeeded bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.entries[key]
	if d == nil || d.done {
		return
	}
	close(d.wait)
	if !succeeded {
		delete(s.entries, key)
		return
	}
	d.done, d.at = true, s.now()
	s.finished.PushBack(key)
	for s.finished.Len() > s.max {
		s.forget(s.finished.Front())
	}
}

// Len returns how many processed deliveries the store remembers.
func (s *MemoryDeliveryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return s.finished.Len()
}

// expire forgets the deliveries older than the TTL; s.mu is held.
func (s *MemoryDeliveryStore) expire() {
	now := s.now()
	for e := s.finished.Front(); e != nil; e = s.finished.Front() {
		if now.Sub(s.entries[e.Value.(string)].at) < s.ttl {
			return
		}
		s.forget(e)
	}
}

func (s *MemoryDeliveryStore) forget(e *list.Element) {
	delete(s.entries, e.Value.(string))
	s.finished.Remove(e)
}
