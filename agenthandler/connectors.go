package agenthandler

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/google/go-querystring/query"

	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// Connector is a third-party service a registered user can connect, such as
// Linear or GitHub, as GET /connectors/ describes it.
type Connector struct {
	ID string `json:"id"`
	// Name is the connector's name for people to read, such as "Linear".
	Name string `json:"name"`
	// Slug names the connector in the other calls, such as "linear".
	Slug        string `json:"slug"`
	Description string `json:"description"`
	// SourceURL is the service's website, or "" when Merge has none.
	SourceURL string `json:"source_url"`
	LogoURL   string `json:"logo_url"`
	// Categories are the connector's categories, such as "Ticketing".
	Categories []string `json:"categories"`
	// AuthOptions are the ways a user can authenticate with the connector.
	AuthOptions []AuthOption `json:"auth_options"`
	// Tools are the tools the connector offers an agent.
	Tools []ConnectorTool `json:"tools"`
}

// AuthOption is one way to authenticate with a connector, such as OAuth or
// an API key, and the secrets it asks the user for.
type AuthOption struct {
	Type    string         `json:"type"`
	Secrets []SecretSchema `json:"secrets"`
}

// SecretSchema describes one secret an AuthOption asks for. Fields Merge
// sends as null are "".
type SecretSchema struct {
	Name              string `json:"name"`
	HumanReadableName string `json:"human_readable_name"`
	Prefix            string `json:"prefix"`
	Suffix            string `json:"suffix"`
	FieldType         string `json:"field_type"`
	// Options are the values a choice field allows; nil otherwise.
	Options []SecretOption `json:"options"`
}

// SecretOption is one value a SecretSchema's choice field allows.
type SecretOption struct {
	OptionLabel   string `json:"option_label"`
	Value         string `json:"value"`
	OptionDefault bool   `json:"option_default"`
}

// ConnectorTool is a tool of a connector, without its input schema.
type ConnectorTool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// CreditType says how a call of the tool is billed.
	CreditType string `json:"credit_type"`
}

// ListConnectorsParams page ListConnectors. Zero fields are not sent.
type ListConnectorsParams struct {
	// Page is the first page to read, from 1.
	Page int `url:"page,omitempty"`
	// PageSize is how many connectors a page holds; Merge picks when it
	// is 0.
	PageSize int `url:"page_size,omitempty"`
}

// Validate reports every problem of p: a negative Page or PageSize. It
// returns nil or a *ValidationError.
func (p ListConnectorsParams) Validate() error {
	c := validate.New("ListConnectorsParams")
	c.Strings("", p)
	c.Page(p.Page, p.PageSize)
	return c.Err()
}

// ListConnectors returns an iterator over the connectors a registered user
// can connect, reading page after page as the loop goes on by following
// each page's next link. A failure ends the loop with its error: a
// *ValidationError (nothing sent) when p is invalid, an error matching
// mergelink.ErrNoAgentHandlerHost in a region without an Agent Handler
// host, an *APIError, or an error for a next link that leaves the Agent
// Handler host (it is not followed, since the request would carry the API
// key), that points back to a page already read, or that goes on past
// internal/paging's bound.
func (c *Client) ListConnectors(ctx context.Context, p ListConnectorsParams) iter.Seq2[Connector, error] {
	if err := p.Validate(); err != nil {
		return func(yield func(Connector, error) bool) { yield(Connector{}, err) }
	}
	q, err := query.Values(p)
	if err != nil {
		return func(yield func(Connector, error) bool) {
			yield(Connector{}, fmt.Errorf("mergelink: encoding ListConnectorsParams: %w", err))
		}
	}
	return listPages[Connector](ctx, c, "/connectors/", q.Encode())
}

// GetConnector returns the connector whose slug is slug, such as "linear".
// It fails with a *ValidationError, sending nothing, when slug is not a
// slug; with an error matching mergelink.ErrNoAgentHandlerHost in a region
// without an Agent Handler host; with an error matching
// mergelink.ErrNotFound when Merge has no such connector; and with an
// *APIError for any other non-2xx answer; and with a *DecodeError for a 2xx
// answer without a slug.
func (c *Client) GetConnector(ctx context.Context, slug string) (*Connector, error) {
	v := validate.New("GetConnector")
	v.Required("slug", slug)
	v.Slug("slug", slug)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var k Connector
	path := "/connectors/" + url.PathEscape(slug) + "/"
	status, err := c.do(ctx, http.MethodGet, path, "", nil, &k)
	if err != nil {
		return nil, err
	}
	if k.Slug == "" {
		return nil, &transport.DecodeError{Method: http.MethodGet, Path: path, StatusCode: status,
			Err: errors.New("the response has no slug")}
	}
	return &k, nil
}
