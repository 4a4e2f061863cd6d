package agenthandler_test

import (
	"bufio"
	"bytes"
	_ "embed"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// agentHandlerOpenAPI is Merge's exported Agent Handler OpenAPI, copied
// from the shared spec: a new copy shows what a spec update adds.
//
//go:embed testdata/merge-agent-handler-openapi.yaml
var agentHandlerOpenAPI []byte

// specCalls maps each operation of the spec ("METHOD /path", the path
// below /api/v1) to the call that makes it: a method of
// *agenthandler.Client, or the agentmcp module's Connect for the MCP
// endpoint. callbackOrigins is the one operation Merge documents beyond
// the exported spec.
var specCalls = map[string]string{
	"GET /connectors/":                      "ListConnectors",
	"GET /connectors/{slug}/":               "GetConnector",
	"GET /application-credentials/":         "ListApplicationCredentials",
	"POST /application-credentials/":        "CreateApplicationCredential",
	"GET /application-credentials/{id}/":    "GetApplicationCredential",
	"DELETE /application-credentials/{id}/": "DeleteApplicationCredential",
	"PATCH /application-credentials/{id}/":  "UpdateApplicationCredential",
	"DELETE /credentials/registered-users/{registered_user_id}/connectors/{connector_slug}/": "DeleteCredential",
	"GET /access-keys/":                                                             "ListAccessKeys",
	"POST /access-keys/":                                                            "CreateAccessKey",
	"GET /access-keys/{key_id}/":                                                    "GetAccessKey",
	"POST /access-keys/{key_id}/regenerate/":                                        "RegenerateAccessKey",
	"POST /access-keys/{key_id}/revoke/":                                            "RevokeAccessKey",
	"GET /audit-log/":                                                               "ListAuditLogEvents",
	"GET /registered-users/":                                                        "ListRegisteredUsers",
	"POST /registered-users/":                                                       "CreateRegisteredUser",
	"GET /registered-users/{registered_user_id}/":                                   "GetRegisteredUser",
	"DELETE /registered-users/{registered_user_id}/":                                "DeleteRegisteredUser",
	"PATCH /registered-users/{registered_user_id}/":                                 "UpdateRegisteredUser",
	"POST /registered-users/{registered_user_id}/link-token/":                       "CreateLinkToken",
	"GET /tool-packs/":                                                              "ListToolPacks",
	"POST /tool-packs/":                                                             "CreateToolPack",
	"GET /tool-packs/{id}/":                                                         "GetToolPack",
	"DELETE /tool-packs/{id}/":                                                      "DeleteToolPack",
	"PATCH /tool-packs/{id}/":                                                       "UpdateToolPack",
	"GET /tool-packs/{tool_pack_id}/connectors/":                                    "ListToolPackConnectors",
	"PUT /tool-packs/{tool_pack_id}/connectors/":                                    "SetToolPackConnectors",
	"PATCH /tool-packs/{tool_pack_id}/connectors/":                                  "UpdateToolPackConnectors",
	"DELETE /tool-packs/{tool_pack_id}/connectors/{slug}/":                          "RemoveToolPackConnector",
	"GET /connectors/tool-description-overrides/":                                   "ListToolDescriptionOverrides",
	"PATCH /connectors/tool-description-overrides/":                                 "UpdateToolDescriptionOverrides",
	"GET /tool-packs/{tool_pack_id}/tool-description-overrides/":                    "ListToolPackToolDescriptionOverrides",
	"PATCH /tool-packs/{tool_pack_id}/tool-description-overrides/":                  "UpdateToolPackToolDescriptionOverrides",
	"POST /tool-packs/{tool_pack_id}/registered-users/{registered_user_id}/mcp/":    "agentmcp.Connect",
	"POST /tool-packs/{tool_pack_id}/registered-users/{registered_user_id}/search/": "SearchTools",
	"GET /security/standard-entity-rules/":                                          "ListStandardEntityRules",
	"GET /security/standard-entity-rules/{entity_type}/":                            "GetStandardEntityRule",
	"PUT /security/standard-entity-rules/{entity_type}/":                            "UpdateStandardEntityRule",
	"GET /tool-packs/{tool_pack_id}/standard-entity-rules/":                         "ListToolPackStandardEntityRules",
	"GET /tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}/":           "GetToolPackStandardEntityRule",
	"PUT /tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}/":           "SetToolPackStandardEntityRule",
	"DELETE /tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}/":        "DeleteToolPackStandardEntityRule",
	"GET /security/custom-regex-rules/":                                             "ListCustomRegexRules",
	"POST /security/custom-regex-rules/":                                            "CreateCustomRegexRule",
	"GET /security/custom-regex-rules/{rule_id}/":                                   "GetCustomRegexRule",
	"DELETE /security/custom-regex-rules/{rule_id}/":                                "DeleteCustomRegexRule",
	"PATCH /security/custom-regex-rules/{rule_id}/":                                 "UpdateCustomRegexRule",
	"GET /tool-packs/{tool_pack_id}/custom-regex-rules/":                            "ListToolPackCustomRegexRules",
	"POST /tool-packs/{tool_pack_id}/custom-regex-rules/":                           "CreateToolPackCustomRegexRule",
	"GET /tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}/":                  "GetToolPackCustomRegexRule",
	"DELETE /tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}/":               "DeleteToolPackCustomRegexRule",
	"PATCH /tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}/":                "UpdateToolPackCustomRegexRule",

	"POST /allowed-callback-origins/": "RegisterCallbackOrigin", // documented, not in the exported spec
}

// specOperations reads the operations of an OpenAPI document in Merge's
// export layout: a path at two spaces' indent, its methods at four. It
// keeps the path below /api/v1.
func specOperations(t *testing.T, doc []byte) []string {
	t.Helper()
	pathLine := regexp.MustCompile(`^  (/\S*):\s*$`)
	methodLine := regexp.MustCompile(`^    (get|put|post|patch|delete|head|options):\s*$`)
	var ops []string
	path, inPaths := "", false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && !strings.HasPrefix(line, " "):
			inPaths = false
		case !inPaths:
		case pathLine.MatchString(line):
			path = strings.TrimPrefix(pathLine.FindStringSubmatch(line)[1], "/api/v1")
		case methodLine.MatchString(line):
			ops = append(ops, strings.ToUpper(methodLine.FindStringSubmatch(line)[1])+" "+path)
		}
	}
	require.NoError(t, sc.Err())
	return ops
}

