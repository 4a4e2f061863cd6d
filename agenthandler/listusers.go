package agenthandler

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-querystring/query"

	"github.com/mergelink/mergelink/internal/paging"
	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// ListRegisteredUsersParams filter and page ListRegisteredUsers. Zero fields
// are not sent.
type ListRegisteredUsersParams struct {
	// OriginUserID keeps only the user with this id of yours.
	OriginUserID string `url:"origin_user_id,omitempty"`
	// Page is the first page to read, from 1.
	Page int `url:"page,omitempty"`
	// PageSize is how many users a page holds; Merge picks when it is 0.
	PageSize int `url:"page_size,omitempty"`
}

// Validate reports every problem of p: a negative Page or PageSize, or an
// OriginUserID that is not valid UTF-8. It returns nil or a
// *ValidationError.
func (p ListRegisteredUsersParams) Validate() error {
	c := validate.New("ListRegisteredUsersParams")
	c.Strings("", p)
	if p.Page < 0 {
		c.Add("Page", "must be 1 or more, or 0 for the first page", fmt.Sprint(p.Page))
	}
	if p.PageSize < 0 {
		c.Add("PageSize", "must be 1 or more, or 0 for Merge's default", fmt.Sprint(p.PageSize))
	}
	return c.Err()
}

// usersPage is one page of GET /registered-users/.
type usersPage struct {
	Count   int              `json:"count"`
	Next    string           `json:"next"`
	Results []RegisteredUser `json:"results"`
}

// ListRegisteredUsers returns an iterator over the registered users that
// match p, reading page after page as the loop goes on by following each
// page's next link. A failure ends the loop with its error: a
// *ValidationError (nothing sent) when p is invalid, an error matching
// mergelink.ErrNoAgentHandlerHost in a region without an Agent Handler host,
// an *APIError, an error for a next link that leaves the Agent Handler host
// (it is not followed, since the request would carry the API key), and a
// *DecodeError for a next link that names a page already read (a cycle) or
// a list that goes past a page count no real list reaches.
func (c *Client) ListRegisteredUsers(ctx context.Context, p ListRegisteredUsersParams) iter.Seq2[RegisteredUser, error] {
	return func(yield func(RegisteredUser, error) bool) {
		if err := p.Validate(); err != nil {
			yield(RegisteredUser{}, err)
			return
		}
		q, err := query.Values(p)
		if err != nil {
			yield(RegisteredUser{}, fmt.Errorf("mergelink: encoding ListRegisteredUsersParams: %w", err))
			return
		}
		const path = "/registered-users/"
		if c == nil || c.s == nil || c.s.AgentBaseErr != nil {
			// do says why, sending nothing.
			_, err := c.do(ctx, http.MethodGet, path, q.Encode(), nil, nil)
			yield(RegisteredUser{}, err)
			return
		}
		base, err := url.Parse(c.s.AgentBase)
		if err != nil {
			yield(RegisteredUser{}, fmt.Errorf("mergelink: Agent Handler base URL: %w", err))
			return
		}
		// Pages are named by their absolute URL, the first one included,
		// so that a next link back to it is a cycle.
		first := base.JoinPath(path)
		first.RawQuery = q.Encode()
		status := 0
		fetch := func(link string) ([]RegisteredUser, string, error) {
			if err := checkNextPage(base, link); err != nil {
				return nil, "", err
			}
			var page usersPage
			var err error
			if status, err = c.send(ctx, http.MethodGet, link, path, nil, &page); err != nil {
				return nil, "", err
			}
			if page.Next == "" {
				return page.Results, "", nil
			}
			// A relative next is relative to the page it came from.
			here, err := url.Parse(link)
			if err != nil {
				return nil, "", err // checkNextPage parsed it
			}
			return page.Results, pageKey(here, page.Next), nil
		}
		wrap := func(err error) error {
			return &transport.DecodeError{Method: http.MethodGet, Path: path, StatusCode: status, Err: err}
		}
		for u, err := range paging.Seq(first.String(), fetch, wrap) {
			if !yield(u, err) {
				return
			}
		}
	}
}

// pageKey resolves a next link against the URL of its page, so that one
// page has one name however the server spells it (relative or absolute, its query in
// any order). A link that does not parse is kept as it is, for
// checkNextPage to refuse.
func pageKey(page *url.URL, next string) string {
	u, err := page.Parse(next)
	if err != nil {
		return next
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// checkNextPage refuses a page link that does not parse or leaves base's
// scheme and host.
func checkNextPage(base *url.URL, link string) error {
	u, err := base.Parse(link)
	if err != nil {
		return fmt.Errorf("mergelink: GET /registered-users/: the next page link %s is not a URL: %w", validate.Quote(link), err)
	}
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) || u.User != nil {
		return fmt.Errorf("mergelink: GET /registered-users/: not following the next page link to %s://%s: it leaves the Agent Handler host %s://%s, and the request would carry the API key",
			u.Scheme, u.Host, base.Scheme, base.Host)
	}
	return nil
}
