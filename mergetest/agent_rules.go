package mergetest

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// ruleActions are the actions of a security rule.
var ruleActions = []string{"BLOCK", "REDACT", "LOG", "NONE"}

// entityRule is an organization's standard entity rule.
type entityRule struct {
	EntityType      string  `json:"entity_type"`
	Region          string  `json:"region"`
	Description     string  `json:"description"`
	DetectionMethod string  `json:"detection_method"`
	IsActive        bool    `json:"is_active"`
	OutboundAction  *string `json:"outbound_action"`
	DefinedAt       string  `json:"defined_at"`
	inboundAction   string
}

// entityOverride is a tool pack's override of a standard entity rule.
type entityOverride struct {
	isActive          bool
	inbound, outbound string
}

// defaultEntityRules returns the standard entity rules a new organization
// has, all inactive, in entity type order.
func defaultEntityRules() map[string]*entityRule {
	m := map[string]*entityRule{}
	for _, r := range [][3]string{
		{"CREDIT_CARD", "GLOBAL", "Credit card numbers."},
		{"EMAIL_ADDRESS", "GLOBAL", "Email addresses."},
		{"IBAN_CODE", "GLOBAL", "International bank account numbers."},
		{"IP_ADDRESS", "GLOBAL", "IPv4 and IPv6 addresses."},
		{"PHONE_NUMBER", "GLOBAL", "Telephone numbers."},
		{"US_SSN", "US", "US Social Security numbers."},
	} {
		none := "NONE"
		m[r[0]] = &entityRule{EntityType: r[0], Region: r[1], Description: r[2], DetectionMethod: "PATTERN",
			OutboundAction: &none, DefinedAt: "ORGANIZATION", inboundAction: "NONE"}
	}
	return m
}

// entityRuleRequest is the body of a standard entity rule's PUT: every
// field is required.
type entityRuleRequest struct {
	IsActive       *bool   `json:"is_active"`
	InboundAction  *string `json:"inbound_action"`
	OutboundAction *string `json:"outbound_action"`
}

func (q *entityRuleRequest) check() (reply, bool) {
	if q.IsActive == nil || q.InboundAction == nil || q.OutboundAction == nil {
		return agentError(http.StatusBadRequest, "invalid_request", "is_active, inbound_action and outbound_action are all required."), true
	}
	for _, a := range []string{*q.InboundAction, *q.OutboundAction} {
		if !slices.Contains(ruleActions, a) {
			return agentError(http.StatusBadRequest, "invalid_action", fmt.Sprintf("%s is not an action: use BLOCK, REDACT, LOG or NONE.", validate.Quote(a))), true
		}
	}
	return reply{}, false
}

func (s *Server) entityRuleOf(r *http.Request) (*entityRule, reply) {
	if e, ok := s.ah.entityRules[r.PathValue("entity_type")]; ok {
		return e, reply{}
	}
	return nil, agentError(http.StatusNotFound, "entity_type_not_found", "No standard entity rule has this entity type.")
}

// sortedEntityRules returns the organization's rules in entity type order.
func (a *agentState) sortedEntityRules() []*entityRule {
	out := make([]*entityRule, 0, len(a.entityRules))
	for _, k := range sortedKeys(a.entityRules) {
		out = append(out, a.entityRules[k])
	}
	return out
}

// listEntityRules serves GET /security/standard-entity-rules/.
func (s *Server) listEntityRules(r *http.Request, _ []byte) reply {
	return numberedPage(s, r, s.ah.sortedEntityRules(), defaultPackPageSize, maxPackPageSize)
}

// putEntityRule serves PUT /security/standard-entity-rules/{entity_type}/.
func (s *Server) putEntityRule(r *http.Request, body []byte) reply {
	e, rep := s.entityRuleOf(r)
	if e == nil {
		return rep
	}
	var q entityRuleRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if rep, bad := q.check(); bad {
		return rep
	}
	e.IsActive, e.inboundAction, e.OutboundAction = *q.IsActive, *q.InboundAction, q.OutboundAction
	s.audit("SECURITY_RULE_UPDATED", "Standard entity rule "+e.EntityType+" updated.")
	return reply{http.StatusOK, e}
}