// Every operation of Merge's Agent Handler spec has a typed call, named in
// specCalls, and every call named there exists: a spec update that adds an
// operation fails here, naming it.
func TestEveryOperationOfTheSpecHasACall(t *testing.T) {
	t.Parallel()
	ops := specOperations(t, agentHandlerOpenAPI)
	require.Len(t, ops, 52, "the spec copy in testdata holds 52 operations")
	var missing []string
	for _, op := range ops {
		if _, ok := specCalls[op]; !ok {
			missing = append(missing, op)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "operations of the spec without a call: add one, and name it in specCalls")

	client := reflect.TypeOf(&agenthandler.Client{})
	for op, name := range specCalls {
		if strings.Contains(name, ".") {
			continue // another module's call
		}
		_, ok := client.MethodByName(name)
		assert.True(t, ok, "%s: specCalls names %s, which *agenthandler.Client lacks", op, name)
	}
}

// The scan refuses to pass a spec it cannot read: it finds operations in
// a small document in the export's layout, and none elsewhere.
func TestSpecOperationsReadsTheExportLayout(t *testing.T) {
	t.Parallel()
	doc := []byte("openapi: 3.1.0\npaths:\n  /api/v1/things/:\n    get:\n      operationId: list\n    post:\n      operationId: create\n  /api/v1/things/{id}/:\n    delete:\n      responses: {}\ncomponents:\n  /api/v1/not-a-path/:\n    get: {}\n")
	assert.Equal(t, []string{"GET /things/", "POST /things/", "DELETE /things/{id}/"}, specOperations(t, doc))
}
