package agenthandler

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/google/go-querystring/query"

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

// Validate reports every problem of p: a negative Page or PageSize. It
// returns nil or a *ValidationError.
func (p ListRegisteredUsersParams) Validate() error {
	c := validate.New("ListRegisteredUsersParams")
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
// an *APIError, or an error for a next link that leaves the Agent Handler
// host (it is not followed, since the request would carry the API key) or
// that points back to a page already read.
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
		var page usersPage
		if _, err := c.do(ctx, http.MethodGet, path, q.Encode(), nil, &page); err != nil {
			yield(RegisteredUser{}, err)
			return
		}
		base, err := url.Parse(c.s.AgentBase)
		if err != nil {
			yield(RegisteredUser{}, fmt.Errorf("mergelink: Agent Handler base URL: %w", err))
			return
		}
		// The first page counts as read, so a next link back to it stops.
		first := base.JoinPath(path)
		first.RawQuery = q.Encode()
		seen := map[string]bool{first.String(): true}
		for {
			for _, u := range page.Results {
				if !yield(u, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			next, err := nextPage(base, page.Next, seen)
			if err != nil {
				yield(RegisteredUser{}, err)
				return
			}
			page = usersPage{}
			if _, err := c.send(ctx, http.MethodGet, next, path, nil, &page); err != nil {
				yield(RegisteredUser{}, err)
				return
			}
		}
	}
}

// nextPage resolves a page's next link against base and returns it, unless
// it leaves base's scheme and host (see onAgentHost) or was seen before.
func nextPage(base *url.URL, next string, seen map[string]bool) (string, error) {
	u, err := onAgentHost(base, "/registered-users/", next)
	if err != nil {
		return "", err
	}
	s := u.String()
	if seen[s] {
		return "", fmt.Errorf("mergelink: GET /registered-users/: the next page link %s points back to a page already read", validate.Quote(s))
	}
	seen[s] = true
	return s, nil
}