// combinedEntityRule is a standard entity rule as it applies to a tool
// pack (the OpenAPI's PublicCombinedSecurityRule).
type combinedEntityRule struct {
	EntityType        string  `json:"entity_type"`
	Region            string  `json:"region"`
	Description       string  `json:"description"`
	DetectionMethod   string  `json:"detection_method"`
	IsActive          bool    `json:"is_active"`
	OutboundAction    string  `json:"outbound_action"`
	DefinedAt         string  `json:"defined_at"`
	OrgIsActive       *bool   `json:"org_is_active,omitempty"`
	OrgOutboundAction *string `json:"org_outbound_action,omitempty"`
}

// combined returns e as it applies to the tool pack packID.
func (a *agentState) combined(packID string, e *entityRule) combinedEntityRule {
	c := combinedEntityRule{EntityType: e.EntityType, Region: e.Region, Description: e.Description,
		DetectionMethod: e.DetectionMethod, IsActive: e.IsActive, OutboundAction: deref(e.OutboundAction), DefinedAt: "ORGANIZATION"}
	if o, ok := a.packEntityRules[packID][e.EntityType]; ok {
		orgActive, orgOut := e.IsActive, deref(e.OutboundAction)
		c.IsActive, c.OutboundAction, c.DefinedAt = o.isActive, o.outbound, "TOOL_PACK"
		c.OrgIsActive, c.OrgOutboundAction = &orgActive, &orgOut
	}
	return c
}

// definedAtFilter reads a tool pack list's defined_at filter.
func definedAtFilter(r *http.Request) (string, reply, bool) {
	d := r.URL.Query().Get("defined_at")
	if d != "" && d != "ORGANIZATION" && d != "TOOL_PACK" {
		return "", agentError(http.StatusBadRequest, "invalid_defined_at", "defined_at must be ORGANIZATION or TOOL_PACK."), true
	}
	return d, reply{}, false
}

// listPackEntityRules serves GET /tool-packs/{tool_pack_id}/standard-entity-rules/.
func (s *Server) listPackEntityRules(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	d, rep, bad := definedAtFilter(r)
	if bad {
		return rep
	}
	found := []combinedEntityRule{}
	for _, e := range s.ah.sortedEntityRules() {
		if c := s.ah.combined(p.id, e); d == "" || c.DefinedAt == d {
			found = append(found, c)
		}
	}
	return numberedPage(s, r, found, defaultPackPageSize, maxPackPageSize)
}

// getPackEntityRule serves GET /tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}/.
func (s *Server) getPackEntityRule(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	e, rep := s.entityRuleOf(r)
	if e == nil {
		return rep
	}
	return reply{http.StatusOK, s.ah.combined(p.id, e)}
}

// putPackEntityRule serves PUT /tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}/.
func (s *Server) putPackEntityRule(r *http.Request, body []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	e, rep := s.entityRuleOf(r)
	if e == nil {
		return rep
	}
	var q entityRuleRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if rep, bad := q.check(); bad {
		return rep
	}
	if s.ah.packEntityRules[p.id] == nil {
		s.ah.packEntityRules[p.id] = map[string]*entityOverride{}
	}
	s.ah.packEntityRules[p.id][e.EntityType] = &entityOverride{*q.IsActive, *q.InboundAction, *q.OutboundAction}
	s.audit("SECURITY_RULE_UPDATED", "Standard entity rule "+e.EntityType+" overridden for Tool Pack "+p.name+".")
	return reply{http.StatusOK, s.ah.combined(p.id, e)}
}

// deletePackEntityRule serves DELETE /tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}/,
// 404 when the pack does not override the rule.
func (s *Server) deletePackEntityRule(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	t := r.PathValue("entity_type")
	if _, ok := s.ah.packEntityRules[p.id][t]; !ok {
		return agentError(http.StatusNotFound, "override_not_found", "The Tool Pack does not override this rule.")
	}
	delete(s.ah.packEntityRules[p.id], t)
	s.audit("SECURITY_RULE_DELETED", "Standard entity rule "+t+" override of Tool Pack "+p.name+" deleted.")
	return reply{status: http.StatusOK}
}

