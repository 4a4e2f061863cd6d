package mergelink

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzNextCursor checks that the cursor read from any next link is the
// link itself when it is a bare cursor, and otherwise the link's cursor
// parameter, never empty: ListLinkedAccounts sends only that cursor, to its
// own base URL. Seeds are in testdata/fuzz/FuzzNextCursor.
func FuzzNextCursor(f *testing.F) {
	f.Add("https://api.merge.dev/api/hris/v1/linked-accounts?cursor=cD0yMDIx&page_size=5")
	f.Add("cD0yMDIx")
	f.Fuzz(func(t *testing.T, next string) {
		cursor, err := nextCursor(&next)
		switch {
		case next == "":
			if cursor != "" || err != nil {
				t.Fatalf("empty next link: %q, %v", cursor, err)
			}
		case !strings.Contains(next, "?"):
			if cursor != next || err != nil {
				t.Fatalf("bare cursor %q read as %q, %v", next, cursor, err)
			}
		case err == nil:
			u, perr := url.Parse(next)
			if perr != nil || cursor == "" || cursor != u.Query().Get("cursor") {
				t.Fatalf("next link %q: cursor %q, not its cursor parameter", next, cursor)
			}
		}
	})
}
