package agenthandler

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzNextPage checks that a next page link is followed only to the Agent
// Handler host, as the request to it is built (it carries the API key),
// and that a page has one name however the link spells it, so that a
// link back to a page read before is seen as a cycle. Seeds are in
// testdata/fuzz/FuzzNextPage.
func FuzzNextPage(f *testing.F) {
	f.Add("https://ah-api.merge.dev/api/v1/registered-users/?page=2")
	f.Add("/api/v1/registered-users/?page=3")
	f.Add("/api/v1/registered-users/?page_size=5&page=3#x")
	f.Fuzz(func(t *testing.T, next string) {
		base, err := url.Parse("https://ah-api.merge.dev/api/v1")
		if err != nil {
			t.Fatal(err)
		}
		key := pageName(base, next)
		if _, err := onAgentHost(base, "/registered-users/", key); err != nil {
			return
		}
		if again := pageName(base, key); again != key {
			t.Fatalf("next %q names its page %q, then %q", next, key, again)
		}
		req, err := http.NewRequest(http.MethodGet, key, nil)
		if err != nil {
			t.Fatalf("next %q: %q is no request URL: %v", next, key, err)
		}
		if req.URL.Scheme != "https" || !strings.EqualFold(req.URL.Host, "ah-api.merge.dev") || req.URL.User != nil {
			t.Fatalf("next %q: %q leaves the Agent Handler host: %s://%s", next, key, req.URL.Scheme, req.URL.Host)
		}
	})
}

// FuzzNextPageError checks that refusing a next page link never shows a
// secret a server may echo into it: in its user info, query or fragment,
// whether the link parses or not.
func FuzzNextPageError(f *testing.F) {
	f.Add("https://ah-api.merge.dev/api/v1/registered-users/")
	f.Add("http://[::1/registered-users/")
	f.Add("https://other.example/x")
	f.Fuzz(func(t *testing.T, link string) {
		const secret = "SECRETVALUE"
		if strings.Contains(link, secret) {
			return
		}
		base, err := url.Parse("https://ah-api.merge.dev/api/v1")
		if err != nil {
			t.Fatal(err)
		}
		for _, next := range []string{link + "?key=" + secret, link + "#" + secret, "https://u:" + secret + "@" + link} {
			_, err := onAgentHost(base, "/registered-users/", pageName(base, next))
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("next %q: the error shows the secret: %v", next, err)
			}
		}
	})
}