// regexRule is a custom regex rule, of the organization or of a tool pack
// (an override of the organization's rule of the same name shares its
// id).
type regexRule struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Regex           string    `json:"regex"`
	Score           float64   `json:"score"`
	ContextKeywords []string  `json:"context_keywords"`
	IsActive        bool      `json:"is_active"`
	CreatedAt       time.Time `json:"created_at"`
	ModifiedAt      time.Time `json:"modified_at"`
	OutboundAction  *string   `json:"outbound_action"`
	DefinedAt       string    `json:"defined_at"`
	inboundAction   string
}

// combinedRegexRule is a custom regex rule as a tool pack's endpoints
// answer it (the OpenAPI's PublicCombinedCustomRegexRule).
type combinedRegexRule struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Regex           string   `json:"regex"`
	Score           float64  `json:"score"`
	ContextKeywords []string `json:"context_keywords"`
	IsActive        bool     `json:"is_active"`
	OutboundAction  string   `json:"outbound_action"`
	DefinedAt       string   `json:"defined_at"`
}

func (x *regexRule) combined() combinedRegexRule {
	return combinedRegexRule{x.ID, x.Name, x.Regex, x.Score, x.ContextKeywords, x.IsActive, deref(x.OutboundAction), x.DefinedAt}
}

// regexRequest is the body of a custom regex rule's POST or PATCH.
type regexRequest struct {
	ID              *string   `json:"id"` // in a request schema, and ignored
	Name            *string   `json:"name"`
	Regex           *string   `json:"regex"`
	Score           *float64  `json:"score"`
	ContextKeywords *[]string `json:"context_keywords"`
	IsActive        *bool     `json:"is_active"`
	InboundAction   *string   `json:"inbound_action"`
	OutboundAction  *string   `json:"outbound_action"`
	DefinedAt       *string   `json:"defined_at"`
	CreatedAt       *string   `json:"created_at"`
	ModifiedAt      *string   `json:"modified_at"`
}

// apply checks q and sets what it holds on x; creating requires name and
// regex, and refuses a name change otherwise.
func (q *regexRequest) apply(x *regexRule, creating bool) (reply, bool) {
	bad := func(code, msg string) (reply, bool) { return agentError(http.StatusBadRequest, code, msg), true }
	switch {
	case creating && (deref(q.Name) == "" || deref(q.Regex) == ""):
		return bad("invalid_request", "name and regex are required.")
	case !creating && q.Name != nil && *q.Name != x.Name:
		return bad("name_immutable", "name cannot be changed after creation.")
	case q.Regex != nil && *q.Regex == "":
		return bad("invalid_regex", "regex must not be empty.")
	case q.Score != nil && !(*q.Score >= 0 && *q.Score <= 1):
		return bad("invalid_score", "score must be from 0 to 1.")
	}
	if q.Regex != nil {
		if _, err := regexp.Compile(*q.Regex); err != nil {
			return bad("invalid_regex", "regex does not compile: "+err.Error())
		}
		x.Regex = *q.Regex
	}
	for _, a := range []*string{q.InboundAction, q.OutboundAction} {
		if a != nil && !slices.Contains(ruleActions, *a) {
			return bad("invalid_action", fmt.Sprintf("%s is not an action: use BLOCK, REDACT, LOG or NONE.", validate.Quote(*a)))
		}
	}
	if q.Name != nil {
		x.Name = *q.Name
	}
	if q.Score != nil {
		x.Score = *q.Score
	}
	if q.ContextKeywords != nil {
		x.ContextKeywords = *q.ContextKeywords
	}
	if q.IsActive != nil {
		x.IsActive = *q.IsActive
	}
	if q.InboundAction != nil {
		x.inboundAction = *q.InboundAction
	}
	if q.OutboundAction != nil {
		x.OutboundAction = q.OutboundAction
	}
	return reply{}, false
}

// newRegexRule returns a rule with Merge's defaults: score 0.5, REDACT.
func (s *Server) newRegexRule(definedAt string) *regexRule {
	now := s.now().UTC()
	redact := "REDACT"
	return &regexRule{ID: s.ids.id(), Score: 0.5, ContextKeywords: []string{}, IsActive: true, CreatedAt: now, ModifiedAt: now,
		OutboundAction: &redact, DefinedAt: definedAt, inboundAction: "REDACT"}
}

