package agenthandler

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// LinkTokenParams are the body of a link token request. Zero fields are not
// sent.
type LinkTokenParams struct {
	// Connector is the slug of the connector to authenticate, such as
	// "linear". Required.
	Connector string `json:"connector"`
	// ExternalID picks one of several OAuth app credentials of the
	// connector.
	ExternalID string `json:"external_id,omitempty"`
	// CallbackURL is where the browser goes after the flow, with status
	// and state added to its query: https, a custom scheme such as
	// myapp:///done, or http on localhost only, sent exactly as given (no
	// space, control or invisible character, no status parameter of its
	// own). Its origin must be an allowed callback origin, or Merge
	// silently skips the redirect.
	CallbackURL string `json:"callback_url,omitempty"`
	// State is returned to CallbackURL unchanged, for CSRF protection; see
	// NewState and ParseCallback. It requires CallbackURL, which must then
	// have no state query parameter of its own.
	State string `json:"state,omitempty"`
}

// Validate reports every problem of p that needs no client: Connector
// missing or not a slug, a field that is not valid UTF-8, a CallbackURL
// that is not absolute, has a scheme Merge refuses, holds a space, a
// control or an invisible character anywhere (it is sent exactly as
// given), or carries a status query parameter of its own (Merge adds
// status), State without CallbackURL, and a CallbackURL with a state
// parameter of its own when State is set. It returns nil or a
// *ValidationError. CreateLinkToken also checks the callback's origin
// against the client's allowed origins.
func (p LinkTokenParams) Validate() error {
	c := validate.New("LinkTokenParams")
	p.check(c)
	return c.Err()
}

func (p LinkTokenParams) check(c *validate.Checker) {
	c.Strings("", p)
	c.Required("Connector", p.Connector)
	c.Slug("Connector", p.Connector)
	if p.CallbackURL != "" {
		// Every rule runs on the string sent, whatever another rule found.
		shown := validate.QuoteURL(p.CallbackURL)
		visible := p.CallbackURL
		if !c.PlainURL("CallbackURL", p.CallbackURL) {
			// Reported: check the rest of the URL as a reader sees it.
			visible = validate.Visible(p.CallbackURL)
		}
		if _, err := validate.Origin(visible); err != nil {
			c.Add("CallbackURL", err.Error(), shown)
		}
		keys := validate.QueryKeys(p.CallbackURL)
		if slices.Contains(keys, "status") {
			c.Add("CallbackURL", "must have no status query parameter: Merge adds the status of the flow, and ParseCallback refuses a callback with two", shown)
		}
		if p.State != "" && slices.Contains(keys, "state") {
			c.Add("CallbackURL", "must have no state query parameter when State is set: Merge adds State as the state parameter", shown)
		}
	}
	if p.State != "" && p.CallbackURL == "" {
		c.Add("State", "requires CallbackURL: Merge returns the state only to a callback URL", "")
	}
}

// LinkToken is a single-use link token for a registered user, valid for 30
// minutes, and the magic link URL that opens the hosted authentication page.
type LinkToken struct {
	LinkToken string `json:"link_token"`
	// MagicLinkURL is the page to send the user; see AppendCallbackURL.
	MagicLinkURL string `json:"magic_link_url"`
}

// CreateLinkToken creates a link token and magic link URL with which the
// registered user authenticates with p.Connector. It fails before sending
// anything with a *ValidationError when registeredUserID is not a UUID, p
// is invalid (see LinkTokenParams.Validate), or the client was given
// allowed callback origins and p.CallbackURL's origin is not one of them
// (Merge would skip the redirect silently); with an error matching
// mergelink.ErrNoAgentHandlerHost in a region without an Agent Handler
// host; with an *APIError for a non-2xx answer; and with a *DecodeError
// for a 2xx answer without link_token or magic_link_url. The call is not
// idempotent: each one makes a new token.
func (c *Client) CreateLinkToken(ctx context.Context, registeredUserID string, p LinkTokenParams) (*LinkToken, error) {
	v := validate.New("LinkTokenParams")
	checkUserID(v, registeredUserID)
	p.check(v)
	c.checkAllowedOrigin(v, p.CallbackURL)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var lt LinkToken
	path := "/registered-users/" + url.PathEscape(registeredUserID) + "/link-token/"
	status, err := c.do(ctx, http.MethodPost, path, "", p, &lt)
	if err != nil {
		return nil, err
	}
	for _, f := range [...]struct{ name, value string }{{"link_token", lt.LinkToken}, {"magic_link_url", lt.MagicLinkURL}} {
		if f.value == "" {
			return nil, &transport.DecodeError{Method: http.MethodPost, Path: path, StatusCode: status,
				Err: fmt.Errorf("the response has no %s", f.name)}
		}
	}
	return &lt, nil
}

// checkAllowedOrigin refuses a callback URL whose origin is not among the
// client's allowed origins, when it has some. A callback URL that has no
// origin at all is left to LinkTokenParams.check.
func (c *Client) checkAllowedOrigin(v *validate.Checker, callbackURL string) {
	if c == nil || c.s == nil {
		return // the call fails with errNoSettings
	}
	allowed := c.allowedOrigins()
	if callbackURL == "" || len(allowed) == 0 {
		return
	}
	origin, err := validate.Origin(callbackURL)
	if err != nil || slices.Contains(allowed, origin) {
		return
	}
	v.Add("CallbackURL", "origin "+origin+" is not an allowed callback origin ("+strings.Join(allowed, ", ")+
		"): Merge would silently skip the redirect; register it with RegisterCallbackOrigin (or in the Merge dashboard, Settings, API Keys, and add it to WithAllowedCallbackOrigins)",
		validate.QuoteURL(callbackURL))
}

// checkUserID checks a registered user id argument.
func checkUserID(v *validate.Checker, id string) {
	v.UTF8("registeredUserID", id)
	v.Required("registeredUserID", id)
	v.UUID("registeredUserID", id)
}
