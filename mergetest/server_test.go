package mergetest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	srv.FailNext(2, http.StatusTooManyRequests, "3")
	for range 2 {
		a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, nil))
		assert.Equal(t, http.StatusTooManyRequests, a.status)
		assert.Equal(t, "3", a.header.Get("Retry-After"))
		assert.Contains(t, a.json(t)["detail"], "429")
	}
	a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, nil))
	assert.Equal(t, http.StatusOK, a.status, "only the next two fail")
	assert.Empty(t, a.header.Get("Retry-After"))

	srv.FailNext(1, http.StatusServiceUnavailable, "")
	a = send(t, srv, "GET", ah+"/registered-users/", "")
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Empty(t, a.header.Get("Retry-After"))
	assert.Equal(t, "service_unavailable", agentErr(t, a), "Agent Handler's error shape")

	srv.FailNext(1, http.StatusBadGateway, "")
	a = send(t, srv, "GET", "/api/ats/v1/linked-accounts", "", "Authorization", "")
	assert.Equal(t, http.StatusBadGateway, a.status, "a fault comes before the key check, as from a proxy")

	srv.FailNext(5, http.StatusInternalServerError, "")
	srv.FailNext(0, http.StatusInternalServerError, "")
	assert.Equal(t, http.StatusOK, send(t, srv, "GET", "/api/ats/v1/linked-accounts", "").status, "n = 0 cancels")

	assert.Panics(t, func() { srv.FailNext(1, http.StatusOK, "") })
}

// A client made with ClientOptions waits for FailNext's Retry-After no
// longer than MaxClientRetryWait: under a deadline far shorter than the
// hour asked for, its retries still run (a wait past the deadline would not
// be started), while the error still carries the hour asked for.
func TestFailNextRetryAfterBoundedByClientOptions(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	params := mergelink.LinkTokenParams{
		EndUserEmailAddress: "jane@example.com", EndUserOrganizationName: "Org", EndUserOriginID: "o1",
		Categories: []mergelink.Category{mergelink.CategoryATS},
	}
	for _, retryAfter := range []string{"3600", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)} {
		srv.FailNext(2, http.StatusServiceUnavailable, retryAfter)
		_, err = c.CreateLinkToken(ctx, params)
		require.NoError(t, err, "retried after %q within the deadline", retryAfter)

		srv.FailNext(10, http.StatusTooManyRequests, retryAfter)
		_, err = c.CreateLinkToken(ctx, params)
		var ae *mergelink.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusTooManyRequests, ae.StatusCode)
		assert.InDelta(t, time.Hour, ae.RetryAfter, float64(time.Minute), "the header is sent as given")
		srv.FailNext(0, http.StatusTooManyRequests, "")
	}

	// Without ClientOptions' cap, the same Retry-After would outlast the
	// deadline: the call gives up at once rather than wait.
	slow, err := mergelink.NewClient(srv.APIKey(), append(srv.ClientOptions(), mergelink.WithMaxRetryAfter(time.Hour))...)
	require.NoError(t, err)
	srv.FailNext(1, http.StatusServiceUnavailable, "3600")
	_, err = slow.CreateLinkToken(ctx, params)
	var ae *mergelink.APIError
	require.ErrorAs(t, err, &ae, "an option after ClientOptions wins")
	assert.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
}

func TestFailNextThenIdempotentRetry(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	const key = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
	srv.FailNext(1, http.StatusServiceUnavailable, "")
	a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, nil), "Idempotency-Key", key)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	first := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, nil), "Idempotency-Key", key)
	assert.Equal(t, http.StatusOK, first.status, "the failed try kept nothing under the key")
	again := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, nil), "Idempotency-Key", key)
	assert.Equal(t, first.body, again.body)
}

