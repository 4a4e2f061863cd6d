package mergetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/mergetest"
)

// TestAgentHandlerResponsesMatchTheOpenAPI extends
// TestResponsesMatchTheOpenAPI to the rest of Agent Handler: tool packs and
// their connectors, tool search, application credentials, access keys, the
// audit log, security rules and tool description overrides. Every 2xx body
// validates against the response schema of Merge's OpenAPI, and the
// journey reaches every one of those operations. The callback-origins
// endpoint, which the OpenAPI lacks, is checked against its documented
// shape.
func TestAgentHandlerResponsesMatchTheOpenAPI(t *testing.T) {
	t.Parallel()
	f := loadOpenAPIFields(t)
	srv := mergetest.NewTestServer(t)
	checked := map[string]int{}
	call := func(method, path, body string, status int) any {
		t.Helper()
		a := send(t, srv, method, ah+path, body)
		require.Equal(t, status, a.status, "%s %s: %s", method, path, a.body)
		op := f.operation(method, strings.SplitN(ah+path, "?", 2)[0])
		require.NotNil(t, op, "%s %s: the OpenAPI has no such operation", method, path)
		checked[op.Method+" "+op.Path]++
		assert.Equal(t, op.Status, status, "%s %s: the status the OpenAPI lists", method, path)
		if op.Schema == nil {
			assert.Empty(t, a.body, "%s %s: the OpenAPI gives no body", method, path)
			return nil
		}
		var v any
		require.NoError(t, json.Unmarshal(a.body, &v), "%s %s", method, path)
		for _, p := range f.check("body", *op.Schema, v) {
			t.Errorf("%s %s: %s\n%s", method, path, p, a.body)
		}
		return v
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }

	// The callback origin: {id, origin, created_at, modified_at}, as Merge
	// documents it.
	for _, status := range []int{http.StatusCreated, http.StatusOK} {
		a := send(t, srv, "POST", ah+"/allowed-callback-origins/", `{"origin":"https://app.example.com/cb?x=1"}`)
		require.Equal(t, status, a.status, "%s", a.body)
		o := a.json(t)
		assert.Len(t, o, 4, "%s", a.body)
		assert.Equal(t, "https://app.example.com", o["origin"])
		assert.NotEmpty(t, o["id"])
		for _, at := range []string{"created_at", "modified_at"} {
			_, err := time.Parse(time.RFC3339Nano, o[at].(string))
			assert.NoError(t, err, at)
		}
	}

	u := obj(call("POST", "/registered-users/", `{"origin_user_id":"u1","origin_user_name":"Ada"}`, http.StatusCreated))
	user := u["id"].(string)

	// Tool packs and their connectors.
	tp := obj(call("POST", "/tool-packs/", `{"name":"Support","description":"Tickets","connectors":[{"slug":"linear","tool_names":["create_issue"]},{"slug":"slack"}]}`, http.StatusCreated))
	pack := tp["id"].(string)
	call("POST", "/tool-packs/", `{"name":"Other","description":"More"}`, http.StatusCreated)
	call("GET", "/tool-packs/", "", http.StatusOK)
	call("GET", "/tool-packs/?page=2&page_size=1", "", http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/", "", http.StatusOK)
	call("PATCH", "/tool-packs/"+pack+"/", `{"name":"Support desk"}`, http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/connectors/", "", http.StatusOK)
	call("PUT", "/tool-packs/"+pack+"/connectors/", `[{"slug":"linear"},{"slug":"slack","tool_names":["send_message"]}]`, http.StatusOK)
	call("PATCH", "/tool-packs/"+pack+"/connectors/", `[{"slug":"github"}]`, http.StatusOK)
	call("DELETE", "/tool-packs/"+pack+"/connectors/github/", "", http.StatusOK)
	call("POST", "/tool-packs/"+pack+"/registered-users/"+user+"/search/", `{"intent":"create an issue","max_results":3}`, http.StatusOK)
	call("POST", "/tool-packs/"+pack+"/registered-users/"+user+"/search/", `{"intent":"post","connector_slugs":["slack"]}`, http.StatusOK)

	// Application credentials.
	ac := obj(call("POST", "/application-credentials/", `{"connector_slug":"linear","client_id":"cid","client_secret":"shh","external_id":"app-1"}`, http.StatusCreated))
	call("POST", "/application-credentials/", `{"connector_slug":"slack","client_id":"cid2"}`, http.StatusCreated)
	call("GET", "/application-credentials/", "", http.StatusOK)
	call("GET", "/application-credentials/?slug=linear&external_id=app-1", "", http.StatusOK)
	call("GET", "/application-credentials/"+ac["id"].(string)+"/", "", http.StatusOK)
	call("PATCH", "/application-credentials/"+ac["id"].(string)+"/", `{"client_id":"cid3","external_id":null}`, http.StatusOK)
	call("DELETE", "/application-credentials/"+ac["id"].(string)+"/", "", http.StatusOK)

	// Access keys.
	k := obj(call("POST", "/access-keys/", `{"name":"ci","tool_pack_ids":["`+pack+`"],"expires_in":3600}`, http.StatusCreated))
	call("POST", "/access-keys/", `{"name":"forever","expires_at":null}`, http.StatusCreated)
	call("GET", "/access-keys/", "", http.StatusOK)
	call("GET", "/access-keys/?page_size=1", "", http.StatusOK)
	call("GET", "/access-keys/"+k["id"].(string)+"/", "", http.StatusOK)
	call("POST", "/access-keys/"+k["id"].(string)+"/regenerate/", "", http.StatusOK)
	call("POST", "/access-keys/"+k["id"].(string)+"/revoke/", "", http.StatusOK)

	// Standard entity rules, for the organization and per tool pack.
	call("GET", "/security/standard-entity-rules/", "", http.StatusOK)
	call("GET", "/security/standard-entity-rules/EMAIL_ADDRESS/", "", http.StatusOK)
	call("PUT", "/security/standard-entity-rules/EMAIL_ADDRESS/", `{"is_active":true,"inbound_action":"REDACT","outbound_action":"BLOCK"}`, http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/standard-entity-rules/", "", http.StatusOK)
	call("PUT", "/tool-packs/"+pack+"/standard-entity-rules/EMAIL_ADDRESS/", `{"is_active":false,"inbound_action":"NONE","outbound_action":"LOG"}`, http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/standard-entity-rules/EMAIL_ADDRESS/", "", http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/standard-entity-rules/?defined_at=TOOL_PACK", "", http.StatusOK)
	call("DELETE", "/tool-packs/"+pack+"/standard-entity-rules/EMAIL_ADDRESS/", "", http.StatusOK)

	// Custom regex rules, for the organization and per tool pack.
	rule := obj(call("POST", "/security/custom-regex-rules/", `{"name":"Ticket ids","regex":"TCK-[0-9]+","score":0.8,"context_keywords":["ticket"]}`, http.StatusCreated))
	rid := rule["id"].(string)
	call("GET", "/security/custom-regex-rules/", "", http.StatusOK)
	call("GET", "/security/custom-regex-rules/"+rid+"/", "", http.StatusOK)
	call("PATCH", "/security/custom-regex-rules/"+rid+"/", `{"score":0.5,"is_active":false}`, http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/custom-regex-rules/", "", http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/custom-regex-rules/"+rid+"/", "", http.StatusOK)
	call("PATCH", "/tool-packs/"+pack+"/custom-regex-rules/"+rid+"/", `{"is_active":true}`, http.StatusOK)
	own := obj(call("POST", "/tool-packs/"+pack+"/custom-regex-rules/", `{"name":"Codes","regex":"C[0-9]{4}","score":0.9,"context_keywords":[],"is_active":true,"inbound_action":"REDACT","outbound_action":"BLOCK"}`, http.StatusCreated))
	call("GET", "/tool-packs/"+pack+"/custom-regex-rules/?defined_at=TOOL_PACK", "", http.StatusOK)
	call("DELETE", "/tool-packs/"+pack+"/custom-regex-rules/"+own["id"].(string)+"/", "", http.StatusOK)
	call("DELETE", "/security/custom-regex-rules/"+rid+"/", "", http.StatusOK)

	// Tool description overrides, per connector and per tool pack.
	call("PATCH", "/connectors/tool-description-overrides/", `[{"connector_slug":"linear","tool_name":"create_issue","description":"Files a bug."}]`, http.StatusOK)
	call("GET", "/connectors/tool-description-overrides/", "", http.StatusOK)
	call("GET", "/connectors/tool-description-overrides/?slug=linear", "", http.StatusOK)
	call("PATCH", "/tool-packs/"+pack+"/tool-description-overrides/", `[{"connector_slug":"linear","tool_name":"create_issue","description":"Files a ticket."}]`, http.StatusOK)
	call("GET", "/tool-packs/"+pack+"/tool-description-overrides/", "", http.StatusOK)
	call("PATCH", "/tool-packs/"+pack+"/tool-description-overrides/", `[{"connector_slug":"linear","tool_name":"create_issue","description":null}]`, http.StatusOK)

	// The audit log, with its filters.
	call("GET", "/audit-log/", "", http.StatusOK)
	call("GET", "/audit-log/?event_type=REGISTERED_USER_CREATED&page_size=1", "", http.StatusOK)
	call("GET", "/audit-log/?created_after="+url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), "", http.StatusOK)
	call("GET", "/audit-log/?user_id="+mergetest.AuditUserID, "", http.StatusOK)

	call("DELETE", "/tool-packs/"+pack+"/", "", http.StatusOK)

	for _, op := range f.Operations {
		if op.API != "agent" || op.Status < 200 || op.Status > 299 || strings.HasSuffix(op.Path, "/mcp/") {
			continue
		}
		assert.NotZero(t, checked[op.Method+" "+op.Path]+reachedBefore[op.Method+" "+op.Path], "a journey reaches %s %s", op.Method, op.Path)
	}
}

// reachedBefore are the Agent Handler operations that
// TestResponsesMatchTheOpenAPI's journey reaches.
var reachedBefore = map[string]int{
	"GET /registered-users/": 1, "GET /registered-users/{registered_user_id}/": 1,
	"PATCH /registered-users/{registered_user_id}/": 1, "DELETE /registered-users/{registered_user_id}/": 1,
	"POST /registered-users/{registered_user_id}/link-token/": 1,
	"GET /connectors/": 1, "GET /connectors/{slug}/": 1,
	"DELETE /credentials/registered-users/{registered_user_id}/connectors/{connector_slug}/": 1,
}
