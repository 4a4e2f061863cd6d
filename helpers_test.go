package mergelink_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mergelink/mergelink"
)

// testAPIKey is distinctive so that a test can assert it leaks nowhere.
const testAPIKey = "sk-test-7hK2-LEAKCHECK-api-key"

// setup starts a loopback server whose mux sees paths below a non-root
// base ("/base" is stripped), so a call that builds an absolute path instead
// of joining the base URL fails. Unified API paths start with /api/, Agent
// Handler paths with /ah/api/v1/. The client retries with tiny waits.
//
// The client sends through the server's own client, not
// http.DefaultTransport: every parallel test's httptest.Server.Close empties
// that shared pool, and a connection closed just after a bodyless answer
// (204, say) breaks a request the server already answered.
func setup(t *testing.T, opts ...mergelink.Option) (*mergelink.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle("/base/", http.StripPrefix("/base", mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base URL: %s %s", r.Method, r.URL)
		http.Error(w, "outside the base URL", http.StatusBadGateway)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	all := append([]mergelink.Option{
		mergelink.WithHTTPClient(srv.Client()),
		mergelink.WithBaseURL(srv.URL + "/base/api"),
		mergelink.WithAgentHandlerBaseURL(srv.URL + "/base/ah/api/v1"),
		mergelink.WithRetryWait(time.Millisecond, 4*time.Millisecond),
	}, opts...)
	c, err := mergelink.NewClient(testAPIKey, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux
}
