package agenthandler

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"

	"github.com/mergelink/mergelink/internal/validate"
)

// AuthScope says how the credentials of a tool pack's connector are
// shared.
type AuthScope string

// The auth scopes Agent Handler knows; Merge assumes AuthIndividual for a
// new connector when none is sent.
const (
	// AuthIndividual: each registered user authenticates with a
	// credential of their own.
	AuthIndividual AuthScope = "INDIVIDUAL"
	// AuthShared: users of one company (SharedCredentialGroup) share one
	// credential.
	AuthShared AuthScope = "SHARED"
	// AuthOrganization: one credential serves the whole organization.
	AuthOrganization AuthScope = "ORGANIZATION"
)

// ToolPack is a set of connectors, and of their tools, offered to an agent
// through one MCP endpoint (see MCPURL).
type ToolPack struct {
	// ID is the tool pack's id, a UUID: the toolPackID of the other calls.
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Connectors  []ToolPackConnector `json:"connectors"`
}

// ToolPackConnector is a connector of a tool pack, with the tools the pack
// enables on it.
type ToolPackConnector struct {
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	SourceURL  string    `json:"source_url"`
	LogoURL    string    `json:"logo_url"`
	Categories []string  `json:"categories"`
	AuthScope  AuthScope `json:"auth_scope"`
	// Tools are the tools enabled on the connector in this pack.
	Tools []Tool `json:"tools"`
	// ConnectorID is the connector's UUID, which Merge keeps for old
	// clients: prefer Slug.
	ConnectorID string `json:"connector_id"`
}

// Tool is a tool of a connector with its input schema.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// InputSchema is the JSON Schema of the tool's arguments, as sent.
	InputSchema json.RawMessage `json:"input_schema"`
	// CreditType says how a call of the tool is billed.
	CreditType string `json:"credit_type"`
}

// ToolPackConnectorParams name a connector of a tool pack and the tools to
// enable on it.
type ToolPackConnectorParams struct {
	// Slug names the connector, such as "linear". Required.
	Slug string
	// AuthScope is how the connector's credentials are shared; "" sends
	// none (AuthIndividual for a new connector, unchanged for one the
	// pack has).
	AuthScope AuthScope
	// ToolNames are the tools to enable. nil sends none: every tool of a
	// connector new to the pack, and no change for one it has (in
	// UpdateToolPackConnectors). An empty, non-nil slice removes the
	// connector from the pack, as Merge reads [].
	ToolNames []string
}

// MarshalJSON writes p as Agent Handler reads it, with tool_names left out
// when ToolNames is nil and sent as [] when it is empty.
func (p ToolPackConnectorParams) MarshalJSON() ([]byte, error) {
	type wire struct {
		Slug      string    `json:"slug"`
		AuthScope AuthScope `json:"auth_scope,omitempty"`
		ToolNames *[]string `json:"tool_names,omitempty"`
	}
	w := wire{Slug: p.Slug, AuthScope: p.AuthScope}
	if p.ToolNames != nil {
		w.ToolNames = &p.ToolNames
	}
	return json.Marshal(w)
}

// checkConnectors checks a list of connector params named field.
func checkConnectors(v *validate.Checker, field string, ks []ToolPackConnectorParams) {
	seen := map[string]bool{}
	for i, k := range ks {
		at := field + "[" + itoa(i) + "]"
		checkSlug(v, at+".Slug", k.Slug)
		checkAuthScope(v, at+".AuthScope", k.AuthScope)
		for j, t := range k.ToolNames {
			if t == "" {
				v.Add(at+".ToolNames["+itoa(j)+"]", "must not be empty", "")
			}
		}
		if seen[k.Slug] {
			v.Add(at+".Slug", "names a connector listed before: list each connector once", validate.Quote(k.Slug))
		}
		seen[k.Slug] = true
	}
}

func checkAuthScope(v *validate.Checker, field string, s AuthScope) {
	if s != "" && s != AuthIndividual && s != AuthShared && s != AuthOrganization {
		v.Add(field, "must be AuthIndividual, AuthShared or AuthOrganization", validate.Quote(string(s)))
	}
}

// ToolPackParams are the body of CreateToolPack.
type ToolPackParams struct {
	// Name is the tool pack's name. Required.
	Name string `json:"name"`
	// Description says what the pack is for; Merge requires the field,
	// so "" is sent as it is.
	Description string `json:"description"`
	// Connectors are the pack's connectors; none makes an empty pack.
	Connectors []ToolPackConnectorParams `json:"connectors,omitempty"`
}

// Validate reports every problem of p: Name missing, a connector without
// a valid slug or listed twice, an unknown AuthScope, an empty tool name,
// or a string that is not valid UTF-8. It returns nil or a
// *ValidationError.
func (p ToolPackParams) Validate() error {
	v := newChecker("ToolPackParams", p)
	p.check(v)
	return v.Err()
}

