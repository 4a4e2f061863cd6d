package mergelink

import (
	"context"
	"errors"
	"iter"
	"maps"
	"net/http"
	"net/url"

	"github.com/mergelink/mergelink/internal/paging"
	"github.com/mergelink/mergelink/internal/transport"
)

// cursorList reads a Unified API cursor list, {next, previous, results},
// page after page through internal/paging, from endpoint (an absolute URL
// without a query) with the query q, whose cursor, if any, names the first
// page. path names the list in errors. Only bare next cursors are followed,
// as ?cursor= of the same endpoint: a next that is not one (a URL, say)
// ends the list, after the items of its page, with a *DecodeError, so
// nothing is ever sent to another host. A page without a results list is
// a *DecodeError too.
func cursorList[T any](ctx context.Context, t *transport.Transport, endpoint, path string, q url.Values, header http.Header) iter.Seq2[T, error] {
	q = maps.Clone(q)
	if q == nil {
		q = url.Values{}
	}
	first := q.Get("cursor")
	status := 0
	wrap := func(err error) error {
		return &DecodeError{Method: http.MethodGet, Path: path, StatusCode: status, Err: err}
	}
	fetch := func(cursor string) ([]T, string, error) {
		if cursor != first {
			// cursor is the previous page's next. It is not shown: a
			// server could echo a secret in it.
			if !isBareCursor(cursor) {
				return nil, "", wrap(errors.New("the next field is not a bare cursor as Merge sends it (a URL, say): the server is at fault, and it is not followed"))
			}
			q.Set("cursor", cursor)
		}
		u := endpoint
		if enc := q.Encode(); enc != "" {
			u += "?" + enc
		}
		var page struct {
			Next    *string `json:"next"`
			Results *[]T    `json:"results"`
		}
		var err error
		status, err = t.Do(ctx, &transport.Request{Method: http.MethodGet, URL: u, Path: path, Header: header}, &page)
		if err != nil {
			return nil, "", err
		}
		if page.Results == nil {
			return nil, "", wrap(errors.New("the page has no results list"))
		}
		next := ""
		if page.Next != nil {
			next = *page.Next
		}
		return *page.Results, next, nil
	}
	return paging.Seq(first, fetch, wrap)
}
