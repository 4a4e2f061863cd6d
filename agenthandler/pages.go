package agenthandler

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/mergelink/mergelink/internal/paging"
	"github.com/mergelink/mergelink/internal/transport"
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
// through internal/paging, so that a cycle or a runaway list ends with a
// *DecodeError, and only while the link stays on the Agent Handler host
// (see onAgentHost). A failure ends the loop with its error.
func listPages[T any](ctx context.Context, c *Client, path, rawQuery string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if c == nil || c.s == nil || c.s.AgentBaseErr != nil {
			_, err := c.do(ctx, http.MethodGet, path, rawQuery, nil, nil) // sends nothing: it fails
			yield(zero, err)
			return
		}
		base, err := url.Parse(c.s.AgentBase)
		if err != nil {
			yield(zero, fmt.Errorf("mergelink: Agent Handler base URL: %w", err))
			return
		}
		first := base.JoinPath(path)
		first.RawQuery = rawQuery
		status := 0
		fetch := func(link string) ([]T, string, error) {
			u, err := onAgentHost(base, path, link)
			if err != nil {
				return nil, "", err
			}
			var p page[T]
			if status, err = c.send(ctx, http.MethodGet, u.String(), path, nil, &p); err != nil {
				return nil, "", err
			}
			if p.Next == "" {
				return p.Results, "", nil
			}
			return p.Results, pageName(u, p.Next), nil
		}
		wrap := func(err error) error {
			return &transport.DecodeError{Method: http.MethodGet, Path: path, StatusCode: status, Err: err}
		}
		paging.Seq(pageName(first, ""), fetch, wrap)(yield)
	}
}

// pageName resolves a next link against the URL of the page it came from
// and spells it one way (its query sorted, no fragment), so that a link
// back to a page read before is a cycle however the server writes it. A
// link that does not parse is kept as it is, for onAgentHost to refuse.
func pageName(from *url.URL, next string) string {
	u, err := from.Parse(next)
	if err != nil {
		return next
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// onAgentHost resolves a page link against base and returns it, unless it
// does not parse, or leaves base's scheme and host or carries user info:
// the request to it carries the API key. path names the list in the error,
// which shows the link as validate.QuoteURL does, since a server may echo
// the key into it.
func onAgentHost(base *url.URL, path, link string) (*url.URL, error) {
	u, err := base.Parse(link)
	if err != nil {
		// url.Parse's error quotes the whole link: it is not shown.
		return nil, fmt.Errorf("mergelink: GET %s: the next page link %s is not a URL", path, validate.QuoteURL(link))
	}
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) || u.User != nil {
		return nil, fmt.Errorf("mergelink: GET %s: not following the next page link to %s://%s: it leaves the Agent Handler host %s://%s, and the request would carry the API key",
			path, u.Scheme, u.Host, base.Scheme, base.Host)
	}
	return u, nil
}
