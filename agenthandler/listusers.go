package agenthandler

import (
	"context"
	"fmt"
	"iter"

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

// Validate reports every problem of p: a negative Page or PageSize, or an
// OriginUserID that is not valid UTF-8. It returns nil or a
// *ValidationError.
func (p ListRegisteredUsersParams) Validate() error {
	c := validate.New("ListRegisteredUsersParams")
	c.Strings("", p)
	c.Page(p.Page, p.PageSize)
	return c.Err()
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
		listPages[RegisteredUser](ctx, c, "/registered-users/", q.Encode())(yield)
	}
}
