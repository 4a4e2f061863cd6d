package agenthandler

import (
	"context"
	"iter"
	"net/http"
	"strconv"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// RuleAction is what a security rule does with the data it detects, in
// tool inputs (inbound) or tool results (outbound).
type RuleAction string

// The rule actions Agent Handler knows.
const (
	ActionBlock  RuleAction = "BLOCK"
	ActionRedact RuleAction = "REDACT"
	ActionLog    RuleAction = "LOG"
	ActionNone   RuleAction = "NONE"
)

// Where a rule is defined, as DefinedAt says and ListToolPackRulesParams
// filters.
const (
	DefinedAtOrganization = "ORGANIZATION"
	DefinedAtToolPack     = "TOOL_PACK"
)

func checkAction(v *validate.Checker, field string, a RuleAction, required bool) {
	switch {
	case a == "" && required:
		v.Add(field, "required: ActionBlock, ActionRedact, ActionLog or ActionNone", "")
	case a != "" && a != ActionBlock && a != ActionRedact && a != ActionLog && a != ActionNone:
		v.Add(field, "must be ActionBlock, ActionRedact, ActionLog or ActionNone", validate.Quote(string(a)))
	}
}

// checkEntityType checks an entity type argument, such as "EMAIL_ADDRESS".
func checkEntityType(v *validate.Checker, t string) {
	v.UTF8("entityType", t)
	v.Required("entityType", t)
	if !isConstantName(t) {
		v.Add("entityType", "must be an entity type such as EMAIL_ADDRESS: upper-case letters, digits and '_'", validate.Quote(t))
	}
}

// StandardEntityRule is one of Merge's standard rules for a kind of
// sensitive data (an entity type such as EMAIL_ADDRESS), as the
// organization sets it.
type StandardEntityRule struct {
	EntityType      string `json:"entity_type"`
	Region          string `json:"region"`
	Description     string `json:"description"`
	DetectionMethod string `json:"detection_method"`
	IsActive        bool   `json:"is_active"`
	// OutboundAction is "" when Merge sends none.
	OutboundAction RuleAction `json:"outbound_action"`
	DefinedAt      string     `json:"defined_at"`
}

// ToolPackStandardEntityRule is a standard rule as it applies to a tool
// pack: the effective setting, and the organization's beside it.
type ToolPackStandardEntityRule struct {
	StandardEntityRule
	// OrgIsActive and OrgOutboundAction are the organization's setting,
	// when the pack overrides it.
	OrgIsActive       *bool      `json:"org_is_active"`
	OrgOutboundAction RuleAction `json:"org_outbound_action"`
}

// StandardEntityRuleParams set a standard rule: every field is sent.
type StandardEntityRuleParams struct {
	IsActive       bool       `json:"is_active"`
	InboundAction  RuleAction `json:"inbound_action"`
	OutboundAction RuleAction `json:"outbound_action"`
}

// Validate reports every problem of p: an action missing or unknown. It
// returns nil or a *ValidationError.
func (p StandardEntityRuleParams) Validate() error {
	v := newChecker("StandardEntityRuleParams", p)
	p.check(v)
	return v.Err()
}

func (p StandardEntityRuleParams) check(v *validate.Checker) {
	checkAction(v, "InboundAction", p.InboundAction, true)
	checkAction(v, "OutboundAction", p.OutboundAction, true)
}

// ListToolPackRulesParams filter and page the rule lists of a tool pack.
// Zero fields are not sent.
type ListToolPackRulesParams struct {
	// DefinedAt keeps the rules defined at DefinedAtOrganization or
	// DefinedAtToolPack.
	DefinedAt string `url:"defined_at,omitempty"`
	Paging
}

// Validate reports every problem of p: an unknown DefinedAt or a negative
// Page or PageSize. It returns nil or a *ValidationError.
func (p ListToolPackRulesParams) Validate() error {
	v := newChecker("ListToolPackRulesParams", p)
	p.check(v)
	return v.Err()
}

func (p ListToolPackRulesParams) check(v *validate.Checker) {
	if p.DefinedAt != "" && p.DefinedAt != DefinedAtOrganization && p.DefinedAt != DefinedAtToolPack {
		v.Add("DefinedAt", "must be DefinedAtOrganization or DefinedAtToolPack", validate.Quote(p.DefinedAt))
	}
	v.Page(p.Page, p.PageSize)
}

func entityRulePath(entityType string) string {
	return "/security/standard-entity-rules/" + escape(entityType) + "/"
}

func packEntityRulePath(toolPackID, entityType string) string {
	return toolPackPath(toolPackID) + "standard-entity-rules/" + escape(entityType) + "/"
}

// ListStandardEntityRules returns an iterator over the organization's
// standard entity rules, page after page. A failure ends the loop with its
// error, as for ListRegisteredUsers.
func (c *Client) ListStandardEntityRules(ctx context.Context, p Paging) iter.Seq2[StandardEntityRule, error] {
	v := newChecker("Paging", p)
	v.Page(p.Page, p.PageSize)
	return list[StandardEntityRule](ctx, c, v, "/security/standard-entity-rules/", p)
}

// GetStandardEntityRule returns the organization's rule for entityType,
// such as "EMAIL_ADDRESS". It fails with a *ValidationError, sending
// nothing, when entityType is not such a name, and with an error matching
// mergelink.ErrNotFound for an entity type Merge does not know.
func (c *Client) GetStandardEntityRule(ctx context.Context, entityType string) (*StandardEntityRule, error) {
	v := validate.New("GetStandardEntityRule")
	checkEntityType(v, entityType)
	return fetch[StandardEntityRule](ctx, c, v, http.MethodGet, entityRulePath(entityType), nil)
}

// UpdateStandardEntityRule sets the organization's rule for entityType
// (PUT) and returns it. It fails with a *ValidationError, sending
// nothing, when entityType or p is invalid.
func (c *Client) UpdateStandardEntityRule(ctx context.Context, entityType string, p StandardEntityRuleParams) (*StandardEntityRule, error) {
	v := newChecker("StandardEntityRuleParams", p)
	checkEntityType(v, entityType)
	p.check(v)
	return fetch[StandardEntityRule](ctx, c, v, http.MethodPut, entityRulePath(entityType), p)
}

// ListToolPackStandardEntityRules returns an iterator over the standard
// entity rules as they apply to a tool pack (the pack's overrides, and the
// organization's rules elsewhere), page after page. A failure ends the
// loop with its error, as for ListRegisteredUsers.
func (c *Client) ListToolPackStandardEntityRules(ctx context.Context, toolPackID string, p ListToolPackRulesParams) iter.Seq2[ToolPackStandardEntityRule, error] {
	v := newChecker("ListToolPackRulesParams", p)
	checkID(v, "toolPackID", toolPackID)
	p.check(v)
	return list[ToolPackStandardEntityRule](ctx, c, v, toolPackPath(toolPackID)+"standard-entity-rules/", p)
}

// GetToolPackStandardEntityRule returns the rule for entityType as it
// applies to a tool pack. It fails as GetStandardEntityRule does, and for
// a toolPackID that is not a UUID.
func (c *Client) GetToolPackStandardEntityRule(ctx context.Context, toolPackID, entityType string) (*ToolPackStandardEntityRule, error) {
	v := validate.New("GetToolPackStandardEntityRule")
	checkID(v, "toolPackID", toolPackID)
	checkEntityType(v, entityType)
	return fetch[ToolPackStandardEntityRule](ctx, c, v, http.MethodGet, packEntityRulePath(toolPackID, entityType), nil)
}

// SetToolPackStandardEntityRule creates or replaces the tool pack's
// override of the rule for entityType (PUT) and returns the rule as it
// now applies. It fails with a *ValidationError, sending nothing, when an
// argument is invalid.
func (c *Client) SetToolPackStandardEntityRule(ctx context.Context, toolPackID, entityType string, p StandardEntityRuleParams) (*ToolPackStandardEntityRule, error) {
	v := newChecker("StandardEntityRuleParams", p)
	checkID(v, "toolPackID", toolPackID)
	checkEntityType(v, entityType)
	p.check(v)
	return fetch[ToolPackStandardEntityRule](ctx, c, v, http.MethodPut, packEntityRulePath(toolPackID, entityType), p)
}

// DeleteToolPackStandardEntityRule deletes the tool pack's override of the
// rule for entityType, so that the organization's applies again. It fails
// as GetToolPackStandardEntityRule does.
func (c *Client) DeleteToolPackStandardEntityRule(ctx context.Context, toolPackID, entityType string) error {
	v := validate.New("DeleteToolPackStandardEntityRule")
	checkID(v, "toolPackID", toolPackID)
	checkEntityType(v, entityType)
	return exec(ctx, c, v, http.MethodDelete, packEntityRulePath(toolPackID, entityType), nil)
}

// CustomRegexRule is a rule of your own that detects data by a regular
// expression.
type CustomRegexRule struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Regex is the pattern, in Merge's (Python) syntax.
	Regex string `json:"regex"`
	// Score is the detection's confidence, from 0 to 1.
	Score float64 `json:"score"`
	// ContextKeywords raise the score when they appear near a match.
	ContextKeywords []string   `json:"context_keywords"`
	IsActive        bool       `json:"is_active"`
	OutboundAction  RuleAction `json:"outbound_action"`
	DefinedAt       string     `json:"defined_at"`
	// CreatedAt and ModifiedAt are zero in a tool pack's list, which does
	// not carry them.
	CreatedAt  time.Time `json:"created_at"`
	ModifiedAt time.Time `json:"modified_at"`
}

