package agentmcp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agentmcp"
)

// recorder is a loopback server that records every request it gets: where
// a redirect points, which must never be reached.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.seen = append(rec.seen, fmt.Sprintf("%s %s Authorization=%q body=%q", r.Method, r.URL, r.Header.Get("Authorization"), body))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// take returns and forgets the requests recorded so far.
func (rec *recorder) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := rec.seen
	rec.seen = nil
	return seen
}

// TestRedirectsAreNotFollowed checks that a session follows no redirect,
// at Connect or later, whatever the status, wherever it points and
// whatever the caller's http.Client would follow: the key and the request
// never reach the target, and the caller gets a *mergelink.APIError saying
// where the redirect pointed, masked; the next call after the server stops
// redirecting works.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	d := newDroppingServer(f)
	rec := newRecorder(t)
	port := rec.srv.URL[strings.LastIndex(rec.srv.URL, ":")+1:]

	var mu sync.Mutex
	var status int
	var location string
	f.srv.HandleMCP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code, loc := status, location
		mu.Unlock()
		if code == 0 {
			d.ServeHTTP(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", loc)
		w.WriteHeader(code)
	}))
	redirect := func(code int, loc string) {
		mu.Lock()
		defer mu.Unlock()
		status, location = code, loc
	}

	follow := func(*http.Request, []*http.Request) error { return nil } // follow anything
	hc := &http.Client{CheckRedirect: follow}
	opts := []agentmcp.Option{agentmcp.WithHTTPClient(hc)}
	ctx := context.Background()
	targets := []struct{ name, url, want string }{
		{"same host, other port", rec.srv.URL + "/mcp?api_key=s3cret", rec.srv.URL + "/mcp?***"},
		{"localhost, other port", "http://localhost:" + port + "/mcp#s3cret", "http://localhost:" + port + "/mcp#***"},
		{"user info", "http://user:s3cret@127.0.0.1:" + port + "/mcp", "http://***@127.0.0.1:" + port + "/mcp"},
		{"same server, other path", f.srv.URL() + "/elsewhere/mcp?s3cret", f.srv.URL() + "/elsewhere/mcp?***"},
		{"not a URL", "http://127.0.0.1:" + port + "/%zz?s3cret", ""},
	}
	check := func(what string, code int, want string, err error) {
		t.Helper()
		var apiErr *mergelink.APIError
		require.True(t, errors.As(err, &apiErr), "%s: %v", what, err)
		assert.Equal(t, code, apiErr.StatusCode, what)
		if want != "" {
			assert.Equal(t, want, apiErr.Location, what)
			assert.Contains(t, err.Error(), fmt.Sprintf("redirect to %q not followed", want), what)
		}
		for _, secret := range []string{"s3cret", testAPIKey} {
			assert.NotContains(t, err.Error(), secret, what)
		}
		assert.Empty(t, rec.take(), "%s: the target was reached", what)
	}

	for code := 300; code <= 308; code++ {
		for _, target := range targets {
			what := fmt.Sprintf("Connect, %d to %s", code, target.name)
			redirect(code, target.url)
			_, err := agentmcp.Connect(ctx, f.c, f.pack.ID(), f.userID, opts...)
			check(what, code, target.want, err)
		}
	}

	redirect(0, "")
	s, err := agentmcp.Connect(ctx, f.c, f.pack.ID(), f.userID, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, target := range targets {
			redirect(code, target.url)
			_, err := s.Call(ctx, "linear_create_issue", nil)
			check(fmt.Sprintf("Call, %d to %s", code, target.name), code, target.want, err)
			err = s.Refresh(ctx)
			check(fmt.Sprintf("Refresh, %d to %s", code, target.name), code, target.want, err)
		}
	}
	redirect(0, "")
	res, err := s.Call(ctx, "linear_create_issue", nil)
	require.NoError(t, err, "the session works once the server stops redirecting")
	assert.Equal(t, "created", res.Text())

	for _, r := range f.srv.Requests() {
		assert.NotContains(t, r.Path, "elsewhere", "a redirect to the same server was followed")
	}
	assert.Equal(t, fmt.Sprintf("%p", follow), fmt.Sprintf("%p", hc.CheckRedirect), "the caller's client is left as it was")
	// The recorder does record: a request sent to it directly arrives.
	resp, err := http.Get(rec.srv.URL + "/probe")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Len(t, rec.take(), 1)
}
