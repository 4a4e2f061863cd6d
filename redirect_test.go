package mergelink_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// witness is a loopback server that records every request it gets: where
// a redirect points, which must never be reached.
type witness struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
}

func newWitness(t *testing.T, tls bool) *witness {
	t.Helper()
	rec := &witness{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.seen = append(rec.seen, fmt.Sprintf("%s %s Authorization=%q Idempotency-Key=%q body=%q",
			r.Method, r.URL, r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key"), body))
		reply(w, http.StatusCreated, `{"link_token":"lt-from-the-redirect","account_token":"at","integration":{"slug":"x"}}`)
	})
	if tls {
		rec.srv = httptest.NewTLSServer(h)
	} else {
		rec.srv = httptest.NewServer(h)
	}
	t.Cleanup(rec.srv.Close)
	return rec
}

// take returns and forgets the requests recorded so far.
func (rec *witness) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := rec.seen
	rec.seen = nil
	return seen
}

// The client follows no redirect, on any call of either API, whatever the
// status and wherever it points: the API key, the body and the
// Idempotency-Key never reach the target, a POST is never turned into a
// GET, and the caller gets an *APIError saying where the redirect pointed,
// with its user info, query and fragment masked. The caller's http.Client is left as it was.
func TestRedirectsAreNotFollowed(t *testing.T) {
	plain, secure := newWitness(t, false), newWitness(t, true)
	port := func(s *httptest.Server) string { return s.URL[strings.LastIndex(s.URL, ":")+1:] }

	// The caller's client trusts the TLS witness, so that a followed
	// redirect to it would arrive.
	tr := secure.srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	check := func(*http.Request, []*http.Request) error { return nil } // follow anything
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: check}
	before := *hc

	var mu sync.Mutex
	var status int
	var location string
	c, mux := setup(t, mergelink.WithHTTPClient(hc))
	redirect := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Location", location)
		w.WriteHeader(status)
	}
	mux.HandleFunc("/api/", redirect)
	mux.HandleFunc("/ah/", redirect)
	mux.HandleFunc("/elsewhere/", func(w http.ResponseWriter, r *http.Request) {
		plain.srv.Config.Handler.ServeHTTP(w, r) // the same server, another path: recorded too
	})
	ah := c.AgentHandler()

	targets := []struct{ name, url, want string }{
		{"same host, other port", plain.srv.URL + "/x?api_key=s3cret", plain.srv.URL + "/x?***"},
		{"same host, other scheme and port", secure.srv.URL + "/x?token=s3cret#frag", secure.srv.URL + "/x?***#***"},
		{"other host", "http://localhost:" + port(plain.srv) + "/x?s3cret", "http://localhost:" + port(plain.srv) + "/x?***"},
		{"same server, other path", "/base/elsewhere/x?q=s3cret", "/base/elsewhere/x?***"},
		{"user info", "http://user:s3cret@localhost:" + port(plain.srv) + "/x", "http://***@localhost:" + port(plain.srv) + "/x"},
	}
	calls := []struct {
		name, method, path string
		call               func(context.Context) error
	}{
		{"Unified POST", http.MethodPost, "/hris/v1/link-token", func(ctx context.Context) error {
			_, err := c.CreateLinkToken(ctx, minimalLinkTokenParams())
			return err
		}},
		{"Unified GET", http.MethodGet, "/hris/v1/account-token/{public_token}", func(ctx context.Context) error {
			_, err := c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, publicToken)
			return err
		}},
		{"Agent Handler POST", http.MethodPost, "", func(ctx context.Context) error {
			_, err := ah.CreateLinkToken(ctx, leakUserID, agenthandler.LinkTokenParams{Connector: "linear"})
			return err
		}},
		{"Agent Handler GET", http.MethodGet, "", func(ctx context.Context) error {
			_, err := ah.GetRegisteredUser(ctx, leakUserID)
			return err
		}},
	}
	for code := 300; code <= 308; code++ {
		for _, target := range targets {
			for _, call := range calls {
				mu.Lock()
				status, location = code, target.url
				mu.Unlock()
				what := fmt.Sprintf("%d to %s, %s", code, target.name, call.name)
				err := call.call(context.Background())
				var ae *mergelink.APIError
				if !assert.ErrorAs(t, err, &ae, what) {
					continue
				}
				var aae *agenthandler.APIError
				assert.ErrorAs(t, err, &aae, "one type for both packages")
				assert.Equal(t, code, ae.StatusCode, what)
				assert.Equal(t, target.want, ae.Location, what)
				assert.Equal(t, 1, ae.Attempts, "%s: a redirect is not retried", what)
				assert.Equal(t, call.method, ae.Method, what)
				if call.path != "" {
					assert.Equal(t, call.path, ae.Path, what)
				}
				assert.Contains(t, err.Error(), fmt.Sprintf("redirect to %q not followed", target.want), what)
				assert.NotContains(t, err.Error(), "s3cret", what)
				assert.NotContains(t, err.Error(), testAPIKey, what)
				assert.Empty(t, plain.take(), "%s: the target was reached", what)
				assert.Empty(t, secure.take(), "%s: the target was reached", what)
			}
		}
	}
	assert.Equal(t, before.Transport, hc.Transport)
	assert.Equal(t, before.Timeout, hc.Timeout)
	assert.Equal(t, fmt.Sprintf("%p", before.CheckRedirect), fmt.Sprintf("%p", hc.CheckRedirect), "the caller's CheckRedirect is kept")
	assert.Nil(t, hc.Jar)

	// The witnesses do record: a request sent to them directly arrives.
	for _, w := range []*witness{plain, secure} {
		resp, err := w.srv.Client().Get(w.srv.URL + "/probe")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Len(t, w.take(), 1)
	}
}
