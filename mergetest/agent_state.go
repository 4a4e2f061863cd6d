package mergetest

import "net/http"

// agentState is what the Agent Handler operations beyond registered users,
// link tokens and connectors keep: callback origins registered over the
// API, tool packs, application credentials, access keys, security rules,
// tool description overrides and the audit log. It is guarded by the
// Server's mu.
type agentState struct {
	origins         map[string]*callbackOrigin // by origin
	packs           []*toolPack
	appCreds        []*appCredential
	keys            []*accessKey
	entityRules     map[string]*entityRule                // organization rules, by entity type
	packEntityRules map[string]map[string]*entityOverride // by tool pack id, then entity type
	regexRules      []*regexRule                          // organization rules
	packRegexRules  map[string][]*regexRule               // by tool pack id
	overrides       []*toolOverride                       // connector-level
	packOverrides   map[string][]*toolOverride            // by tool pack id
	auditLog        []auditEvent                          // newest first
}

func newAgentState() *agentState {
	return &agentState{
		origins:         map[string]*callbackOrigin{},
		entityRules:     defaultEntityRules(),
		packEntityRules: map[string]map[string]*entityOverride{},
		packRegexRules:  map[string][]*regexRule{},
		packOverrides:   map[string][]*toolOverride{},
	}
}

// found serves the GET of one item: the item of finds, or its 404 reply.
func found[T any](of func(*http.Request) (*T, reply)) handler {
	return func(r *http.Request, _ []byte) reply {
		v, rep := of(r)
		if v == nil {
			return rep
		}
		return reply{http.StatusOK, v}
	}
}
