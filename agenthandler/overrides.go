package agenthandler

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// ToolDescriptionOverride is a description of your own for a connector's
// tool, which agents see in place of Merge's.
type ToolDescriptionOverride struct {
	ID            string `json:"id"`
	ConnectorSlug string `json:"connector_slug"`
	ToolName      string `json:"tool_name"`
	Description   string `json:"description"`
	// DefinedAt is "CONNECTOR" or "TOOL_PACK": where the override is set.
	DefinedAt  string    `json:"defined_at"`
	CreatedAt  time.Time `json:"created_at"`
	ModifiedAt time.Time `json:"modified_at"`
}

// ToolDescriptionOverrideParams set or delete the description override of
// one tool.
type ToolDescriptionOverrideParams struct {
	// ConnectorSlug and ToolName name the tool, such as "linear" and
	// "create_issue". Required.
	ConnectorSlug string
	ToolName      string
	// Description is the description to show. Required unless Delete.
	Description string
	// Delete deletes the override (sends a null description), so that
	// Merge's description, or the connector's override, shows again.
	Delete bool
}

// MarshalJSON writes p as Agent Handler reads it, with a null description
// for Delete.
func (p ToolDescriptionOverrideParams) MarshalJSON() ([]byte, error) {
	w := struct {
		ConnectorSlug string  `json:"connector_slug"`
		ToolName      string  `json:"tool_name"`
		Description   *string `json:"description"`
	}{ConnectorSlug: p.ConnectorSlug, ToolName: p.ToolName}
	if !p.Delete {
		w.Description = &p.Description
	}
	return json.Marshal(w)
}

// checkOverrides checks the items of an override update.
func checkOverrides(v *validate.Checker, items []ToolDescriptionOverrideParams) {
	if len(items) == 0 {
		v.Add("items", "has nothing to update: list at least one override", "")
	}
	for i, p := range items {
		at := "[" + itoa(i) + "]"
		checkSlug(v, at+".ConnectorSlug", p.ConnectorSlug)
		v.Required(at+".ToolName", p.ToolName)
		switch {
		case p.Delete && p.Description != "":
			v.Add(at+".Description", "must be empty when Delete is set", "")
		case !p.Delete && p.Description == "":
			v.Add(at+".Description", "required unless Delete is set", "")
		}
	}
}

// ListToolDescriptionOverridesParams filter and page the override lists.
// Zero fields are not sent.
type ListToolDescriptionOverridesParams struct {
	// Slug keeps the overrides of one connector.
	Slug string `url:"slug,omitempty"`
	Paging
}

// Validate reports every problem of p: a Slug that is not a slug or a
// negative Page or PageSize. It returns nil or a *ValidationError.
func (p ListToolDescriptionOverridesParams) Validate() error {
	v := newChecker("ListToolDescriptionOverridesParams", p)
	p.check(v)
	return v.Err()
}

func (p ListToolDescriptionOverridesParams) check(v *validate.Checker) {
	v.Slug("Slug", p.Slug)
	v.Page(p.Page, p.PageSize)
}

const overridesPath = "/connectors/tool-description-overrides/"

// ListToolDescriptionOverrides returns an iterator over the
// organization's connector-level tool description overrides, page after
// page. A failure ends the loop with its error, as for
// ListRegisteredUsers.
func (c *Client) ListToolDescriptionOverrides(ctx context.Context, p ListToolDescriptionOverridesParams) iter.Seq2[ToolDescriptionOverride, error] {
	v := newChecker("ListToolDescriptionOverridesParams", p)
	p.check(v)
	return list[ToolDescriptionOverride](ctx, c, v, overridesPath, p)
}

// UpdateToolDescriptionOverrides sets or deletes connector-level tool
// description overrides, for every tool pack, and returns the overrides
// set. It fails with a *ValidationError, sending nothing, when items is
// empty or an item is invalid, and with an *APIError when Merge refuses
// one (a tool the connector does not have, say).
func (c *Client) UpdateToolDescriptionOverrides(ctx context.Context, items []ToolDescriptionOverrideParams) ([]ToolDescriptionOverride, error) {
	v := newChecker("UpdateToolDescriptionOverrides", items)
	checkOverrides(v, items)
	out, err := fetch[[]ToolDescriptionOverride](ctx, c, v, http.MethodPatch, overridesPath, items)
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// ListToolPackToolDescriptionOverrides returns an iterator over a tool
// pack's own tool description overrides, page after page. A failure ends
// the loop with its error, as for ListRegisteredUsers.
func (c *Client) ListToolPackToolDescriptionOverrides(ctx context.Context, toolPackID string, p ListToolDescriptionOverridesParams) iter.Seq2[ToolDescriptionOverride, error] {
	v := newChecker("ListToolDescriptionOverridesParams", p)
	checkID(v, "toolPackID", toolPackID)
	p.check(v)
	return list[ToolDescriptionOverride](ctx, c, v, toolPackPath(toolPackID)+"tool-description-overrides/", p)
}

// UpdateToolPackToolDescriptionOverrides sets or deletes a tool pack's
// own tool description overrides, which win over the connector-level
// ones in that pack, and returns the overrides set. It fails as
// UpdateToolDescriptionOverrides does, and for a toolPackID that is not a
// UUID.
func (c *Client) UpdateToolPackToolDescriptionOverrides(ctx context.Context, toolPackID string, items []ToolDescriptionOverrideParams) ([]ToolDescriptionOverride, error) {
	v := newChecker("UpdateToolPackToolDescriptionOverrides", items)
	checkID(v, "toolPackID", toolPackID)
	checkOverrides(v, items)
	out, err := fetch[[]ToolDescriptionOverride](ctx, c, v, http.MethodPatch, toolPackPath(toolPackID)+"tool-description-overrides/", items)
	if err != nil {
		return nil, err
	}
	return *out, nil
}