// CustomRegexRuleParams are the body of CreateCustomRegexRule. Zero fields
// are not sent and take Merge's defaults (a score of 0.5, REDACT both
// ways).
type CustomRegexRuleParams struct {
	// Name names the rule; it cannot be changed later. Required.
	Name string `json:"name"`
	// Regex is the pattern, in Merge's (Python) syntax, which this client
	// does not compile. Required.
	Regex string `json:"regex"`
	// Score, when set, is from 0 to 1.
	Score           *float64   `json:"score,omitempty"`
	InboundAction   RuleAction `json:"inbound_action,omitempty"`
	OutboundAction  RuleAction `json:"outbound_action,omitempty"`
	ContextKeywords []string   `json:"context_keywords,omitempty"`
}

// Validate reports every problem of p: Name or Regex missing, a Score
// outside 0 to 1, an unknown action, or a string that is not valid UTF-8.
// It returns nil or a *ValidationError.
func (p CustomRegexRuleParams) Validate() error {
	v := newChecker("CustomRegexRuleParams", p)
	p.check(v)
	return v.Err()
}

func (p CustomRegexRuleParams) check(v *validate.Checker) {
	v.Required("Name", p.Name)
	v.Required("Regex", p.Regex)
	checkScore(v, p.Score)
	checkAction(v, "InboundAction", p.InboundAction, false)
	checkAction(v, "OutboundAction", p.OutboundAction, false)
}

