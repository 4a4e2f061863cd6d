package mergelink

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzBareCursor checks that whatever next a server sends, the one
// ListLinkedAccounts follows (a bare cursor) goes back to the client's own
// host and path as the cursor parameter, unchanged, and that no URL is
// ever taken for a cursor. Seeds are in testdata/fuzz/FuzzBareCursor.
func FuzzBareCursor(f *testing.F) {
	f.Add("https://api.merge.dev/api/hris/v1/linked-accounts?cursor=cD0yMDIx&page_size=5")
	f.Add("cD0yMDIx")
	f.Add("a/b+c==%2F")
	f.Add("//evil.example/x")
	f.Fuzz(func(t *testing.T, next string) {
		if !isBareCursor(next) {
			return
		}
		if strings.Contains(next, "://") || strings.ContainsAny(next, "?#& \t\r\n") {
			t.Fatalf("%q taken for a bare cursor", next)
		}
		const base = "https://api.merge.dev/api/hris/v1/linked-accounts"
		q := url.Values{"page_size": {"5"}}
		q.Set("cursor", next)
		u, err := url.Parse(base + "?" + q.Encode())
		if err != nil {
			t.Fatalf("cursor %q: the URL does not parse: %v", next, err)
		}
		if u.Scheme+"://"+u.Host+u.Path != base || u.Query().Get("cursor") != next {
			t.Fatalf("cursor %q sent as %s", next, u)
		}
	})
}
