package delivery

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// DefaultMaxEntries is how many successes a MemoryStore remembers unless
// told otherwise.
const DefaultMaxEntries = 10000

// MemoryOptions configures NewMemoryStore. The zero value gives the
// defaults.
type MemoryOptions struct {
	// TTL is how long a success is remembered; 0 means DefaultTTL.
	TTL time.Duration
	// MaxEntries bounds how many successes are remembered; past it the
	// oldest are forgotten first. 0 means DefaultMaxEntries.
	MaxEntries int
	// Now is the clock, time.Now when nil; tests pass their own.
	Now func() time.Time
}

// MemoryStore is a Store in memory, for one process: it remembers
// successes for a TTL and up to a number of entries. A copy that arrives
// while another holds a live claim waits for that claim to end (or its
// lease to run out, by the wall clock): it is then done (when the first
// succeeded) or claimed (when the first failed or its lease ran out).
// Make one with NewMemoryStore: the zero value is not ready for use.
type MemoryStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	entries  map[string]*entry
	finished list.List // keys of successes, oldest first
}

type entry struct {
	owner string
	until time.Time     // the claim's lease end
	wait  chan struct{} // closed when the claim ends or is taken over
	done  bool
	at    time.Time // when the success was recorded
}

// NewMemoryStore returns an empty MemoryStore. It fails with a
// *mergelink.ValidationError when TTL or MaxEntries is negative.
func NewMemoryStore(o MemoryOptions) (*MemoryStore, error) {
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
	s := &MemoryStore{ttl: o.TTL, max: o.MaxEntries, now: o.Now, entries: make(map[string]*entry)}
	if s.ttl == 0 {
		s.ttl = DefaultTTL
	}
	if s.max == 0 {
		s.max = DefaultMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Begin claims key for owner, waiting while another owner's claim is live.
// It fails with a *mergelink.ValidationError when key or owner is empty or
// lease is not positive, and otherwise only with ctx.Err().
func (s *MemoryStore) Begin(ctx context.Context, key, owner string, lease time.Duration) (State, error) {
	if err := CheckClaim(key, owner, lease); err != nil {
		return Busy, err
	}
	for {
		s.mu.Lock()
		s.expire()
		now := s.now()
		e := s.entries[key]
		switch {
		case e == nil:
			s.entries[key] = &entry{owner: owner, until: now.Add(lease), wait: make(chan struct{})}
			s.mu.Unlock()
			return New, nil
		case e.done:
			s.mu.Unlock()
			return Done, nil
		case !now.Before(e.until): // the lease ran out: take the claim over
			close(e.wait)
			s.entries[key] = &entry{owner: owner, until: now.Add(lease), wait: make(chan struct{})}
			s.mu.Unlock()
			return New, nil
		}
		wait, left := e.wait, e.until.Sub(now)
		s.mu.Unlock()
		t := time.NewTimer(left)
		select {
		case <-wait:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Busy, ctx.Err()
		}
		t.Stop()
	}
}

// Done ends owner's claim on key, or records a late outcome when no other
// owner holds a live claim. It fails with ErrClaimLost when another owner
// does, or a success is recorded already.
func (s *MemoryStore) Done(_ context.Context, key, owner string, succeeded bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	now := s.now()
	e := s.entries[key]
	if e != nil {
		if e.done || (e.owner != owner && now.Before(e.until)) {
			return ErrClaimLost
		}
		close(e.wait)
		delete(s.entries, key)
	}
	if !succeeded {
		return nil
	}
	s.entries[key] = &entry{owner: owner, done: true, at: now}
	s.finished.PushBack(key)
	for s.finished.Len() > s.max {
		s.forget(s.finished.Front())
	}
	return nil
}

// Len returns how many successes the store remembers.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return s.finished.Len()
}

// expire forgets the successes older than the TTL; s.mu is held.
func (s *MemoryStore) expire() {
	now := s.now()
	for e := s.finished.Front(); e != nil; e = s.finished.Front() {
		if now.Sub(s.entries[e.Value.(string)].at) < s.ttl {
			return
		}
		s.forget(e)
	}
}

func (s *MemoryStore) forget(e *list.Element) {
	delete(s.entries, e.Value.(string))
	s.finished.Remove(e)
}