func checkScore(v *validate.Checker, score *float64) {
	if score != nil && !(*score >= 0 && *score <= 1) {
		v.Add("Score", "must be from 0 to 1", strconv.FormatFloat(*score, 'g', -1, 64))
	}
}

// ToolPackCustomRegexRuleParams are the body of
// CreateToolPackCustomRegexRule: every field is sent, as Merge requires.
// A Name that is the name of an organization rule overrides that rule for
// the pack.
type ToolPackCustomRegexRuleParams struct {
	Name            string     `json:"name"`
	Regex           string     `json:"regex"`
	Score           float64    `json:"score"`
	ContextKeywords []string   `json:"context_keywords"`
	IsActive        bool       `json:"is_active"`
	InboundAction   RuleAction `json:"inbound_action"`
	OutboundAction  RuleAction `json:"outbound_action"`
}

// Validate reports every problem of p: Name, Regex or an action missing,
// a Score outside 0 to 1, an unknown action, or a string that is not
// valid UTF-8. It returns nil or a *ValidationError.
func (p ToolPackCustomRegexRuleParams) Validate() error {
	v := newChecker("ToolPackCustomRegexRuleParams", p)
	p.check(v)
	return v.Err()
}

func (p ToolPackCustomRegexRuleParams) check(v *validate.Checker) {
	v.Required("Name", p.Name)
	v.Required("Regex", p.Regex)
	checkScore(v, &p.Score)
	checkAction(v, "InboundAction", p.InboundAction, true)
	checkAction(v, "OutboundAction", p.OutboundAction, true)
}

