// Package paging is the one loop that reads a paginated Merge list, page
// after page, for every iterator of the module. It stops a server that
// sends a page it sent before (a cycle) or more pages than any real list
// holds, so that a misbehaving server cannot keep an authenticated loop
// going while the caller, who sees no item, cannot break it.
package paging

import (
	"errors"
	"fmt"
	"iter"
)

// MaxPages bounds every listing. At Merge's largest page sizes it is more
// than a million items, far beyond any real list of accounts, users or
// records read through one iterator.
const MaxPages = 10000

// Errors that end a listing whose server misbehaves. Callers wrap them
// (in a *DecodeError, say) with the method and path.
var (
	// ErrCycle: the next page named is one already read.
	ErrCycle = errors.New("the server's next page is one already read (its pages form a cycle)")
	// ErrTooManyPages: the list went past MaxPages pages.
	ErrTooManyPages = fmt.Errorf("the list goes on past %d pages, more than any real list holds", MaxPages)
)

// Fetch reads the page named by token and returns its items and the token
// of the page after it, or "" after the last page. A token is whatever
// names a page in the API at hand: a cursor, or a next URL. Fetch checks a
// token it is given before using it (that it is a bare cursor, or stays on
// the API host) and returns an error to end the listing.
type Fetch[T any] func(token string) (items []T, next string, err error)

// Seq returns an iterator over the items of a list whose first page is
// named by first. A failure ends the loop with one error and a zero item:
// fetch's own error as it is, or ErrCycle or ErrTooManyPages passed
// through wrap (which may be nil) when the server misbehaves. Breaking out
// of the loop reads no further page.
func Seq[T any](first string, fetch Fetch[T], wrap func(error) error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := map[string]struct{}{first: {}}
		token := first
		for pages := 1; ; pages++ {
			items, next, err := fetch(token)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			switch _, again := seen[next]; {
			case again:
				err = ErrCycle
			case pages >= MaxPages:
				err = ErrTooManyPages
			}
			if err != nil {
				if wrap != nil {
					err = wrap(err)
				}
				yield(zero, err)
				return
			}
			seen[next] = struct{}{}
			token = next
		}
	}
}
