// Package deliverytest checks that a delivery.Store keeps the contract:
// claims with owners and leases, owner-checked Done, takeover after the
// lease, late outcomes (after the lease, with and without a takeover),
// failures forgotten, successes remembered for the TTL, one owner among
// concurrent copies. Store implementations run it in their tests.
package deliverytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mergelink/mergelink/delivery"
)

// Harness is one store under test.
type Harness struct {
	// Store is an empty store (or one whose keys no other test uses).
	Store delivery.Store
	// Advance moves the store's clock forward by d. Leave it nil for a
	// store on a server's clock: the suite then uses short leases and a
	// short TTL and waits for them by polling.
	Advance func(d time.Duration)
	// EndLease makes the server end key's claim now, as its clock does
	// when the lease runs out (on Redis, PEXPIREAT in the past), for a
	// store without Advance. When both are nil, the tests of late
	// outcomes are skipped.
	EndLease func(key string)
	// Waits is true for a store whose Begin waits while another owner's
	// claim is live (MemoryStore): the suite then checks for Busy with a
	// context that ends after 50ms, and takes its error as Busy.
	Waits bool
}

// realLease and realTTL are the durations used on a real clock.
const (
	realLease = 150 * time.Millisecond
	realTTL   = 400 * time.Millisecond
)

// Run runs the suite. newHarness returns a store that remembers successes
// for ttl.
func Run(t *testing.T, newHarness func(t *testing.T, ttl time.Duration) Harness) {
	t.Helper()
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s store, h Harness, ttl time.Duration)
	}{
		{"ClaimThenDone", claimThenDone},
		{"FailureForgotten", failureForgotten},
		{"OnlyTheOwnerEndsTheClaim", onlyOwner},
		{"LeaseExpiryAndTakeover", takeover},
		{"LateOutcomeWhenNotTakenOver", lateUntaken},
		{"LateOutcomeWhileTakenOver", lateTaken},
		{"LateOutcomeAfterTakeoverAndRelease", lateReleased},
		{"SuccessRememberedUntilTTL", rememberedUntilTTL},
		{"HundredConcurrentCopiesRunOnce", concurrentCopies},
		{"RefusesBadArguments", badArguments},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ttl := time.Hour
			h := newHarness(t, ttl)
			if h.Advance == nil {
				ttl = realTTL
				h = newHarness(t, ttl)
			}
			tc.test(t, store{h.Store, h.Waits}, h, ttl)
		})
	}
}

// store is the store under test, and whether its Begin waits.
type store struct {
	delivery.Store
	waits bool
}

var keySeq atomic.Int64

// newKey returns a key no other test of this process uses.
func newKey(t *testing.T) string {
	return fmt.Sprintf("deliverytest-%d-%d-%s", time.Now().UnixNano(), keySeq.Add(1), t.Name())
}

func begin(t *testing.T, s store, key, owner string, lease time.Duration) delivery.State {
	t.Helper()
	ctx := context.Background()
	if s.waits {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
	}
	state, err := s.Begin(ctx, key, owner, lease)
	if err != nil && !(s.waits && state == delivery.Busy && errors.Is(err, context.DeadlineExceeded)) {
		t.Fatalf("Begin(%q, %q): %v", key, owner, err)
	}
	return state
}

func done(t *testing.T, s store, key, owner string, succeeded bool) error {
	t.Helper()
	return s.Done(context.Background(), key, owner, succeeded)
}