// UpdateCustomRegexRuleParams are the fields the custom regex rule
// updates change (a rule's name cannot change); zero fields are not sent
// and stay as they are.
type UpdateCustomRegexRuleParams struct {
	Regex           string     `json:"regex,omitempty"`
	Score           *float64   `json:"score,omitempty"`
	InboundAction   RuleAction `json:"inbound_action,omitempty"`
	OutboundAction  RuleAction `json:"outbound_action,omitempty"`
	ContextKeywords []string   `json:"context_keywords,omitempty"`
	IsActive        *bool      `json:"is_active,omitempty"`
}

// Validate reports every problem of p: nothing to update, a Score outside
// 0 to 1, an unknown action, or a string that is not valid UTF-8. It
// returns nil or a *ValidationError.
func (p UpdateCustomRegexRuleParams) Validate() error {
	v := newChecker("UpdateCustomRegexRuleParams", p)
	p.check(v)
	return v.Err()
}

func (p UpdateCustomRegexRuleParams) check(v *validate.Checker) {
	if p.Regex == "" && p.Score == nil && p.InboundAction == "" && p.OutboundAction == "" && p.ContextKeywords == nil && p.IsActive == nil {
		v.Add("UpdateCustomRegexRuleParams", "has nothing to update: set at least one field", "")
	}
	checkScore(v, p.Score)
	checkAction(v, "InboundAction", p.InboundAction, false)
	checkAction(v, "OutboundAction", p.OutboundAction, false)
}

func regexRulePath(id string) string { return "/security/custom-regex-rules/" + escape(id) + "/" }

func packRegexRulePath(toolPackID, id string) string {
	return toolPackPath(toolPackID) + "custom-regex-rules/" + escape(id) + "/"
}

// CreateCustomRegexRule creates a custom regex rule for the organization.
// It fails with a *ValidationError, sending nothing, when p is invalid,
// and with an *APIError when Merge refuses it (a pattern it cannot
// compile, say).
func (c *Client) CreateCustomRegexRule(ctx context.Context, p CustomRegexRuleParams) (*CustomRegexRule, error) {
	v := newChecker("CustomRegexRuleParams", p)
	p.check(v)
	return fetch[CustomRegexRule](ctx, c, v, http.MethodPost, "/security/custom-regex-rules/", p)
}

// ListCustomRegexRules returns an iterator over the organization's custom
// regex rules, page after page. A failure ends the loop with its error, as
// for ListRegisteredUsers.
func (c *Client) ListCustomRegexRules(ctx context.Context, p Paging) iter.Seq2[CustomRegexRule, error] {
	v := newChecker("Paging", p)
	v.Page(p.Page, p.PageSize)
	return list[CustomRegexRule](ctx, c, v, "/security/custom-regex-rules/", p)
}

// GetCustomRegexRule returns the organization's custom regex rule whose id
// is id. It fails with a *ValidationError, sending nothing, when id is not
// a UUID, and with an error matching mergelink.ErrNotFound when there is
// no such rule.
func (c *Client) GetCustomRegexRule(ctx context.Context, id string) (*CustomRegexRule, error) {
	v := validate.New("GetCustomRegexRule")
	checkID(v, "ruleID", id)
	return fetch[CustomRegexRule](ctx, c, v, http.MethodGet, regexRulePath(id), nil)
}

// UpdateCustomRegexRule changes the fields set in p (PATCH) and returns
// the rule as it now is. It fails with a *ValidationError, sending
// nothing, when id is not a UUID or p is invalid.
func (c *Client) UpdateCustomRegexRule(ctx context.Context, id string, p UpdateCustomRegexRuleParams) (*CustomRegexRule, error) {
	v := newChecker("UpdateCustomRegexRuleParams", p)
	checkID(v, "ruleID", id)
	p.check(v)
	return fetch[CustomRegexRule](ctx, c, v, http.MethodPatch, regexRulePath(id), p)
}