func (p ToolPackParams) check(v *validate.Checker) {
	v.Required("Name", p.Name)
	checkConnectors(v, "Connectors", p.Connectors)
}

// UpdateToolPackParams are the fields UpdateToolPack changes; zero fields
// are not sent and stay as they are.
type UpdateToolPackParams struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Connectors, when not nil, replace the pack's connectors: any
	// connector not listed is removed. SetToolPackConnectors and
	// UpdateToolPackConnectors change them in place.
	Connectors []ToolPackConnectorParams `json:"connectors,omitempty"`
}

// Validate reports every problem of p: no field set, or a connector
// problem as for ToolPackParams. It returns nil or a *ValidationError.
func (p UpdateToolPackParams) Validate() error {
	v := newChecker("UpdateToolPackParams", p)
	p.check(v)
	return v.Err()
}

func (p UpdateToolPackParams) check(v *validate.Checker) {
	if p.Name == "" && p.Description == "" && p.Connectors == nil {
		v.Add("UpdateToolPackParams", "has nothing to update: set at least one field", "")
	}
	checkConnectors(v, "Connectors", p.Connectors)
}

func toolPackPath(id string) string { return "/tool-packs/" + escape(id) + "/" }

// CreateToolPack creates a tool pack and returns it with its id, the
// toolPackID of MCPURL and agentmcp.Connect. It fails with a
// *ValidationError, sending nothing, when p is invalid, and with an
// *APIError when Merge refuses it (a connector it does not know, say).
func (c *Client) CreateToolPack(ctx context.Context, p ToolPackParams) (*ToolPack, error) {
	v := newChecker("ToolPackParams", p)
	p.check(v)
	return fetch[ToolPack](ctx, c, v, http.MethodPost, "/tool-packs/", p)
}

// ListToolPacks returns an iterator over the organization's tool packs,
// page after page. A failure ends the loop with its error, as for
// ListRegisteredUsers.
func (c *Client) ListToolPacks(ctx context.Context, p Paging) iter.Seq2[ToolPack, error] {
	v := newChecker("Paging", p)
	v.Page(p.Page, p.PageSize)
	return list[ToolPack](ctx, c, v, "/tool-packs/", p)
}

// GetToolPack returns the tool pack whose id is id. It fails with a
// *ValidationError, sending nothing, when id is not a UUID, and with an
// error matching mergelink.ErrNotFound when there is no such pack.
func (c *Client) GetToolPack(ctx context.Context, id string) (*ToolPack, error) {
	v := validate.New("GetToolPack")
	checkID(v, "toolPackID", id)
	return fetch[ToolPack](ctx, c, v, http.MethodGet, toolPackPath(id), nil)
}

// UpdateToolPack changes the fields set in p (PATCH) and returns the pack
// as it now is. It fails with a *ValidationError, sending nothing, when id
// is not a UUID or p is invalid.
func (c *Client) UpdateToolPack(ctx context.Context, id string, p UpdateToolPackParams) (*ToolPack, error) {
	v := newChecker("UpdateToolPackParams", p)
	checkID(v, "toolPackID", id)
	p.check(v)
	return fetch[ToolPack](ctx, c, v, http.MethodPatch, toolPackPath(id), p)
}

// DeleteToolPack deletes a tool pack. It fails with a *ValidationError,
// sending nothing, when id is not a UUID, and with an error matching
// mergelink.ErrNotFound when there is no such pack.
func (c *Client) DeleteToolPack(ctx context.Context, id string) error {
	v := validate.New("DeleteToolPack")
	checkID(v, "toolPackID", id)
	return exec(ctx, c, v, http.MethodDelete, toolPackPath(id), nil)
}