// createRegexRule serves POST /security/custom-regex-rules/.
func (s *Server) createRegexRule(r *http.Request, body []byte) reply {
	var q regexRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if q.IsActive != nil || q.DefinedAt != nil {
		return agentError(http.StatusBadRequest, "invalid_request", "is_active and defined_at cannot be set on create.")
	}
	x := s.newRegexRule("ORGANIZATION")
	if rep, bad := q.apply(x, true); bad {
		return rep
	}
	if slices.ContainsFunc(s.ah.regexRules, func(y *regexRule) bool { return y.Name == x.Name }) {
		return agentError(http.StatusBadRequest, "name_taken", "A custom regex rule has this name.")
	}
	s.ah.regexRules = append(s.ah.regexRules, x)
	s.audit("SECURITY_RULE_CREATED", "Custom regex rule "+x.Name+" created.")
	return reply{http.StatusCreated, x}
}

// listRegexRules serves GET /security/custom-regex-rules/.
func (s *Server) listRegexRules(r *http.Request, _ []byte) reply {
	return numberedPage(s, r, slices.Clone(s.ah.regexRules), defaultPackPageSize, maxPackPageSize)
}

func (s *Server) regexRuleOf(r *http.Request) (*regexRule, reply) {
	for _, x := range s.ah.regexRules {
		if x.ID == r.PathValue("rule_id") {
			return x, reply{}
		}
	}
	return nil, agentError(http.StatusNotFound, "rule_not_found", "No custom regex rule has this id.")
}

// patchRegexRule serves PATCH /security/custom-regex-rules/{rule_id}/.
func (s *Server) patchRegexRule(r *http.Request, body []byte) reply {
	x, rep := s.regexRuleOf(r)
	if x == nil {
		return rep
	}
	var q regexRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	next := *x
	if rep, bad := q.apply(&next, false); bad {
		return rep
	}
	next.ModifiedAt = s.now().UTC()
	*x = next
	s.audit("SECURITY_RULE_UPDATED", "Custom regex rule "+x.Name+" updated.")
	return reply{http.StatusOK, x}
}

// deleteRegexRule serves DELETE /security/custom-regex-rules/{rule_id}/,
// with the tool packs' overrides of the rule.
func (s *Server) deleteRegexRule(r *http.Request, _ []byte) reply {
	x, rep := s.regexRuleOf(r)
	if x == nil {
		return rep
	}
	s.ah.regexRules = slices.DeleteFunc(s.ah.regexRules, func(y *regexRule) bool { return y == x })
	for id, rules := range s.ah.packRegexRules {
		s.ah.packRegexRules[id] = slices.DeleteFunc(rules, func(y *regexRule) bool { return y.ID == x.ID })
	}
	s.audit("SECURITY_RULE_DELETED", "Custom regex rule "+x.Name+" deleted.")
	return reply{status: http.StatusOK}
}

// packRegexRules returns the custom regex rules as they apply to the tool
// pack packID: the organization's, each replaced by the pack's override,
// then the pack's own.
func (a *agentState) packRegexRulesOf(packID string) []*regexRule {
	own := a.packRegexRules[packID]
	var out []*regexRule
	for _, x := range a.regexRules {
		if i := slices.IndexFunc(own, func(y *regexRule) bool { return y.ID == x.ID }); i >= 0 {
			out = append(out, own[i])
		} else {
			out = append(out, x)
		}
	}
	for _, y := range own {
		if !slices.ContainsFunc(a.regexRules, func(x *regexRule) bool { return x.ID == y.ID }) {
			out = append(out, y)
		}
	}
	return out
}

// listPackRegexRules serves GET /tool-packs/{tool_pack_id}/custom-regex-rules/.
func (s *Server) listPackRegexRules(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	d, rep, bad := definedAtFilter(r)
	if bad {
		return rep
	}
	found := []combinedRegexRule{}
	for _, x := range s.ah.packRegexRulesOf(p.id) {
		if d == "" || x.DefinedAt == d {
			found = append(found, x.combined())
		}
	}
	return numberedPage(s, r, found, defaultPackPageSize, maxPackPageSize)
}

