package mergetest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mergelink/mergelink/internal/validate"
)

// toolPack is an Agent Handler tool pack: its connectors, in the order
// they were added, decide which tools its MCP endpoint lists (see the
// agentmcp module's mcptest).
type toolPack struct {
	id, name, description string
	connectors            []packConnector
}

// packConnector is a connector of a tool pack with the tools it enables.
type packConnector struct {
	slug, authScope string
	tools           []string
}

// Wire forms of a tool pack, as the OpenAPI's ToolPackPublic and
// ConnectorPublic have them.
type (
	toolPackJSON struct {
		ID          string              `json:"id"`
		Name        string              `json:"name"`
		Description string              `json:"description"`
		Connectors  []packConnectorJSON `json:"connectors"`
	}
	packConnectorJSON struct {
		Slug        string         `json:"slug"`
		Name        string         `json:"name"`
		SourceURL   *string        `json:"source_url"`
		LogoURL     string         `json:"logo_url"`
		Categories  []string       `json:"categories"`
		AuthScope   string         `json:"auth_scope"`
		Tools       []fullToolJSON `json:"tools"`
		ConnectorID string         `json:"connector_id"`
	}
	fullToolJSON struct {
		Name        string         `json:"name"`
		Description *string        `json:"description"`
		InputSchema map[string]any `json:"input_schema"`
		CreditType  string         `json:"credit_type"`
	}
)

// json returns p's wire form, each tool described as the agent sees it in
// this pack: the pack's override, else the connector-level one, else
// Merge's description.
func (s *Server) packJSON(p *toolPack) toolPackJSON {
	out := toolPackJSON{ID: p.id, Name: p.name, Description: p.description, Connectors: s.packConnectorsJSON(p)}
	return out
}

func (s *Server) packConnectorsJSON(p *toolPack) []packConnectorJSON {
	out := []packConnectorJSON{}
	for _, pc := range p.connectors {
		k, _ := lookupConnector(pc.slug) // checked when added
		kj := k.json()
		c := packConnectorJSON{Slug: k.slug, Name: k.name, SourceURL: kj.SourceURL, LogoURL: kj.LogoURL,
			Categories: kj.Categories, AuthScope: pc.authScope, Tools: []fullToolJSON{}, ConnectorID: kj.ID}
		for _, t := range kj.Tools {
			if !slices.Contains(pc.tools, t.Name) {
				continue
			}
			d := *t.Description
			if o := s.ah.override(p.id, k.slug, t.Name); o != nil {
				d = o.Description
			}
			c.Tools = append(c.Tools, fullToolJSON{Name: t.Name, Description: &d, InputSchema: map[string]any{"type": "object"}, CreditType: t.CreditType})
		}
		out = append(out, c)
	}
	return out
}

// connectorInput is one item of a tool pack's connector list in a request.
type connectorInput struct {
	Slug        *string   `json:"slug"`
	ConnectorID *string   `json:"connector_id"`
	AuthScope   *string   `json:"auth_scope"`
	ToolNames   *[]string `json:"tool_names"`
}

// resolve checks an input item against the catalog: it returns the
// connector and the tools named (all when none are), or a 400 reply.
func (in connectorInput) resolve(at string) (connector, []string, reply, bool) {
	slug := deref(in.Slug)
	if slug == "" && in.ConnectorID != nil {
		for _, k := range connectorCatalog {
			if k.json().ID == *in.ConnectorID {
				slug = k.slug
			}
		}
	}
	k, ok := lookupConnector(slug)
	if !ok {
		return k, nil, agentError(http.StatusBadRequest, "invalid_connector", fmt.Sprintf("%s.slug: %s is not a valid connector.", at, validate.Quote(slug))), true
	}
	if sc := in.AuthScope; sc != nil && *sc != "INDIVIDUAL" && *sc != "SHARED" && *sc != "ORGANIZATION" {
		return k, nil, agentError(http.StatusBadRequest, "invalid_auth_scope", fmt.Sprintf("%s.auth_scope must be INDIVIDUAL, SHARED or ORGANIZATION.", at)), true
	}
	if in.ToolNames == nil {
		return k, slices.Clone(k.tools), reply{}, false
	}
	for _, t := range *in.ToolNames {
		if !slices.Contains(k.tools, t) {
			return k, nil, agentError(http.StatusBadRequest, "invalid_tool_name", fmt.Sprintf("%s.tool_names: %s has no tool %s.", at, k.name, validate.Quote(t))), true
		}
	}
	return k, slices.Clone(*in.ToolNames), reply{}, false
}

