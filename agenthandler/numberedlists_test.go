package agenthandler_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// numberedList is one of agenthandler's page-numbered lists. They all read
// through one loop, and each must pass the tests of this file.
type numberedList struct {
	path  string                          // below /api/v1, with its trailing slash
	serve func(*testing.T, *fixture, int) // serves that many pages of two items
	item  map[string]any                  // the JSON of one item
	read  func(*fixture) iter.Seq[error]  // the list, one error (nil for an item) a step
}

var numberedLists = map[string]numberedList{
	"ListRegisteredUsers": {"registered-users/", listServer, userJSON(userID, "u"), func(f *fixture) iter.Seq[error] {
		return errorsOf(f.ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{}))
	}},
	"ListConnectors": {"connectors/", connectorPages, connectorJSON("linear"), func(f *fixture) iter.Seq[error] {
		return errorsOf(f.ah.ListConnectors(context.Background(), agenthandler.ListConnectorsParams{}))
	}},
}

func errorsOf[T any](seq iter.Seq2[T, error]) iter.Seq[error] {
	return func(yield func(error) bool) {
		for _, err := range seq {
			if !yield(err) {
				return
			}
		}
	}
}

func TestNumberedListsStopWhenTheLoopDoes(t *testing.T) {
	t.Parallel()
	for name, l := range numberedLists {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			l.serve(t, f, 5)
			n := 0
			for err := range l.read(f) {
				require.NoError(t, err)
				if n++; n == 3 {
					break
				}
			}
			assert.Equal(t, int64(2), f.requests(), "no page is read past the break")
		})
	}
}

// A next link to another host would carry the API key there: it is not
// followed, nor is one that is not a URL.
func TestNumberedListsRefuseNextOffHost(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Add(1) }))
	t.Cleanup(other.Close)
	for list, l := range numberedLists {
		page2 := "/base/api/v1/" + l.path + "?page=2"
		for name, nextOf := range map[string]func(f *fixture) string{
			"other host":      func(*fixture) string { return other.URL + page2 },
			"other scheme":    func(f *fixture) string { return strings.Replace(f.url, "http://", "https://", 1) + page2 },
			"user info":       func(f *fixture) string { return strings.Replace(f.url, "http://", "http://user:pw@", 1) + page2 },
			"scheme-relative": func(*fixture) string { return strings.TrimPrefix(other.URL, "http:") + page2 },
			"not a URL":       func(*fixture) string { return "http://[::1/" + l.path },
		} {
			t.Run(fmt.Sprintf("%s/%s", list, name), func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				next := nextOf(f)
				f.mux.HandleFunc("GET /api/v1/"+l.path+"{$}", func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": next, "results": []any{l.item}})
				})
				var items int
				var errs []error
				for err := range l.read(f) {
					if err != nil {
						errs = append(errs, err)
						continue
					}
					items++
				}
				assert.Equal(t, 1, items, "the first page is yielded")
				require.Len(t, errs, 1)
				assert.Contains(t, errs[0].Error(), "GET /"+l.path+": ")
				if name != "not a URL" {
					assert.Contains(t, errs[0].Error(), "not following the next page link")
				}
				assert.NotContains(t, errs[0].Error(), testAPIKey)
				assert.Equal(t, int64(1), f.requests())
			})
		}
	}
	t.Cleanup(func() { assert.Zero(t, leaked.Load(), "no request reached the other host") })
}

// A next link that does not parse is refused without showing what it may
// hold: an API key a server echoes into its user info, query or fragment.
func TestNumberedListsHideTheSecretsOfABadNextLink(t *testing.T) {
	t.Parallel()
	const secret = "sk_live_ECHOED"
	for list, l := range numberedLists {
		for _, next := range []string{
			"http://[::1/" + l.path + "?api_key=" + secret,
			"http://user:" + secret + "@[::1/" + l.path,
			"http://[::1/" + l.path + "#" + secret,
			"/base/api/v1/" + l.path + "?page=2&key=" + secret + "\x7f",
		} {
			t.Run(fmt.Sprintf("%s/%q", list, next), func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				f.mux.HandleFunc("GET /api/v1/"+l.path+"{$}", func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": next, "results": []any{l.item}})
				})
				var errs []error
				for err := range l.read(f) {
					if err != nil {
						errs = append(errs, err)
					}
				}
				require.Len(t, errs, 1)
				assert.Contains(t, errs[0].Error(), "is not a URL")
				assert.NotContains(t, errs[0].Error(), secret)
				assert.Equal(t, int64(1), f.requests())
			})
		}
	}
}
