package mergetest

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// toolOverride is a tool description override, connector-level or of a
// tool pack.
type toolOverride struct {
	ID            string    `json:"id"`
	ConnectorSlug string    `json:"connector_slug"`
	ToolName      string    `json:"tool_name"`
	Description   string    `json:"description"`
	DefinedAt     string    `json:"defined_at"`
	CreatedAt     time.Time `json:"created_at"`
	ModifiedAt    time.Time `json:"modified_at"`
}

// override returns the override that describes a tool in the tool pack
// packID: the pack's, else the connector-level one, else nil.
func (a *agentState) override(packID, slug, tool string) *toolOverride {
	match := func(o *toolOverride) bool { return o.ConnectorSlug == slug && o.ToolName == tool }
	if i := slices.IndexFunc(a.packOverrides[packID], match); i >= 0 {
		return a.packOverrides[packID][i]
	}
	if i := slices.IndexFunc(a.overrides, match); i >= 0 {
		return a.overrides[i]
	}
	return nil
}

// upsertOverrides applies a bulk PATCH body to list: a null description
// deletes an override, a string sets one. It returns the new list and the
// overrides set.
func (s *Server) upsertOverrides(list []*toolOverride, body []byte, definedAt string) ([]*toolOverride, []*toolOverride, reply, bool) {
	var items []struct {
		ConnectorSlug *string `json:"connector_slug"`
		ToolName      *string `json:"tool_name"`
		Description   *string `json:"description"`
	}
	if rep, bad := decodeStrict(body, &items); bad {
		return nil, nil, rep, true
	}
	next := slices.Clone(list)
	set := []*toolOverride{}
	now := s.now().UTC()
	for i, it := range items {
		k, ok := lookupConnector(deref(it.ConnectorSlug))
		switch {
		case !ok:
			return nil, nil, agentError(http.StatusBadRequest, "invalid_connector", fmt.Sprintf("[%d].connector_slug: %s is not a valid connector.", i, validate.Quote(deref(it.ConnectorSlug)))), true
		case !slices.Contains(k.tools, deref(it.ToolName)):
			return nil, nil, agentError(http.StatusBadRequest, "invalid_tool_name", fmt.Sprintf("[%d].tool_name: %s has no tool %s.", i, k.name, validate.Quote(deref(it.ToolName)))), true
		case it.Description != nil && *it.Description == "":
			return nil, nil, agentError(http.StatusBadRequest, "invalid_description", fmt.Sprintf("[%d].description must not be empty: send null to delete the override.", i)), true
		}
		j := slices.IndexFunc(next, func(o *toolOverride) bool { return o.ConnectorSlug == k.slug && o.ToolName == *it.ToolName })
		switch {
		case it.Description == nil && j >= 0:
			next = slices.Delete(next, j, j+1)
		case it.Description == nil:
		case j >= 0:
			o := *next[j]
			o.Description, o.ModifiedAt = *it.Description, now
			next[j] = &o
			set = append(set, &o)
		default:
			o := &toolOverride{ID: s.ids.id(), ConnectorSlug: k.slug, ToolName: *it.ToolName, Description: *it.Description,
				DefinedAt: definedAt, CreatedAt: now, ModifiedAt: now}
			next = append(next, o)
			set = append(set, o)
		}
	}
	return next, set, reply{}, false
}

// filterOverrides serves a list of overrides with the slug filter.
func (s *Server) filterOverrides(r *http.Request, list []*toolOverride) reply {
	found := []*toolOverride{}
	for _, o := range list {
		if !r.URL.Query().Has("slug") || r.URL.Query().Get("slug") == o.ConnectorSlug {
			found = append(found, o)
		}
	}
	return numberedPage(s, r, found, defaultPackPageSize, maxPackPageSize)
}

// listOverrides serves GET /connectors/tool-description-overrides/.
func (s *Server) listOverrides(r *http.Request, _ []byte) reply {
	return s.filterOverrides(r, s.ah.overrides)
}

// patchOverrides serves PATCH /connectors/tool-description-overrides/.
func (s *Server) patchOverrides(r *http.Request, body []byte) reply {
	next, set, rep, bad := s.upsertOverrides(s.ah.overrides, body, "CONNECTOR")
	if bad {
		return rep
	}
	s.ah.overrides = next
	s.audit("CONNECTOR_UPDATED", fmt.Sprintf("Tool description overrides updated (%d set).", len(set)))
	return reply{http.StatusOK, set}
}

// listPackOverrides serves GET /tool-packs/{tool_pack_id}/tool-description-overrides/.
func (s *Server) listPackOverrides(r *http.Request, _ []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	return s.filterOverrides(r, s.ah.packOverrides[p.id])
}

// patchPackOverrides serves PATCH /tool-packs/{tool_pack_id}/tool-description-overrides/.
func (s *Server) patchPackOverrides(r *http.Request, body []byte) reply {
	p, rep := s.packOf(r)
	if p == nil {
		return rep
	}
	next, set, rep, bad := s.upsertOverrides(s.ah.packOverrides[p.id], body, "TOOL_PACK")
	if bad {
		return rep
	}
	s.ah.packOverrides[p.id] = next
	s.audit("TOOL_PACK_UPDATED", fmt.Sprintf("Tool Pack %s tool description overrides updated (%d set).", p.name, len(set)))
	return reply{http.StatusOK, set}
}