// DeleteCustomRegexRule deletes the organization's custom regex rule. It
// fails as GetCustomRegexRule does.
func (c *Client) DeleteCustomRegexRule(ctx context.Context, id string) error {
	v := validate.New("DeleteCustomRegexRule")
	checkID(v, "ruleID", id)
	return exec(ctx, c, v, http.MethodDelete, regexRulePath(id), nil)
}

// CreateToolPackCustomRegexRule creates a custom regex rule for a tool
// pack, or an override of the organization's rule of the same name, and
// returns the rule as it applies to the pack. It fails with a
// *ValidationError, sending nothing, when toolPackID is not a UUID or p is
// invalid.
func (c *Client) CreateToolPackCustomRegexRule(ctx context.Context, toolPackID string, p ToolPackCustomRegexRuleParams) (*CustomRegexRule, error) {
	v := newChecker("ToolPackCustomRegexRuleParams", p)
	checkID(v, "toolPackID", toolPackID)
	p.check(v)
	if p.ContextKeywords == nil {
		p.ContextKeywords = []string{} // required: a list, never null
	}
	return fetch[CustomRegexRule](ctx, c, v, http.MethodPost, toolPackPath(toolPackID)+"custom-regex-rules/", p)
}

// ListToolPackCustomRegexRules returns an iterator over the custom regex
// rules as they apply to a tool pack (its own, its overrides, and the
// organization's), page after page. A failure ends the loop with its
// error, as for ListRegisteredUsers.
func (c *Client) ListToolPackCustomRegexRules(ctx context.Context, toolPackID string, p ListToolPackRulesParams) iter.Seq2[CustomRegexRule, error] {
	v := newChecker("ListToolPackRulesParams", p)
	checkID(v, "toolPackID", toolPackID)
	p.check(v)
	return list[CustomRegexRule](ctx, c, v, toolPackPath(toolPackID)+"custom-regex-rules/", p)
}

// GetToolPackCustomRegexRule returns a custom regex rule as it applies to
// a tool pack. It fails with a *ValidationError, sending nothing, when an
// id is not a UUID, and with an error matching mergelink.ErrNotFound when
// there is no such rule.
func (c *Client) GetToolPackCustomRegexRule(ctx context.Context, toolPackID, ruleID string) (*CustomRegexRule, error) {
	v := validate.New("GetToolPackCustomRegexRule")
	checkID(v, "toolPackID", toolPackID)
	checkID(v, "ruleID", ruleID)
	return fetch[CustomRegexRule](ctx, c, v, http.MethodGet, packRegexRulePath(toolPackID, ruleID), nil)
}

// UpdateToolPackCustomRegexRule changes the fields set in p for a tool
// pack (PATCH) and returns the rule as it now applies. It fails as
// UpdateCustomRegexRule does, and for a toolPackID that is not a UUID.
func (c *Client) UpdateToolPackCustomRegexRule(ctx context.Context, toolPackID, ruleID string, p UpdateCustomRegexRuleParams) (*CustomRegexRule, error) {
	v := newChecker("UpdateCustomRegexRuleParams", p)
	checkID(v, "toolPackID", toolPackID)
	checkID(v, "ruleID", ruleID)
	p.check(v)
	return fetch[CustomRegexRule](ctx, c, v, http.MethodPatch, packRegexRulePath(toolPackID, ruleID), p)
}

// DeleteToolPackCustomRegexRule deletes a tool pack's own rule, or its
// override of an organization rule (which then applies again). It fails
// as GetToolPackCustomRegexRule does.
func (c *Client) DeleteToolPackCustomRegexRule(ctx context.Context, toolPackID, ruleID string) error {
	v := validate.New("DeleteToolPackCustomRegexRule")
	checkID(v, "toolPackID", toolPackID)
	checkID(v, "ruleID", ruleID)
	return exec(ctx, c, v, http.MethodDelete, packRegexRulePath(toolPackID, ruleID), nil)
}