// ListToolPackConnectors returns the connectors of a tool pack with the
// tools enabled on each (Merge answers them in one list, not in pages).
// It fails with a *ValidationError, sending nothing, when toolPackID is
// not a UUID.
func (c *Client) ListToolPackConnectors(ctx context.Context, toolPackID string) ([]ToolPackConnector, error) {
	v := validate.New("ListToolPackConnectors")
	checkID(v, "toolPackID", toolPackID)
	out, err := fetch[[]ToolPackConnector](ctx, c, v, http.MethodGet, toolPackPath(toolPackID)+"connectors/", nil)
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// SetToolPackConnectors replaces a tool pack's connectors with ks (PUT):
// a connector not listed is removed, and one listed with ToolNames nil
// gets all its tools. It returns the pack's connectors as they now are.
// It fails with a *ValidationError, sending nothing, when toolPackID is
// not a UUID or a connector is invalid (see ToolPackParams.Validate).
func (c *Client) SetToolPackConnectors(ctx context.Context, toolPackID string, ks []ToolPackConnectorParams) ([]ToolPackConnector, error) {
	return c.changeConnectors(ctx, "SetToolPackConnectors", http.MethodPut, toolPackID, ks)
}

// UpdateToolPackConnectors changes the connectors listed in ks (PATCH)
// and leaves the others: a new connector is added, an existing one gets
// the tools listed (none listed leaves its tools), and one with an empty,
// non-nil ToolNames is removed. It returns the pack's connectors as they
// now are, and fails as SetToolPackConnectors does.
func (c *Client) UpdateToolPackConnectors(ctx context.Context, toolPackID string, ks []ToolPackConnectorParams) ([]ToolPackConnector, error) {
	return c.changeConnectors(ctx, "UpdateToolPackConnectors", http.MethodPatch, toolPackID, ks)
}

func (c *Client) changeConnectors(ctx context.Context, name, method, toolPackID string, ks []ToolPackConnectorParams) ([]ToolPackConnector, error) {
	v := newChecker(name, ks)
	checkID(v, "toolPackID", toolPackID)
	checkConnectors(v, "connectors", ks)
	if ks == nil {
		ks = []ToolPackConnectorParams{} // a JSON list, never null
	}
	out, err := fetch[[]ToolPackConnector](ctx, c, v, method, toolPackPath(toolPackID)+"connectors/", ks)
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// RemoveToolPackConnector removes one connector from a tool pack. It fails
// with a *ValidationError, sending nothing, when toolPackID is not a UUID
// or connector not a slug, and with an error matching mergelink.ErrNotFound
// when the pack does not have the connector.
func (c *Client) RemoveToolPackConnector(ctx context.Context, toolPackID, connector string) error {
	v := validate.New("RemoveToolPackConnector")
	checkID(v, "toolPackID", toolPackID)
	checkSlug(v, "connector", connector)
	return exec(ctx, c, v, http.MethodDelete, toolPackPath(toolPackID)+"connectors/"+escape(connector)+"/", nil)
}

// SearchToolsParams are the body of SearchTools.
type SearchToolsParams struct {
	// Intent says what the user wants to do, in words. Required.
	Intent string `json:"intent"`
	// ConnectorSlugs, when set, limit the search to these connectors.
	ConnectorSlugs []string `json:"connector_slugs,omitempty"`
	// MaxResults caps the tools returned; 0 leaves Merge's default (10).
	MaxResults int `json:"max_results,omitempty"`
}

// Validate reports every problem of p: Intent missing, a connector that is
// not a slug, a negative MaxResults, or a string that is not valid UTF-8.
// It returns nil or a *ValidationError.
func (p SearchToolsParams) Validate() error {
	v := newChecker("SearchToolsParams", p)
	p.check(v)
	return v.Err()
}

func (p SearchToolsParams) check(v *validate.Checker) {
	v.Required("Intent", p.Intent)
	for i, s := range p.ConnectorSlugs {
		checkSlug(v, "ConnectorSlugs["+itoa(i)+"]", s)
	}
	if p.MaxResults < 0 {
		v.Add("MaxResults", "must be 1 or more, or 0 for Merge's default", itoa(p.MaxResults))
	}
}

// ToolSearchResult is what SearchTools found.
type ToolSearchResult struct {
	Tools        []FoundTool `json:"tools"`
	TotalResults int         `json:"total_results"`
	Intent       string      `json:"intent"`
}

// FoundTool is a tool that matches a search, most relevant first.
type FoundTool struct {
	// Name is the tool's name as the MCP endpoint lists it.
	Name               string          `json:"name"`
	FullyQualifiedName string          `json:"fully_qualified_name"`
	HumanName          string          `json:"human_name"`
	Description        string          `json:"description"`
	InputSchema        json.RawMessage `json:"input_schema"`
	RelevanceScore     float64         `json:"relevance_score"`
	// Reasoning says why the tool matches.
	Reasoning string `json:"reasoning"`
}

// SearchTools finds the tools of a tool pack that match what a registered
// user wants to do. It fails with a *ValidationError, sending nothing,
// when an id is not a UUID or p is invalid.
func (c *Client) SearchTools(ctx context.Context, toolPackID, registeredUserID string, p SearchToolsParams) (*ToolSearchResult, error) {
	v := newChecker("SearchToolsParams", p)
	checkID(v, "toolPackID", toolPackID)
	checkUserID(v, registeredUserID)
	p.check(v)
	return fetch[ToolSearchResult](ctx, c, v, http.MethodPost, toolPackPath(toolPackID)+"registered-users/"+escape(registeredUserID)+"/search/", p)
}
