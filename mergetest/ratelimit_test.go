package mergetest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/mergetest"
)

// WithRateLimits: a Linked Account's requests beyond the limit in a minute
// are answered 429 with Retry-After, as at Merge, and pass again once the
// minute has gone by; another account is not held up. Without the option
// nothing is limited.
func TestRateLimitPerAccount(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	srv, _, acct := linked(t, "hris", "bamboohr", mergetest.WithClock(clk.Now), mergetest.WithRateLimits(3))
	details := func(token string) answer {
		return send(t, srv, http.MethodGet, "/api/hris/v1/account-details", "", mergetest.AccountTokenHeader, token)
	}
	for i := range 3 {
		require.Equal(t, http.StatusOK, details(acct.AccountToken).status, "request %d", i)
	}
	clk.Advance(20 * time.Second)
	a := details(acct.AccountToken)
	require.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "40", a.header.Get("Retry-After"), "the first request leaves the window 40 s from now")

	lt := newLinkToken(t, srv, map[string]any{"categories": []string{"hris"}, "end_user_origin_id": "other"})
	other, err := srv.CompleteLink(lt, "bamboohr")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, details(other.AccountToken).status, "another account has its own limit")

	clk.Advance(41 * time.Second)
	assert.Equal(t, http.StatusOK, details(acct.AccountToken).status, "the minute went by")

	plain, _, plainAcct := linked(t, "hris", "bamboohr")
	for i := range 20 {
		a := send(t, plain, http.MethodGet, "/api/hris/v1/account-details", "", mergetest.AccountTokenHeader, plainAcct.AccountToken)
		require.Equal(t, http.StatusOK, a.status, "request %d without WithRateLimits", i)
	}
}

// WithRateLimits: more than 20 failing requests (not 429) in 10 s from one
// IP block it, as WIRE.md says of Merge: retrying a 401 gets the client
// throttled. The block lifts once the failures leave the window.
func TestRateLimitBlocksAnIPAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	srv := mergetest.NewTestServer(t, mergetest.WithClock(clk.Now), mergetest.WithRateLimits(100))
	plain := mergetest.NewTestServer(t)
	list := func(srv *mergetest.Server, key string) answer {
		return send(t, srv, http.MethodGet, "/api/hris/v1/linked-accounts", "", "Authorization", "Bearer "+key)
	}
	for i := range mergetest.MaxFailuresPerIP {
		require.Equal(t, http.StatusUnauthorized, list(srv, "wrong-key").status, "failure %d", i)
		require.Equal(t, http.StatusUnauthorized, list(plain, "wrong-key").status)
		clk.Advance(100 * time.Millisecond)
	}
	assert.Equal(t, http.StatusOK, list(srv, srv.APIKey()).status, "20 failures are allowed")
	require.Equal(t, http.StatusUnauthorized, list(srv, "wrong-key").status, "the 21st failure")
	a := list(srv, srv.APIKey())
	require.Equal(t, http.StatusTooManyRequests, a.status, "blocked, the right key included")
	assert.Equal(t, "8", a.header.Get("Retry-After"), "the first failure leaves the window in 8 s")
	assert.Equal(t, http.StatusTooManyRequests, list(srv, srv.APIKey()).status, "a 429 does not count, but the block holds")

	clk.Advance(8 * time.Second)
	assert.Equal(t, http.StatusOK, list(srv, srv.APIKey()).status, "the window moved on")
	assert.Equal(t, http.StatusOK, list(plain, plain.APIKey()).status, "without WithRateLimits, no block")
}
