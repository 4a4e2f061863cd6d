package agenthandler

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"github.com/google/go-querystring/query"

	"github.com/mergelink/mergelink/internal/validate"
)

// fetch sends one request once v, the call's checker, holds no problem,
// and decodes the 2xx body into a new T. A call that fails validation
// sends nothing.
func fetch[T any](ctx context.Context, c *Client, v *validate.Checker, method, path string, body any) (*T, error) {
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out T
	if _, err := c.do(ctx, method, path, "", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// exec is fetch for a call whose answer has no body of use.
func exec(ctx context.Context, c *Client, v *validate.Checker, method, path string, body any) error {
	if err := v.Err(); err != nil {
		return err
	}
	_, err := c.do(ctx, method, path, "", body, nil)
	return err
}

// list returns an iterator over the page-numbered list at path, whose
// first page's query is params encoded by go-querystring, once v holds no
// problem; see listPages.
func list[T any](ctx context.Context, c *Client, v *validate.Checker, path string, params any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err := v.Err(); err != nil {
			yield(zero, err)
			return
		}
		q, err := query.Values(params)
		if err != nil {
			yield(zero, fmt.Errorf("mergelink: encoding the query of GET %s: %w", path, err))
			return
		}
		listPages[T](ctx, c, path, q.Encode())(yield)
	}
}

// Paging pages a page-numbered list. Zero fields are not sent.
type Paging struct {
	// Page is the first page to read, from 1.
	Page int `url:"page,omitempty"`
	// PageSize is how many items a page holds; Merge picks when it is 0.
	PageSize int `url:"page_size,omitempty"`
}

// Validate reports every problem of p: a negative Page or PageSize. It
// returns nil or a *ValidationError.
func (p Paging) Validate() error {
	c := validate.New("Paging")
	c.Page(p.Page, p.PageSize)
	return c.Err()
}

// checkID checks a UUID argument named name.
func checkID(v *validate.Checker, name, id string) {
	v.UTF8(name, id)
	v.Required(name, id)
	v.UUID(name, id)
}

// checkSlug checks a slug argument named name.
func checkSlug(v *validate.Checker, name, slug string) {
	v.UTF8(name, slug)
	v.Required(name, slug)
	v.Slug(name, slug)
}

// newChecker returns a checker for the call or params named name, holding
// the problems of p's strings and paging.
func newChecker(name string, p any) *validate.Checker {
	v := validate.New(name)
	v.Strings("", p)
	return v
}

// itoa is strconv.Itoa, for field names such as Connectors[2].
func itoa(i int) string { return strconv.Itoa(i) }