// applyConnectors changes p's connectors by items: replace drops those
// not listed (PUT), otherwise they stay (PATCH).
func applyConnectors(p *toolPack, items []connectorInput, replace bool) (reply, bool) {
	next := slices.Clone(p.connectors)
	if replace {
		next = nil
	}
	for i, in := range items {
		k, tools, rep, bad := in.resolve(fmt.Sprintf("connectors[%d]", i))
		if bad {
			return rep, true
		}
		j := slices.IndexFunc(next, func(c packConnector) bool { return c.slug == k.slug })
		if in.ToolNames != nil && len(*in.ToolNames) == 0 {
			if j >= 0 {
				next = slices.Delete(next, j, j+1)
			}
			continue
		}
		if j < 0 {
			next = append(next, packConnector{slug: k.slug, authScope: "INDIVIDUAL", tools: tools})
			j = len(next) - 1
		} else if in.ToolNames != nil || replace {
			next[j].tools = tools
		}
		if in.AuthScope != nil {
			next[j].authScope = *in.AuthScope
		}
	}
	p.connectors = next
	return reply{}, false
}

// toolPackRequest is the body of a tool pack's POST or PATCH.
type toolPackRequest struct {
	ID          *string           `json:"id"` // in Merge's request schema, and ignored
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	Connectors  *[]connectorInput `json:"connectors"`
}

// createToolPack serves POST /tool-packs/.
func (s *Server) createToolPack(r *http.Request, body []byte) reply {
	var q toolPackRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if deref(q.Name) == "" {
		return agentError(http.StatusBadRequest, "name_required", "name is required.")
	}
	if q.Description == nil {
		return agentError(http.StatusBadRequest, "description_required", "description is required.")
	}
	p := &toolPack{id: s.ids.id(), name: *q.Name, description: *q.Description}
	if q.Connectors != nil {
		if rep, bad := applyConnectors(p, *q.Connectors, true); bad {
			return rep
		}
	}
	s.ah.packs = append(s.ah.packs, p)
	s.audit("TOOL_PACK_CREATED", "Tool Pack "+p.name+" created.")
	return reply{http.StatusCreated, s.packJSON(p)}
}

// Tool pack page sizes.
const (
	defaultPackPageSize = 100
	maxPackPageSize     = 100
)

// listToolPacks serves GET /tool-packs/.
func (s *Server) listToolPacks(r *http.Request, _ []byte) reply {
	all := make([]toolPackJSON, len(s.ah.packs))
	for i, p := range s.ah.packs {
		all[i] = s.packJSON(p)
	}
	return numberedPage(s, r, all, defaultPackPageSize, maxPackPageSize)
}

// packOf returns the tool pack the path names ({id} or {tool_pack_id}),
// or a 404 reply.
func (s *Server) packOf(r *http.Request) (*toolPack, reply) {
	id := r.PathValue("tool_pack_id")
	if id == "" {
		id = r.PathValue("id")
	}
	if p := s.ah.pack(id); p != nil {
		return p, reply{}
	}
	return nil, agentError(http.StatusNotFound, "tool_pack_not_found", "No Tool Pack has this id.")
}

func (a *agentState) pack(id string) *toolPack {
	for _, p := range a.packs {
		if p.id == id {
			return p
		}
	}
	return nil
}

// getToolPack serves GET /tool-packs/{id}/.
func (s *Server) getToolPack(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	return reply{http.StatusOK, s.packJSON(p)}
}

// patchToolPack serves PATCH /tool-packs/{id}/: connectors, when given,
// replace the pack's.
func (s *Server) patchToolPack(r *http.Request, body []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	var q toolPackRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if q.Name != nil && *q.Name == "" {
		return agentError(http.StatusBadRequest, "name_required", "name must not be empty.")
	}
	next := *p
	if q.Connectors != nil {
		if rep, bad := applyConnectors(&next, *q.Connectors, true); bad {
			return rep
		}
	}
	if q.Name != nil {
		next.name = *q.Name
	}
	if q.Description != nil {
		next.description = *q.Description
	}
	*p = next
	s.audit("TOOL_PACK_UPDATED", "Tool Pack "+p.name+" updated.")
	return reply{http.StatusOK, s.packJSON(p)}
}

// deleteToolPack serves DELETE /tool-packs/{id}/, and drops what the pack
// held: its rules and overrides.
func (s *Server) deleteToolPack(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	s.ah.packs = slices.DeleteFunc(s.ah.packs, func(q *toolPack) bool { return q == p })
	delete(s.ah.packEntityRules, p.id)
	delete(s.ah.packRegexRules, p.id)
	delete(s.ah.packOverrides, p.id)
	s.audit("TOOL_PACK_DELETED", "Tool Pack "+p.name+" deleted.")
	return reply{status: http.StatusOK}
}

