package agenthandler

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/mergelink/mergelink/internal/paging"
	"github.com/mergelink/mergelink/internal/validate"
)

// page is one page of an Agent Handler list: {count, next, previous,
// results}, next being a full URL or null.
type page[T any] struct {
	Count   int    `json:"count"`
	Next    string `json:"next"`
	Results []T    `json:"results"`
}

// listPages returns an iterator over the items of the page-numbered list at
// path (below the Agent Handler base URL, with its trailing slash), whose
// first page has the query rawQuery. It follows each page's next link
// through internal/paging, so that a cycle or a runaway list ends with an
// error, and only while the link stays on the Agent Handler host (see
// onAgentHost). A failure ends the loop with its error.
func listPages[T any](ctx context.Context, c *Client, path, rawQuery string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if c == nil || c.s == nil {
			yield(zero, errNoSettings)
			return
		}
		if c.s.AgentBaseErr != nil {
			yield(zero, fmt.Errorf("mergelink: GET %s: %w", path, c.s.AgentBaseErr))
			return
		}
		base, err := url.Parse(c.s.AgentBase)
		if err != nil {
			yield(zero, fmt.Errorf("mergelink: Agent Handler base URL: %w", err))
			return
		}
		first := base.JoinPath(path)
		first.RawQuery = rawQuery
		fetch := func(token string) ([]T, string, error) {
			u, err := onAgentHost(base, path, token)
			if err != nil {
				return nil, "", err
			}
			var p page[T]
			if _, err := c.send(ctx, http.MethodGet, u, path, nil, &p); err != nil {
				return nil, "", err
			}
			return p.Results, p.Next, nil
		}
		wrap := func(err error) error { return fmt.Errorf("mergelink: GET %s: %w", path, err) }
		paging.Seq(first.String(), fetch, wrap)(yield)
	}
}

// onAgentHost resolves a page's next link against base and returns it,
// unless it leaves base's scheme and host or carries user info: the
// request to it carries the API key. path names the list in the error.
func onAgentHost(base *url.URL, path, next string) (string, error) {
	u, err := base.Parse(next)
	if err != nil {
		return "", fmt.Errorf("mergelink: GET %s: the next page link %s is not a URL: %w", path, validate.Quote(next), err)
	}
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) || u.User != nil {
		return "", fmt.Errorf("mergelink: GET %s: not following the next page link to %s://%s: it leaves the Agent Handler host %s://%s, and the request would carry the API key",
			path, u.Scheme, u.Host, base.Scheme, base.Host)
	}
	return u.String(), nil
}
