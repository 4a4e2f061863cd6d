package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/delivery/deliverytest"
	"github.com/mergelink/mergelink/internal/testclock"
)

func newStore(t *testing.T, o delivery.MemoryOptions) *delivery.MemoryStore {
	t.Helper()
	s, err := delivery.NewMemoryStore(o)
	require.NoError(t, err)
	return s
}

// The contract every store keeps, on a fake clock.
func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	deliverytest.Run(t, func(t *testing.T, ttl time.Duration) deliverytest.Harness {
		clock := testclock.New()
		return deliverytest.Harness{
			Store:   newStore(t, delivery.MemoryOptions{TTL: ttl, Now: clock.Now}),
			Advance: clock.Advance,
			Waits:   true,
		}
	})
}

const owner = "owner-1"

func begin(t *testing.T, s delivery.Store, key string) delivery.State {
	t.Helper()
	state, err := s.Begin(context.Background(), key, owner, time.Minute)
	require.NoError(t, err)
	return state
}

func done(t *testing.T, s delivery.Store, key string, succeeded bool) {
	t.Helper()
	require.NoError(t, s.Done(context.Background(), key, owner, succeeded))
}

// inFlight reports whether key is claimed by someone: Begin with an ended
// context must then give up rather than answer.
func inFlight(s delivery.Store, key string) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Begin(ctx, key, "someone-else", time.Minute)
	return err != nil
}

func TestMemoryStoreDefaultTTLIsADay(t *testing.T) {
	t.Parallel()
	clock := testclock.New()
	s := newStore(t, delivery.MemoryOptions{Now: clock.Now})
	begin(t, s, "k")
	done(t, s, "k", true)
	clock.Advance(24*time.Hour - time.Second)
	assert.Equal(t, delivery.Done, begin(t, s, "k"))
	assert.Equal(t, 1, s.Len())
	clock.Advance(time.Second)
	assert.Equal(t, 0, s.Len())
	assert.Equal(t, delivery.New, begin(t, s, "k"))
}

func TestMemoryStoreBoundsEntriesOldestFirst(t *testing.T) {
	t.Parallel()
	s := newStore(t, delivery.MemoryOptions{MaxEntries: 3})
	require.Equal(t, delivery.New, begin(t, s, "in-flight"))
	for i := range 5 {
		key := fmt.Sprint("k", i)
		require.Equal(t, delivery.New, begin(t, s, key))
		done(t, s, key, true)
	}
	assert.Equal(t, 3, s.Len())
	for i, want := range []delivery.State{
		delivery.New, delivery.New, // k0, k1: evicted
		delivery.Done, delivery.Done, delivery.Done,
	} {
		key := fmt.Sprint("k", i)
		if want == delivery.Done {
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
func TestMemoryStoreSecondCopyWaits(t *testing.T) {
	t.Parallel()
	for _, firstSucceeds := range []bool{true, false} {
		s := newStore(t, delivery.MemoryOptions{})
		require.Equal(t, delivery.New, begin(t, s, "k"))
		got := make(chan delivery.State, 1)
		ctx := newWaitSignal()
		go func() {
			state, err := s.Begin(ctx, "k", "owner-2", time.Minute)
			assert.NoError(t, err)
			got <- state
		}()
		select {
		case <-ctx.waiting: // the second copy waits on its context
		case state := <-got:
			t.Fatalf("the second copy did not wait for the first: got %v at once", state)
		}
		done(t, s, "k", firstSucceeds)
		if firstSucceeds {
			assert.Equal(t, delivery.Done, <-got)
		} else {
			assert.Equal(t, delivery.New, <-got)
			assert.True(t, inFlight(s, "k"), "the second copy now owns the key")
			assert.NoError(t, s.Done(context.Background(), "k", "owner-2", true))
		}
	}
}

// A waiting copy takes the claim over when the lease runs out, although
// the owner never ends it.
func TestMemoryStoreWaiterTakesOverAtLeaseEnd(t *testing.T) {
	t.Parallel()
	s := newStore(t, delivery.MemoryOptions{})
	state, err := s.Begin(context.Background(), "k", "dead-owner", time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, delivery.New, state)
	state, err = s.Begin(context.Background(), "k", "owner-2", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, delivery.New, state)
	assert.ErrorIs(t, s.Done(context.Background(), "k", "dead-owner", true), delivery.ErrClaimLost)
	assert.True(t, inFlight(s, "k"), "the late Done changed nothing")
}

func TestMemoryStoreWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	s := newStore(t, delivery.MemoryOptions{})
	begin(t, s, "k")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := s.Begin(ctx, "k", "owner-2", time.Minute)
		errc <- err
	}()
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	done(t, s, "k", true)
	assert.Equal(t, delivery.Done, begin(t, s, "k"))
}

func TestMemoryStoreOptionsValidated(t *testing.T) {
	t.Parallel()
	_, err := delivery.NewMemoryStore(delivery.MemoryOptions{TTL: -time.Second, MaxEntries: -1})
	var verr *mergelink.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("TTL"))
	assert.True(t, verr.Has("MaxEntries"))
}

func TestStateString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "new", delivery.New.String())
	assert.Equal(t, "done", delivery.Done.String())
	assert.Equal(t, "busy", delivery.Busy.String())
	assert.Equal(t, "State(9)", delivery.State(9).String())
}