// listPackConnectors serves GET /tool-packs/{tool_pack_id}/connectors/.
func (s *Server) listPackConnectors(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	return reply{http.StatusOK, s.packConnectorsJSON(p)}
}

// changePackConnectors serves PUT (replace) and PATCH (merge) of
// /tool-packs/{tool_pack_id}/connectors/.
func (s *Server) changePackConnectors(r *http.Request, body []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	var items []connectorInput
	if rep, bad := decodeStrict(body, &items); bad {
		return rep
	}
	if items == nil {
		return agentError(http.StatusBadRequest, "invalid_request", "The request body must be a list of connectors.")
	}
	if rep, bad := applyConnectors(p, items, r.Method == http.MethodPut); bad {
		return rep
	}
	s.audit("TOOL_PACK_UPDATED", "Tool Pack "+p.name+" connectors updated.")
	return reply{http.StatusOK, s.packConnectorsJSON(p)}
}

// removePackConnector serves DELETE
// /tool-packs/{tool_pack_id}/connectors/{slug}/, 404 when the pack does
// not have the connector.
func (s *Server) removePackConnector(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	slug := r.PathValue("slug")
	j := slices.IndexFunc(p.connectors, func(c packConnector) bool { return c.slug == slug })
	if j < 0 {
		return agentError(http.StatusNotFound, "connector_not_found", "The Tool Pack has no connector with this slug.")
	}
	p.connectors = slices.Delete(p.connectors, j, j+1)
	s.audit("TOOL_PACK_UPDATED", "Tool Pack "+p.name+" connector "+slug+" removed.")
	return reply{status: http.StatusOK}
}

// searchTools serves POST
// /tool-packs/{tool_pack_id}/registered-users/{id}/search/: the pack's
// tools whose name, description or connector name hold words of the
// intent, scored by the share of words they hold.
func (s *Server) searchTools(r *http.Request, body []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	if u, rep := s.userOf(r); u == nil {
		return rep
	}
	var q struct {
		Intent         *string   `json:"intent"`
		ConnectorSlugs *[]string `json:"connector_slugs"`
		MaxResults     *int      `json:"max_results"`
	}
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	intent := deref(q.Intent)
	if strings.TrimSpace(intent) == "" {
		return agentError(http.StatusBadRequest, "intent_required", "intent is required.")
	}
	limit := 10
	if q.MaxResults != nil {
		if *q.MaxResults < 1 {
			return agentError(http.StatusBadRequest, "invalid_max_results", "max_results must be 1 or more.")
		}
		limit = *q.MaxResults
	}
	var words []string
	for _, w := range strings.Fields(strings.ToLower(intent)) {
		if w = strings.Trim(w, ".,;:!?\"'"); len(w) >= 3 {
			words = append(words, strings.TrimSuffix(w, "s"))
		}
	}
	type found struct {
		Name               string         `json:"name"`
		FullyQualifiedName string         `json:"fully_qualified_name"`
		HumanName          string         `json:"human_name"`
		Description        string         `json:"description"`
		InputSchema        map[string]any `json:"input_schema"`
		RelevanceScore     float64        `json:"relevance_score"`
		Reasoning          string         `json:"reasoning"`
	}
	tools := []found{}
	for _, c := range s.packConnectorsJSON(p) {
		if q.ConnectorSlugs != nil && !slices.Contains(*q.ConnectorSlugs, c.Slug) {
			continue
		}
		for _, t := range c.Tools {
			text := strings.ToLower(c.Name + " " + strings.ReplaceAll(t.Name, "_", " ") + " " + *t.Description)
			var hit []string
			for _, w := range words {
				if strings.Contains(text, w) {
					hit = append(hit, w)
				}
			}
			if len(hit) == 0 {
				continue
			}
			human := strings.ReplaceAll(t.Name, "_", " ")
			tools = append(tools, found{
				Name:               c.Slug + "_" + t.Name,
				FullyQualifiedName: c.Slug + "." + t.Name,
				HumanName:          strings.ToUpper(human[:1]) + human[1:],
				Description:        *t.Description,
				InputSchema:        t.InputSchema,
				RelevanceScore:     float64(len(hit)) / float64(len(words)),
				Reasoning:          "Matches " + strings.Join(hit, ", ") + ".",
			})
		}
	}
	slices.SortStableFunc(tools, func(a, b found) int {
		switch {
		case a.RelevanceScore > b.RelevanceScore:
			return -1
		case a.RelevanceScore < b.RelevanceScore:
			return 1
		}
		return 0
	})
	total := len(tools)
	return reply{http.StatusOK, map[string]any{"tools": tools[:min(limit, total)], "total_results": total, "intent": intent}}
}
