package agenthandler_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/paging"
)

// TestListRegisteredUsersEndsCycles: empty pages whose next links come
// back (A→B→A, a page naming itself, a page naming the first one, however
// the link spells it) end the listing with a *DecodeError after one request
// per page, instead of asking again and again while the caller, who sees
// no user, cannot break.
func TestListRegisteredUsersEndsCycles(t *testing.T) {
	t.Parallel()
	const users = "/base/api/v1/registered-users/"
	for _, tc := range []struct {
		name string
		// next maps the query asked for to the next link, a path below
		// the server's root URL (made absolute unless it starts with '?'
		// or is relative); every page is empty.
		next  map[string]string
		asked []string
	}{
		{"A to B to A", map[string]string{
			"page_size=5":        users + "?page=2&page_size=5",
			"page=2&page_size=5": users + "?page=3&page_size=5",
			"page=3&page_size=5": users + "?page_size=5&page=2", // its query in another order
		}, []string{"page_size=5", "page=2&page_size=5", "page=3&page_size=5"}},
		{"self-loop", map[string]string{
			"page_size=5":        users + "?page=2&page_size=5",
			"page=2&page_size=5": "?page=2&page_size=5", // relative
		}, []string{"page_size=5", "page=2&page_size=5"}},
		{"first page names itself", map[string]string{
			"page_size=5": users + "?page_size=5",
		}, []string{"page_size=5"}},
		{"back to the first page", map[string]string{
			"page_size=5":        users + "?page=2&page_size=5",
			"page=2&page_size=5": users + "?page_size=5#top",
		}, []string{"page_size=5", "page=2&page_size=5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, mergelink.WithMaxRetries(0))
			var mu sync.Mutex
			var asked []string
			f.mux.HandleFunc("GET /api/v1/registered-users/{$}", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				asked = append(asked, r.URL.RawQuery)
				n := len(asked)
				mu.Unlock()
				next, ok := tc.next[r.URL.RawQuery]
				switch {
				case n > 20: // a client that does not stop: end it, and fail the test
					writeJSON(w, http.StatusTeapot, map[string]string{"code": "still_asking"})
				case !ok:
					writeJSON(w, http.StatusNotFound, map[string]string{"code": "no_such_page"})
				default:
					if next[0] == '/' {
						next = f.url + next
					}
					writeJSON(w, http.StatusOK, map[string]any{"count": 0, "next": next, "results": []any{}})
				}
			})
			var errs []error
			for u, err := range f.ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{PageSize: 5}) {
				if err == nil {
					t.Errorf("a user from an empty page: %+v", u)
					continue
				}
				errs = append(errs, err)
			}
			require.Len(t, errs, 1)
			var de *mergelink.DecodeError
			require.ErrorAs(t, errs[0], &de)
			assert.ErrorIs(t, errs[0], paging.ErrCycle)
			assert.Equal(t, "/registered-users/", de.Path)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tc.asked, asked)
		})
	}
}
