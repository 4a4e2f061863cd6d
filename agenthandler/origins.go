package agenthandler

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// CallbackOrigin is an allowed callback origin as Merge stored it.
type CallbackOrigin struct {
	ID string `json:"id"`
	// Origin is the scheme and host (and port), such as
	// "https://myapp.com", "myapp://" or "http://localhost:3000".
	Origin     string    `json:"origin"`
	CreatedAt  time.Time `json:"created_at"`
	ModifiedAt time.Time `json:"modified_at"`
}

// CallbackOriginOf returns the origin RegisterCallbackOrigin sends for
// raw, or a *ValidationError naming the rule raw breaks. Merge's rules:
// an https origin, a custom app scheme such as "myapp://", or plain http
// only for localhost ("http://localhost:3000"; not 127.0.0.1, which Merge
// refuses). Like Merge, it keeps the scheme and host (and a port other
// than the default) and drops a path, query or fragment: the result shows
// what is registered ("https://myapp.com/cb?x=1" gives
// "https://myapp.com"). User info, spaces, control and invisible
// characters are refused, as they are in a callback URL.
func CallbackOriginOf(raw string) (string, error) {
	v := validate.New("RegisterCallbackOrigin")
	o := checkCallbackOrigin(v, raw)
	return o, v.Err()
}

// checkCallbackOrigin adds raw's problems to v and returns its origin.
func checkCallbackOrigin(v *validate.Checker, raw string) string {
	v.UTF8("origin", raw)
	if raw == "" {
		v.Required("origin", raw)
		return ""
	}
	if v.HasProblem("origin") {
		return ""
	}
	o, err := validate.Origin(raw)
	if err != nil {
		v.Add("origin", err.Error(), validate.QuoteURL(raw))
		return ""
	}
	if scheme, host, _ := strings.Cut(o, "://"); scheme == "http" && !isLocalhost(host) {
		v.Add("origin", "plain http is allowed only for http://localhost:PORT (not a loopback address such as 127.0.0.1): use https, a custom app scheme, or localhost", validate.QuoteURL(raw))
		return ""
	}
	return o
}

// isLocalhost reports whether host, with its port if any, is localhost.
func isLocalhost(host string) bool {
	name, _, _ := strings.Cut(host, ":")
	return name == "localhost"
}

// RegisterCallbackOrigin adds an allowed callback origin to the
// organization (POST /allowed-callback-origins/), so that Merge redirects
// to callback URLs of that origin after a link, and returns the origin as
// Merge stored it; created reports whether it is new (Merge answers 201)
// or was already registered (200), so calling it at every start of an app
// is safe. origin is normalized before the request as CallbackOriginOf
// says: a path, query or fragment is dropped, not sent. Once it succeeds,
// CreateLinkToken of this client accepts callback URLs of the origin even
// when WithAllowedCallbackOrigins listed others.
//
// It fails before sending anything with a *ValidationError when origin
// breaks Merge's rules (see CallbackOriginOf); with an error matching
// mergelink.ErrNoAgentHandlerHost in a region without an Agent Handler
// host; with an *APIError for a non-2xx answer; and with a *DecodeError
// for a 2xx answer without an origin.
func (c *Client) RegisterCallbackOrigin(ctx context.Context, origin string) (o *CallbackOrigin, created bool, err error) {
	v := validate.New("RegisterCallbackOrigin")
	normal := checkCallbackOrigin(v, origin)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	const path = "/allowed-callback-origins/"
	var out CallbackOrigin
	status, err := c.do(ctx, http.MethodPost, path, "", map[string]string{"origin": normal}, &out)
	if err != nil {
		return nil, false, err
	}
	if out.Origin == "" {
		return nil, false, &transport.DecodeError{Method: http.MethodPost, Path: path, StatusCode: status,
			Err: errors.New("the response has no origin")}
	}
	c.allow(normal)
	if stored, err := validate.Origin(out.Origin); err == nil && stored != normal {
		c.allow(stored)
	}
	return &out, status == http.StatusCreated, nil
}

// originList is a list of origins safe for concurrent use.
type originList struct {
	mu      sync.Mutex
	origins []string
}

// allow adds an origin registered over the API to those CreateLinkToken
// accepts.
func (c *Client) allow(origin string) {
	l := c.registered
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.origins, origin) {
		l.origins = append(l.origins, origin)
	}
}

// allowedOrigins returns the origins CreateLinkToken accepts: none (not
// checked) when WithAllowedCallbackOrigins listed none, since the
// dashboard may hold others; otherwise those it listed and those
// registered through this client.
func (c *Client) allowedOrigins() []string {
	l := c.registered
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.origins) == 0 || len(c.s.AllowedOrigins) == 0 {
		return c.s.AllowedOrigins
	}
	return append(slices.Clone(c.s.AllowedOrigins), l.origins...)
}

// escape is url.PathEscape, short for the many paths built below.
func escape(s string) string { return url.PathEscape(s) }