func want(t *testing.T, got, want delivery.State, what string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// lease is the lease a test that does not wait for it uses.
const lease = time.Minute

func claimThenDone(t *testing.T, s store, h Harness, _ time.Duration) {
	key := newKey(t)
	want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
	want(t, begin(t, s, key, "b", lease), delivery.Busy, "Begin while a holds the claim")
	if err := done(t, s, key, "a", true); err != nil {
		t.Fatalf("Done by the owner: %v", err)
	}
	want(t, begin(t, s, key, "c", lease), delivery.Done, "Begin after a success")
	want(t, begin(t, s, key, "c", lease), delivery.Done, "Begin again after a success")
	if err := done(t, s, key, "a", false); !errors.Is(err, delivery.ErrClaimLost) {
		t.Errorf("Done on a finished delivery: got %v, want ErrClaimLost", err)
	}
	want(t, begin(t, s, key, "c", lease), delivery.Done, "a late failure does not undo a success")
}

func failureForgotten(t *testing.T, s store, h Harness, _ time.Duration) {
	key := newKey(t)
	want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
	if err := done(t, s, key, "a", false); err != nil {
		t.Fatalf("Done(failure) by the owner: %v", err)
	}
	want(t, begin(t, s, key, "b", lease), delivery.New, "Begin after a failure")
	if err := done(t, s, key, "b", true); err != nil {
		t.Fatalf("Done by the new owner: %v", err)
	}
	want(t, begin(t, s, key, "c", lease), delivery.Done, "Begin after the retry succeeded")
}

func onlyOwner(t *testing.T, s store, h Harness, _ time.Duration) {
	key := newKey(t)
	want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
	for _, succeeded := range []bool{true, false} {
		if err := done(t, s, key, "intruder", succeeded); !errors.Is(err, delivery.ErrClaimLost) {
			t.Errorf("Done(%t) by another owner: got %v, want ErrClaimLost", succeeded, err)
		}
	}
	want(t, begin(t, s, key, "b", lease), delivery.Busy, "the claim is still a's")
	if err := done(t, s, key, "a", true); err != nil {
		t.Fatalf("Done by the owner: %v", err)
	}
	want(t, begin(t, s, key, "b", lease), delivery.Done, "after the owner's success")
	// A key nobody holds is free: a failure leaves it so, a success is
	// recorded (no store can tell a claim that ended from none).
	free := newKey(t)
	if err := done(t, s, free, "a", false); err != nil {
		t.Errorf("Done(failure) on a free key: %v", err)
	}
	want(t, begin(t, s, free, "b", lease), delivery.New, "after a failure on a free key")
	free = newKey(t)
	if err := done(t, s, free, "a", true); err != nil {
		t.Errorf("Done(success) on a free key: %v", err)
	}
	want(t, begin(t, s, free, "b", lease), delivery.Done, "after a success on a free key")
}

// endLease passes the end of key's claim (of lease) without a Begin, or
// skips the test when the harness cannot.
func endLease(t *testing.T, h Harness, key string) {
	t.Helper()
	switch {
	case h.Advance != nil:
		h.Advance(2 * lease)
	case h.EndLease != nil:
		h.EndLease(key)
	default:
		t.Skip("needs Advance or EndLease: on a server's clock the lease end cannot be passed without a Begin")
	}
}

// lateUntaken: an outcome reported after the lease, when no copy took the
// delivery over, counts.
func lateUntaken(t *testing.T, s store, h Harness, _ time.Duration) {
	for _, succeeded := range []bool{true, false} {
		key := newKey(t)
		want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
		endLease(t, h, key)
		if err := done(t, s, key, "a", succeeded); err != nil {
			t.Fatalf("the owner's Done(%t) after its lease, nobody took over: %v", succeeded, err)
		}
		if succeeded {
			want(t, begin(t, s, key, "b", lease), delivery.Done, "the late success is recorded")
		} else {
			want(t, begin(t, s, key, "b", lease), delivery.New, "the late failure left the key free")
		}
	}
}

// lateTaken: an outcome reported after another copy took the delivery
// over fails with ErrClaimLost and leaves the new claim as it is.
func lateTaken(t *testing.T, s store, h Harness, _ time.Duration) {
	for _, succeeded := range []bool{true, false} {
		key := newKey(t)
		want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
		endLease(t, h, key)
		want(t, begin(t, s, key, "b", lease), delivery.New, "b takes the claim over")
		if err := done(t, s, key, "a", succeeded); !errors.Is(err, delivery.ErrClaimLost) {
			t.Errorf("a's late Done(%t) while b holds the claim: got %v, want ErrClaimLost", succeeded, err)
		}
		want(t, begin(t, s, key, "c", lease), delivery.Busy, "b still holds the claim")
		if err := done(t, s, key, "b", true); err != nil {
			t.Fatalf("b's Done: %v", err)
		}
		want(t, begin(t, s, key, "c", lease), delivery.Done, "after b's success")
	}
}

// lateReleased: an outcome reported after another copy took the delivery
// over and failed counts, as if no copy had taken it over.
func lateReleased(t *testing.T, s store, h Harness, _ time.Duration) {
	for _, succeeded := range []bool{true, false} {
		key := newKey(t)
		want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
		endLease(t, h, key)
		want(t, begin(t, s, key, "b", lease), delivery.New, "b takes the claim over")
		if err := done(t, s, key, "b", false); err != nil {
			t.Fatalf("b's Done(failure): %v", err)
		}
		if err := done(t, s, key, "a", succeeded); err != nil {
			t.Errorf("a's late Done(%t) after b released the claim: %v", succeeded, err)
		}
		if succeeded {
			want(t, begin(t, s, key, "c", lease), delivery.Done, "a's late success is recorded")
		} else {
			want(t, begin(t, s, key, "c", lease), delivery.New, "the key is free")
		}
	}
}

// takeover: a claim whose lease ran out goes to the next copy, and the
// late owner's Done changes nothing.
func takeover(t *testing.T, s store, h Harness, _ time.Duration) {
	key := newKey(t)
	if h.Advance != nil {
		want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
		h.Advance(lease - time.Millisecond)
		want(t, begin(t, s, key, "b", lease), delivery.Busy, "just before the lease ends")
		h.Advance(time.Millisecond)
		want(t, begin(t, s, key, "b", lease), delivery.New, "at the lease end, b takes over")
	} else {
		start := time.Now()
		want(t, begin(t, s, key, "a", realLease), delivery.New, "first Begin")
		poll(t, "b takes the claim over", func() bool {
			return begin(t, s, key, "b", lease) == delivery.New
		})
		if took := time.Since(start); took < realLease {
			t.Errorf("b took the claim over after %v, before the %v lease ended", took, realLease)
		}
	}
	if err := done(t, s, key, "a", true); !errors.Is(err, delivery.ErrClaimLost) {
		t.Errorf("a's late Done: got %v, want ErrClaimLost", err)
	}
	want(t, begin(t, s, key, "c", lease), delivery.Busy, "a's late Done changed nothing: b holds the claim")
	if err := done(t, s, key, "b", false); err != nil {
		t.Fatalf("b's Done(failure): %v", err)
	}
	want(t, begin(t, s, key, "c", lease), delivery.New, "after b's failure")
	if err := done(t, s, key, "c", true); err != nil {
		t.Fatalf("c's Done: %v", err)
	}
	want(t, begin(t, s, key, "d", lease), delivery.Done, "after c's success")
}

func rememberedUntilTTL(t *testing.T, s store, h Harness, ttl time.Duration) {
	key := newKey(t)
	want(t, begin(t, s, key, "a", lease), delivery.New, "first Begin")
	start := time.Now()
	if err := done(t, s, key, "a", true); err != nil {
		t.Fatalf("Done: %v", err)
	}
	if h.Advance != nil {
		h.Advance(ttl - time.Millisecond)
		want(t, begin(t, s, key, "b", lease), delivery.Done, "just before the TTL")
		h.Advance(time.Millisecond)
		want(t, begin(t, s, key, "b", lease), delivery.New, "at the TTL")
		return
	}
	want(t, begin(t, s, key, "b", lease), delivery.Done, "right after the success")
	poll(t, "the success is forgotten", func() bool {
		return begin(t, s, key, "b", lease) == delivery.New
	})
	if took := time.Since(start); took < ttl {
		t.Errorf("forgotten after %v, before the %v TTL", took, ttl)
	}
}

func concurrentCopies(t *testing.T, s store, h Harness, _ time.Duration) {
	key := newKey(t)
	const copies = 100
	var runs atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, copies)
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("copy-", i)
			for {
				state, err := s.Begin(context.Background(), key, owner, lease)
				if err != nil {
					errs <- err
					return
				}
				switch state {
				case delivery.New:
					runs.Add(1)
					if err := s.Done(context.Background(), key, owner, true); err != nil {
						errs <- err
					}
					return
				case delivery.Done:
					return
				}
				time.Sleep(time.Millisecond) // Busy: a tiny wait, as Merge waits before a retry
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("%d copies were granted the claim, want 1", n)
	}
}

func badArguments(t *testing.T, s store, h Harness, _ time.Duration) {
	for _, tc := range []struct {
		key, owner string
		lease      time.Duration
	}{
		{"", "a", lease},
		{newKey(t), "", lease},
		{newKey(t), "a", 0},
	} {
		if _, err := s.Begin(context.Background(), tc.key, tc.owner, tc.lease); err == nil {
			t.Errorf("Begin(%q, %q, %v) succeeded, want an error", tc.key, tc.owner, tc.lease)
		}
	}
}

// poll calls cond until it is true, with tiny waits, for up to 10s.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