// createPackRegexRule serves POST /tool-packs/{tool_pack_id}/custom-regex-rules/:
// every field is required; a name of an organization rule makes an
// override of it.
func (s *Server) createPackRegexRule(r *http.Request, body []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	var q regexRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if q.Score == nil || q.ContextKeywords == nil || q.IsActive == nil || q.InboundAction == nil || q.OutboundAction == nil {
		return agentError(http.StatusBadRequest, "invalid_request", "name, regex, score, context_keywords, is_active, inbound_action and outbound_action are all required.")
	}
	x := s.newRegexRule("TOOL_PACK")
	if rep, bad := q.apply(x, true); bad {
		return rep
	}
	own := s.ah.packRegexRules[p.id]
	if slices.ContainsFunc(own, func(y *regexRule) bool { return y.Name == x.Name }) {
		return agentError(http.StatusBadRequest, "name_taken", "The Tool Pack has a custom regex rule with this name.")
	}
	if i := slices.IndexFunc(s.ah.regexRules, func(y *regexRule) bool { return y.Name == x.Name }); i >= 0 {
		x.ID = s.ah.regexRules[i].ID
	}
	s.ah.packRegexRules[p.id] = append(own, x)
	s.audit("SECURITY_RULE_CREATED", "Custom regex rule "+x.Name+" created for Tool Pack "+p.name+".")
	return reply{http.StatusCreated, x.combined()}
}

// packRegexRuleOf returns the rule the path names as it applies to the
// pack, and whether it is the pack's (own or override).
func (s *Server) packRegexRuleOf(r *http.Request) (*toolPack, *regexRule, bool, reply) {
	p, rep := s.packOf(r)
	if p == nil {
		return nil, nil, false, rep
	}
	id := r.PathValue("rule_id")
	for _, x := range s.ah.packRegexRulesOf(p.id) {
		if x.ID == id {
			return p, x, x.DefinedAt == "TOOL_PACK", reply{}
		}
	}
	return nil, nil, false, agentError(http.StatusNotFound, "rule_not_found", "No custom regex rule of the Tool Pack has this id.")
}

// getPackRegexRule serves GET /tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}/.
func (s *Server) getPackRegexRule(r *http.Request, _ []byte) reply {
	_, x, _, rep := s.packRegexRuleOf(r)
	if x == nil {
		return rep
	}
	return reply{http.StatusOK, x.combined()}
}

// patchPackRegexRule serves PATCH /tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}/:
// it changes the pack's rule, or overrides the organization's for the pack.
func (s *Server) patchPackRegexRule(r *http.Request, body []byte) reply {
	p, x, packs, rep := s.packRegexRuleOf(r)
	if x == nil {
		return rep
	}
	var q regexRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if q.DefinedAt != nil && *q.DefinedAt == "ORGANIZATION" {
		return agentError(http.StatusBadRequest, "invalid_defined_at", "defined_at cannot be ORGANIZATION in a Tool Pack's endpoint.")
	}
	next := *x
	if rep, bad := q.apply(&next, false); bad {
		return rep
	}
	next.DefinedAt, next.ModifiedAt = "TOOL_PACK", s.now().UTC()
	if packs {
		*x = next
	} else {
		s.ah.packRegexRules[p.id] = append(s.ah.packRegexRules[p.id], &next)
		x = &next
	}
	s.audit("SECURITY_RULE_UPDATED", "Custom regex rule "+x.Name+" updated for Tool Pack "+p.name+".")
	return reply{http.StatusOK, x.combined()}
}

// deletePackRegexRule serves DELETE /tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}/:
// an override goes (the organization's rule applies again), a pack's own
// rule is deleted; an organization rule the pack does not override is 404.
func (s *Server) deletePackRegexRule(r *http.Request, _ []byte) reply {
	p, x, packs, rep := s.packRegexRuleOf(r)
	if x == nil {
		return rep
	}
	if !packs {
		return agentError(http.StatusNotFound, "rule_not_found", "The Tool Pack neither has nor overrides this rule.")
	}
	s.ah.packRegexRules[p.id] = slices.DeleteFunc(s.ah.packRegexRules[p.id], func(y *regexRule) bool { return y == x })
	s.audit("SECURITY_RULE_DELETED", "Custom regex rule "+x.Name+" of Tool Pack "+p.name+" deleted.")
	return reply{status: http.StatusOK}
}