func TestRequestsAreRecorded(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	body := linkBody(t, nil)
	send(t, srv, "POST", "/api/ats/v1/link-token", body, "Idempotency-Key", "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b")
	send(t, srv, "GET", "/api/hris/v1/linked-accounts?page_size=5&category=hris", "", "Authorization", "Bearer wrong")
	page(t, "GET", srv.URL()+"/link/whatever", nil) // a hosted page: not an API request

	rs := srv.Requests()
	require.Len(t, rs, 2)
	assert.Equal(t, "POST", rs[0].Method)
	assert.Equal(t, "/api/ats/v1/link-token", rs[0].Path)
	assert.JSONEq(t, body, string(rs[0].Body))
	assert.Equal(t, "Bearer "+mergetest.TestAPIKey, rs[0].Header.Get("Authorization"))
	assert.Equal(t, "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b", rs[0].Header.Get("Idempotency-Key"))
	assert.Equal(t, "GET", rs[1].Method)
	assert.Equal(t, "/api/hris/v1/linked-accounts", rs[1].Path)
	assert.Equal(t, "5", rs[1].Query.Get("page_size"))
	assert.Equal(t, "hris", rs[1].Query.Get("category"))
	assert.Empty(t, rs[1].Body)
	assert.Contains(t, rs[1].String(), "GET /api/hris/v1/linked-accounts")

	for _, format := range []string{"%v", "%+v", "%#v", "%d", "%t", "%x"} {
		assert.NotContains(t, fmt.Sprintf(format, rs[0]), mergetest.TestAPIKey, format)
		assert.Equal(t, rs[0].String(), fmt.Sprintf(format, rs[0]), format)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("requests", "first", rs[0], "all", rs)
	assert.NotContains(t, logs.String(), mergetest.TestAPIKey, "a JSON log leaves the Authorization header out")
	assert.Contains(t, logs.String(), `"Idempotency-Key":["6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"]`, "and keeps the other headers")
	assert.Equal(t, "Bearer "+mergetest.TestAPIKey, rs[0].Header.Get("Authorization"), "the request itself keeps it")

	// The copies are the caller's own.
	rs[0].Header.Set("Authorization", "changed")
	rs[0].Body[0] = 'X'
	rs[1].Query.Set("page_size", "99")
	again := srv.Requests()
	assert.Equal(t, "Bearer "+mergetest.TestAPIKey, again[0].Header.Get("Authorization"))
	assert.Equal(t, byte('{'), again[0].Body[0])
	assert.Equal(t, "5", again[1].Query.Get("page_size"))
}

func TestRequestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	a := send(t, srv, "POST", "/api/ats/v1/link-token", `{"x":"`+strings.Repeat("a", 1<<20)+`"}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, a.status)
}

func TestUnknownPathsAndMethods(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	a := send(t, srv, "GET", "/api/ats/v1/link-token", "")
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "Not found.", a.json(t)["detail"])
	a = send(t, srv, "GET", "/api/ats/v1/candidates", "")
	assert.Equal(t, http.StatusNotFound, a.status)
	a = send(t, srv, "GET", ah+"/no-such-things/", "")
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "not_found", agentErr(t, a))
}

func TestClientOptionsPointAClientAtTheServer(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	assert.Equal(t, srv.URL()+mergetest.UnifiedPath, c.BaseURL())
	assert.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"), srv.URL())
}

// TestClientOptionsKeepOffTheSharedPool checks that a client made with
// ClientOptions leaves no connection in http.DefaultTransport's pool: a
// request sent through that pool right after one of the client's finds
// none to reuse. (A parallel test's Close, which empties the shared pool,
// could only make this pass wrongly, never fail.)
func TestClientOptionsKeepOffTheSharedPool(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), mergelink.LinkTokenParams{EndUserOriginID: "u1", EndUserOrganizationName: "Acme", EndUserEmailAddress: "a@acme.test", Categories: []mergelink.Category{mergelink.CategoryHRIS}})
	require.NoError(t, err)

	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL()+"/api/hris/v1/linked-accounts", nil)
	require.NoError(t, err)
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.False(t, reused, "the client's connection was in http.DefaultTransport's pool")
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	for _, opt := range []mergetest.ServerOption{
		mergetest.WithAPIKey(""),
		mergetest.WithAPIKey("two words"),
		mergetest.WithWebhook("ftp://x", "k"),
		mergetest.WithWebhook("http://127.0.0.1:1/hook", ""),
		mergetest.WithWebhookRetryWait(0),
		mergetest.WithClock(nil),
	} {
		assert.Panics(t, func() { mergetest.NewServer(opt) })
	}
}

// TestConcurrentUse runs every kind of call at once; -race checks the
// locking. The goroutines report failures as errors, checked on the test's
// goroutine, since require may not stop a test from elsewhere.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithAllowedCallbackOrigins("https://myapp.com"))
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		body := linkBody(t, map[string]any{"end_user_origin_id": fmt.Sprint("c", i%3)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = concurrentJourney(srv, body, fmt.Sprint("u", i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "journey %d", i)
	}
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2*n)
	require.NoError(t, err)
	assert.Len(t, ds, 2*n)
	assert.Len(t, srv.LinkedAccounts(), 3, "relinks by origin id and category")
	assert.Len(t, srv.Requests(), 5*n)
}

// concurrentJourney is one goroutine's work in TestConcurrentUse: a link
// with linkBody completed and its account token exchanged, the accounts
// listed, and an Agent Handler link for a new registered user completed,
// with the server's accessors read in between. It returns the first thing
// that went wrong.
func concurrentJourney(srv *mergetest.Server, linkBody, userID string) error {
	var lt struct {
		LinkToken string `json:"link_token"`
	}
	if err := expectCall(srv, "POST", "/api/ats/v1/link-token", linkBody, http.StatusOK, &lt); err != nil {
		return err
	}
	la, err := srv.CompleteLink(lt.LinkToken, "greenhouse")
	if err != nil {
		return err
	}
	if err := expectCall(srv, "GET", "/api/ats/v1/account-token/"+la.PublicToken, "", http.StatusOK, nil); err != nil {
		return err
	}
	if err := expectCall(srv, "GET", "/api/ats/v1/linked-accounts?page_size=2", "", http.StatusOK, nil); err != nil {
		return err
	}
	srv.Requests()
	var u struct{ ID string }
	if err := expectCall(srv, "POST", ah+"/registered-users/", fmt.Sprintf(`{"origin_user_id":%q,"origin_user_name":"Yash"}`, userID), http.StatusCreated, &u); err != nil {
		return err
	}
	srv.LinkedAccounts()
	if err := expectCall(srv, "POST", ah+"/registered-users/"+u.ID+"/link-token/", `{"connector":"linear","callback_url":"https://myapp.com/cb","state":"s"}`, http.StatusCreated, &lt); err != nil {
		return err
	}
	to, err := srv.CompleteAgentLink(lt.LinkToken)
	if err != nil {
		return err
	}
	if !strings.Contains(to, "state=s") {
		return fmt.Errorf("the agent link redirects to %q, without the state", to)
	}
	srv.Deliveries()
	return nil
}

// No fmt verb prints the server's API key, link tokens, public tokens or
// account tokens, however the server is wrapped.
func TestServerFormatHidesSecrets(t *testing.T) {
	t.Parallel()
	const key = "sk-mergetest-secret-key-0123"
	srv := mergetest.NewTestServer(t, mergetest.WithAPIKey(key))
	pending := newLinkToken(t, srv, map[string]any{"end_user_origin_id": "pending"})
	used := newLinkToken(t, srv, nil)
	la, err := srv.CompleteLink(used, "lever")
	require.NoError(t, err)
	secrets := []string{key, pending, used, la.PublicToken, la.AccountToken}

	values := map[string]any{
		"pointer":        srv,
		"struct":         struct{ S *mergetest.Server }{srv},
		"slice":          []*mergetest.Server{srv},
		"map":            map[string]*mergetest.Server{"s": srv},
		"pointer in any": []any{srv},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%o", "%O", "%b", "%c", "%U", "%e", "%E", "%f", "%F", "%g", "%G", "%10v", "%-20s", "%+d", "%#x"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				assert.NotContains(t, out, s, "%s %s", name, verb)
			}
			assert.Contains(t, out, srv.URL(), "%s %s: the URL shows", name, verb)
		}
	}
	for _, out := range []string{fmt.Sprint(srv), fmt.Sprintln(srv), srv.String(), srv.GoString()} {
		for _, s := range secrets {
			assert.NotContains(t, out, s)
		}
	}
	var nilServer *mergetest.Server
	assert.Equal(t, "mergetest.Server(nil)", fmt.Sprint(nilServer))
}
