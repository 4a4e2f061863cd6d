package agenthandler

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzNextPage checks that a next page link is followed only to the Agent
// Handler host, as the request to it is built (it carries the API key),
// and only once. Seeds are in testdata/fuzz/FuzzNextPage.
func FuzzNextPage(f *testing.F) {
	f.Add("https://ah-api.merge.dev/api/v1/registered-users/?page=2")
	f.Add("/api/v1/registered-users/?page=3")
	f.Fuzz(func(t *testing.T, next string) {
		base, err := url.Parse("https://ah-api.merge.dev/api/v1")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		got, err := nextPage(base, next, seen)
		if err != nil {
			return
		}
		req, err := http.NewRequest(http.MethodGet, got, nil)
		if err != nil {
			t.Fatalf("nextPage(%q) = %q, which is no request URL: %v", next, got, err)
		}
		if req.URL.Scheme != "https" || !strings.EqualFold(req.URL.Host, "ah-api.merge.dev") || req.URL.User != nil {
			t.Fatalf("nextPage(%q) = %q leaves the Agent Handler host: %s://%s", next, got, req.URL.Scheme, req.URL.Host)
		}
		if _, err := nextPage(base, next, seen); err == nil {
			t.Fatalf("nextPage(%q) followed twice", next)
		}
	})
}
