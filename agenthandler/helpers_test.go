package agenthandler_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// testAPIKey is distinctive so that a test can assert it leaks nowhere.
const testAPIKey = "sk-test-9Qz-AGENT-LEAKCHECK-key"

// userID is a registered user id in Merge's form.
const userID = "41f11808-5387-4be5-9af2-852a372d61e3"

// fixture is a client wired to a loopback server.
type fixture struct {
	ah *agenthandler.Client
	// mux sees the paths below the base URL's "/base" prefix, so the Agent
	// Handler's own paths start with /api/v1/ as on Merge's host.
	mux *http.ServeMux
	// url is the server's root URL.
	url  string
	sent atomic.Int64
}

// requests returns how many requests reached the server, wherever they
// went.
func (f *fixture) requests() int64 { return f.sent.Load() }

// setup starts a loopback server behind a non-root base path ("/base" is
// stripped), so a call that builds an absolute path instead of joining the
// base URL fails, and returns an Agent Handler client for it. The client
// retries with tiny waits.
//
// The client sends through the server's own client, not
// http.DefaultTransport: every parallel test's httptest.Server.Close empties
// that shared pool, and a connection closed just after a bodyless answer
// (204, say) breaks a request the server already answered.
func setup(t *testing.T, opts ...mergelink.Option) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux()}
	root := http.NewServeMux()
	root.Handle("/base/", http.StripPrefix("/base", f.mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base URL: %s %s", r.Method, r.URL)
		http.Error(w, "outside the base URL", http.StatusBadGateway)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.sent.Add(1)
		root.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	all := append([]mergelink.Option{
		mergelink.WithHTTPClient(srv.Client()),
		mergelink.WithAgentHandlerBaseURL(srv.URL + "/base/api/v1"),
		mergelink.WithRetryWait(time.Millisecond, 4*time.Millisecond),
	}, opts...)
	c, err := mergelink.NewClient(testAPIKey, all...)
	require.NoError(t, err)
	f.ah = c.AgentHandler()
	return f
}

// checkHeaders asserts what every Agent Handler request carries: the API key
// as a bearer token, the SDK's User-Agent, JSON, and no Idempotency-Key
// (that header is for Unified API POSTs).
func checkHeaders(t *testing.T, r *http.Request, withBody bool) {
	t.Helper()
	assert.Equal(t, "Bearer "+testAPIKey, r.Header.Get("Authorization"))
	assert.Contains(t, r.Header.Get("User-Agent"), "mergelink-go/")
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Empty(t, r.Header.Values("Idempotency-Key"))
	if withBody {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	}
}

// jsonBody decodes a request body as generic JSON, so that a test sees the
// wire names rather than the Go fields.
func jsonBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	data, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), "body %s", data)
	return m
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
