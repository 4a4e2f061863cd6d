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
// as ?cursor= of the same endpoint: a next that is a URL ends the list with
// a *DecodeError, so nothing is ever sent to another host.
func cursorList[T any](ctx context.Context, t *transport.Transport, endpoint, path string, q url.Values, header http.Header) iter.Seq2[T, error] {
	q = maps.Clone(q)
	if q == nil {
		q = url.Values{}
	}
	status := 0
	wrap := func(err error) error {
		return &DecodeError{Method: http.MethodGet, Path: path, StatusCode: status, Err: err}
	}
	fetch := func(cursor string) ([]T, string, error) {
		if cursor != "" {
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
		next, err := bareCursor(page.Next)
		if err != nil {
			return nil, "", wrap(err)
		}
		return *page.Results, next, nil
	}
	return paging.Seq(q.Get("cursor"), fetch, wrap)
}

// bareCursor returns the cursor of a page's next field, "" on the last
// page. Merge sends next as a bare cursor string ("cD0yMDIx..."); anything
// else (a URL, a path) is refused, never followed, by the rule
// ListLinkedAccounts follows (isBareCursor).
func bareCursor(next *string) (string, error) {
	if next == nil || *next == "" {
		return "", nil
	}
	if !isBareCursor(*next) {
		return "", errors.New("the next field is not a bare cursor as Merge sends it (a URL, say): the server is at fault, and it is not followed")
	}
	return *next, nil
}
