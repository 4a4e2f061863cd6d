package mergelink

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/mergelink/mergelink/internal/validate"
)

// FuzzUnifiedPath checks that every path Do and Paginate accept stays
// below the category's API on the base host, once a client or a server
// resolves it, dot segments and escapes included, and that a path they
// refuse shows as validate.QuoteURL shows a URL, or not at all.
func FuzzUnifiedPath(f *testing.F) {
	for _, seed := range []string{"employees", "employees/e1?expand=manager", "../x", "%2e%2e/x", "//evil", "a/./b", "a:b", "employees/%2F..%2F"} {
		f.Add(seed)
	}
	const base = "https://api.merge.dev/api/hris/v1/"
	f.Fuzz(func(t *testing.T, p string) {
		ck := validate.New("fuzz")
		rel, shown := checkUnifiedPath(ck, "path", p, true)
		var ve *ValidationError
		if errors.As(ck.Err(), &ve) {
			for _, pr := range ve.Problems {
				if pr.Value != "" && pr.Value != validate.QuoteURL(p) {
					t.Fatalf("%q: refused, showing %s, not what validate.QuoteURL shows", p, pr.Value)
				}
			}
			return
		}
		u, err := url.Parse(base + rel)
		if err != nil {
			t.Fatalf("%q: accepted, but %q is no URL: %v", p, base+rel, err)
		}
		if u.Scheme != "https" || u.Host != "api.merge.dev" || u.User != nil || u.Fragment != "" {
			t.Fatalf("%q: accepted, but goes to %s", p, u.Redacted())
		}
		unescaped, err := url.PathUnescape(u.EscapedPath())
		if err != nil {
			t.Fatalf("%q: accepted, but its path %q does not unescape: %v", p, u.EscapedPath(), err)
		}
		for _, clean := range []string{path.Clean(u.Path), path.Clean(unescaped)} {
			if clean != "/api/hris/v1" && !strings.HasPrefix(clean, "/api/hris/v1/") {
				t.Fatalf("%q: accepted, but resolves to %q", p, clean)
			}
		}
		if strings.Contains(shown, "?") {
			t.Fatalf("%q: errors would show its query: %q", p, shown)
		}
	})
}
