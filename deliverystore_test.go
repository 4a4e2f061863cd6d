package mergelink_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newStore(t *testing.T, o mergelink.MemoryDeliveryStoreOptions) *mergelink.MemoryDeliveryStore {
	t.Helper()
	s, err := mergelink.NewMemoryDeliveryStore(o)
	require.NoError(t, err)
	return s
}

func begin(t *testing.T, s mergelink.DeliveryStore, key string) mergelink.DeliveryState {
	t.Helper()
	state, err := s.Begin(context.Background(), key)
	require.NoError(t, err)
	return state
}

// inFlight reports whether key is claimed by someone: Begin with an ended
// context must then give up rather than answer.
func inFlight(s mergelink.DeliveryStore, key string) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Begin(ctx, key)
	return err != nil
}

func TestMemoryDeliveryStoreRemembersSuccessForgetsFailure(t *testing.T) {
	t.Parallel()
	s := newStore(t, mergelink.MemoryDeliveryStoreOptions{})
	require.Equal(t, mergelink.DeliveryNew, begin(t, s, "a"))
	assert.True(t, inFlight(s, "a"))
	s.Done("a", true)
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "a"))
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "a"), "still done")
	assert.Equal(t, 1, s.Len())

	require.Equal(t, mergelink.DeliveryNew, begin(t, s, "b"))
	s.Done("b", false)
	assert.Equal(t, mergelink.DeliveryNew, begin(t, s, "b"), "a failed delivery is not remembered")
	s.Done("b", true)
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "b"))

	// Done on a key that is not claimed changes nothing.
	s.Done("b", false)
	s.Done("never-begun", true)
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "b"))
	assert.Equal(t, mergelink.DeliveryNew, begin(t, s, "never-begun"))
	assert.Equal(t, 2, s.Len())
}

func TestMemoryDeliveryStoreForgetsAfterTTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newStore(t, mergelink.MemoryDeliveryStoreOptions{TTL: time.Hour, Now: clock.Now})
	begin(t, s, "old")
	s.Done("old", true)
	clock.Advance(30 * time.Minute)
	begin(t, s, "young")
	s.Done("young", true)

	clock.Advance(30*time.Minute - time.Nanosecond)
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "old"), "just under the TTL")
	assert.Equal(t, 2, s.Len())

	clock.Advance(time.Nanosecond)
	assert.Equal(t, 1, s.Len(), "old is forgotten at the TTL")
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "young"))
	assert.Equal(t, mergelink.DeliveryNew, begin(t, s, "old"))
}

func TestMemoryDeliveryStoreDefaultTTLIsADay(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newStore(t, mergelink.MemoryDeliveryStoreOptions{Now: clock.Now})
	begin(t, s, "k")
	s.Done("k", true)
	clock.Advance(24*time.Hour - time.Second)
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "k"))
	clock.Advance(time.Second)
	assert.Equal(t, mergelink.DeliveryNew, begin(t, s, "k"))
}

func TestMemoryDeliveryStoreBoundsEntriesOldestFirst(t *testing.T) {
	t.Parallel()
	s := newStore(t, mergelink.MemoryDeliveryStoreOptions{MaxEntries: 3})
	require.Equal(t, mergelink.DeliveryNew, begin(t, s, "in-flight"))
	for i := range 5 {
		key := fmt.Sprint("k", i)
		require.Equal(t, mergelink.DeliveryNew, begin(t, s, key))
		s.Done(key, true)
	}
	assert.Equal(t, 3, s.Len())
	for i, want := range []mergelink.DeliveryState{
		mergelink.DeliveryNew, mergelink.DeliveryNew, // k0, k1: evicted
		mergelink.DeliveryDone, mergelink.DeliveryDone, mergelink.DeliveryDone,
	} {
		key := fmt.Sprint("k", i)
		if want == mergelink.DeliveryDone {
			assert.Equal(t, want, begin(t, s, key), key)
		} else {
			assert.False(t, inFlight(s, key), "%s is forgotten", key)
		}
	}
	assert.True(t, inFlight(s, "in-flight"), "a claim in progress is never evicted")
}

// waitSignal is a context that closes waiting when Done is first asked
// for, which Begin does only when it waits.
type waitSignal struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func newWaitSignal() *waitSignal {
	return &waitSignal{Context: context.Background(), waiting: make(chan struct{})}
}

func (c *waitSignal) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// A copy that arrives while another is processed waits for it: it is done
// when the first succeeded, and becomes the owner when the first failed.
func TestMemoryDeliveryStoreSecondCopyWaits(t *testing.T) {
	t.Parallel()
	for _, firstSucceeds := range []bool{true, false} {
		s := newStore(t, mergelink.MemoryDeliveryStoreOptions{})
		require.Equal(t, mergelink.DeliveryNew, begin(t, s, "k"))
		got := make(chan mergelink.DeliveryState, 1)
		ctx := newWaitSignal()
		go func() {
			state, err := s.Begin(ctx, "k")
			assert.NoError(t, err)
			got <- state
		}()
		select {
		case <-ctx.waiting: // the second copy waits on its context
		case state := <-got:
			t.Fatalf("the second copy did not wait for the first: got %v at once", state)
		}
		s.Done("k", firstSucceeds)
		if firstSucceeds {
			assert.Equal(t, mergelink.DeliveryDone, <-got)
		} else {
			assert.Equal(t, mergelink.DeliveryNew, <-got)
			assert.True(t, inFlight(s, "k"), "the second copy now owns the key")
		}
	}
}

func TestMemoryDeliveryStoreWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	s := newStore(t, mergelink.MemoryDeliveryStoreOptions{})
	begin(t, s, "k")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := s.Begin(ctx, "k")
		errc <- err
	}()
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	s.Done("k", true)
	assert.Equal(t, mergelink.DeliveryDone, begin(t, s, "k"))
}

func TestMemoryDeliveryStoreOptionsValidated(t *testing.T) {
	t.Parallel()
	_, err := mergelink.NewMemoryDeliveryStore(mergelink.MemoryDeliveryStoreOptions{TTL: -time.Second, MaxEntries: -1})
	var verr *mergelink.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("TTL"))
	assert.True(t, verr.Has("MaxEntries"))
}

// Many goroutines claiming overlapping keys: each key is processed once.
func TestMemoryDeliveryStoreConcurrentClaims(t *testing.T) {
	t.Parallel()
	s := newStore(t, mergelink.MemoryDeliveryStoreOptions{})
	const keys, copies = 50, 8
	var processed [keys]atomic.Int32
	var wg sync.WaitGroup
	for c := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				k := (i + c) % keys
				key := fmt.Sprint("k", k)
				state, err := s.Begin(context.Background(), key)
				if !assert.NoError(t, err) {
					return
				}
				if state == mergelink.DeliveryNew {
					processed[k].Add(1)
					s.Done(key, true)
				}
			}
		}()
	}
	wg.Wait()
	for k := range processed {
		assert.Equal(t, int32(1), processed[k].Load(), "key %d", k)
	}
	assert.Equal(t, keys, s.Len())
}

func TestDeliveryStateString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "new", mergelink.DeliveryNew.String())
	assert.Equal(t, "done", mergelink.DeliveryDone.String())
	assert.Equal(t, "busy", mergelink.DeliveryBusy.String())
	assert.Equal(t, "DeliveryState(9)", mergelink.DeliveryState(9).String())
}
