package mergetest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/mergetest"
)

// A fleet of three receivers, sharing one delivery store, gets the
// server's webhooks in turn through WithWebhookTargets; every one of 100
// recorded deliveries is then redelivered, byte for byte with its
// signature, and the fleet still processes each webhook exactly once.
func TestFleetProcessesEachRedeliveredWebhookOnce(t *testing.T) {
	t.Parallel()
	const key = "fleet-key"
	store, err := delivery.NewMemoryStore(delivery.MemoryOptions{})
	require.NoError(t, err)
	var mu sync.Mutex
	processed := map[string]int{}
	var hits [3]atomic.Int64
	urls := make([]string, 3)
	for i := range urls {
		h, err := mergelink.NewWebhookHandler(func(_ context.Context, ev *mergelink.WebhookEvent) error {
			mu.Lock()
			defer mu.Unlock()
			processed[ev.DeliveryKey()]++
			return nil
		}, []string{key}, mergelink.WithDuplicateStore(store))
		require.NoError(t, err)
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(rc.Close)
		urls[i] = rc.URL
	}
	srv := mergetest.NewTestServer(t, mergetest.WithWebhookTargets(key, urls...))
	lt := newLinkToken(t, srv, map[string]any{"categories": []string{"hris"}})
	acct, err := srv.CompleteLink(lt, "bamboohr") // linked and synced_initial
	require.NoError(t, err)
	for i := range 98 {
		require.NoError(t, srv.SendWebhook(acct.ID, "Employee.changed", map[string]any{"n": i}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := srv.WaitForDeliveries(ctx, 100)
	require.NoError(t, err)
	for _, d := range first {
		require.NoError(t, d.Err)
		require.NoError(t, srv.Redeliver(d.ID))
	}
	all, err := srv.WaitForDeliveries(ctx, 200)
	require.NoError(t, err)

	byPayload := map[string]mergetest.Delivery{}
	for _, d := range first {
		byPayload[string(d.Payload)] = d
	}
	for _, d := range all[100:] {
		orig, ok := byPayload[string(d.Payload)]
		require.True(t, ok, "a redelivery carries a recorded payload byte for byte")
		assert.NotEqual(t, orig.ID, d.ID)
		assert.Equal(t, orig.Header.Get(mergelink.SignatureHeader), d.Header.Get(mergelink.SignatureHeader), "the same signature")
		assert.Equal(t, http.StatusOK, d.StatusCode)
		assert.Equal(t, "application/json", d.Header.Get("Content-Type"), "every header sent is kept")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, processed, 100)
	for k, n := range processed {
		assert.Equal(t, 1, n, "delivery %s processed %d times", k, n)
	}
	for i := range hits {
		assert.Positive(t, hits[i].Load(), "receiver %d got deliveries", i)
	}
}

// Redeliver refuses an id no finished delivery has.
func TestRedeliverUnknown(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	assert.ErrorContains(t, srv.Redeliver("no-such-delivery"), "no finished delivery")
}

// WithMergeRetrySchedule: Merge's three attempts, its waits scaled by the
// factor; the default stays four quick attempts.
func TestMergeRetrySchedule(t *testing.T) {
	t.Parallel()
	var times []time.Time
	var mu sync.Mutex
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(rc.Close)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, "k"), mergetest.WithMergeRetrySchedule(0.0002))
	lt := newLinkToken(t, srv, map[string]any{"categories": []string{"hris"}})
	_, err := srv.CompleteLink(lt, "bamboohr")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ds, err := srv.WaitForDeliveries(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, mergetest.MergeDeliveryAttempts, ds[0].Attempts)
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(times), 3)
	assert.GreaterOrEqual(t, times[2].Sub(times[1]), time.Duration(float64(mergetest.MergeRetryWaits[1])*0.0002), "the second wait is the schedule's, scaled")

	assert.Panics(t, func() { mergetest.NewServer(mergetest.WithMergeRetrySchedule(0)) })
}
