package mergetest_test

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/mergetest"
)

// openAPIFieldsJSON holds the response field lists of Merge's exported
// OpenAPI (HRIS, whose link-token, account-token and linked-accounts
// operations every category shares, and Agent Handler), extracted by
// conformance/openapi/extract.py.
//
//go:embed testdata/openapi-fields.json
var openAPIFieldsJSON []byte

// fieldType is a JSON type as the OpenAPI gives it: JSON types, or a named
// schema, or alternatives, with an object's fields and an array's items.
type fieldType struct {
	Types      []string             `json:"types"`
	Ref        string               `json:"ref"`
	AnyOf      []fieldType          `json:"any_of"`
	AllOf      []fieldType          `json:"all_of"`
	Enum       []any                `json:"enum"`
	Items      *fieldType           `json:"items"`
	Properties map[string]fieldType `json:"properties"`
	Required   []string             `json:"required"`
	Open       bool                 `json:"open"`
	Format     string               `json:"format"`
}

type openAPIOperation struct {
	API, Method, Path string
	Status            int
	Schema            *fieldType
}

type openAPIFields struct {
	Operations []openAPIOperation
	Schemas    map[string]fieldType
}

func loadOpenAPIFields(t *testing.T) *openAPIFields {
	t.Helper()
	var f openAPIFields
	require.NoError(t, json.Unmarshal(openAPIFieldsJSON, &f))
	require.NotEmpty(t, f.Operations)
	return &f
}

// operation returns the operation that serves method on path (a path
// under the server's URL), or nil. Of the operations whose path matches,
// the one with the fewest parameters wins, as a router picks
// /connectors/tool-description-overrides/ over /connectors/{slug}/.
func (f *openAPIFields) operation(method, path string) *openAPIOperation {
	api, rest := "unified", strings.TrimPrefix(path, mergetest.UnifiedPath)
	if p, ok := strings.CutPrefix(path, mergetest.AgentPath); ok {
		api, rest = "agent", strings.TrimSuffix(p, "/")+"/"
	}
	got := strings.Split(rest, "/")
	var best *openAPIOperation
	bestParams := 0
	for i, op := range f.Operations {
		want := strings.Split(op.Path, "/")
		if op.API != api || op.Method != method || len(want) != len(got) || op.Status < 200 || op.Status > 299 {
			continue
		}
		params := 0
		for j := range want {
			if strings.HasPrefix(want[j], "{") {
				params++
			} else if want[j] != got[j] {
				params = -1
				break
			}
		}
		if params >= 0 && (best == nil || params < bestParams) {
			best, bestParams = &f.Operations[i], params
		}
	}
	return best
}

// check returns what is wrong with v as a value of t, at is where v is.
func (f *openAPIFields) check(at string, t fieldType, v any) []string {
	switch {
	case t.Ref != "":
		s, ok := f.Schemas[t.Ref]
		if !ok {
			return []string{at + ": the field lists have no schema " + t.Ref}
		}
		return f.check(at, s, v)
	case len(t.AnyOf) > 0:
		var all []string
		for _, alt := range t.AnyOf {
			p := f.check(at, alt, v)
			if len(p) == 0 {
				return nil
			}
			all = append(all, p...)
		}
		return []string{at + ": matches none of its alternatives: " + strings.Join(all, "; ")}
	case len(t.AllOf) > 0:
		var all []string
		for _, part := range t.AllOf {
			all = append(all, f.check(at, part, v)...)
		}
		return all
	}
	if slices.Contains(t.Types, "any") {
		return nil // "Any type": a tool's input schema, say
	}
	kind := jsonKind(v)
	if !slices.Contains(t.Types, kind) &&
		!(kind == "integer" && slices.Contains(t.Types, "number")) {
		return []string{fmt.Sprintf("%s: a JSON %s, where the OpenAPI has %s", at, kind, strings.Join(t.Types, " or "))}
	}
	var problems []string
	if len(t.Enum) > 0 && v != nil && !slices.Contains(t.Enum, v) {
		problems = append(problems, fmt.Sprintf("%s: %v is not among %v", at, v, t.Enum))
	}
	if s, ok := v.(string); ok && t.Format == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q is not a date-time", at, s))
		}
	}
	switch v := v.(type) {
	case []any:
		if t.Items != nil {
			for i, item := range v {
				problems = append(problems, f.check(fmt.Sprintf("%s[%d]", at, i), *t.Items, item)...)
			}
		}
	case map[string]any:
		for name, value := range v {
			ft, ok := t.Properties[name]
			if !ok {
				if !t.Open {
					problems = append(problems, fmt.Sprintf("%s.%s: a field the OpenAPI does not list", at, name))
				}
				continue
			}
			problems = append(problems, f.check(at+"."+name, ft, value)...)
		}
		for _, name := range t.Required {
			if _, ok := v[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s.%s: required, and missing", at, name))
			}
		}
	}
	return problems
}

// jsonKind names the JSON type of a value decoded into any.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == math.Trunc(v) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// The field-list check itself: it refuses what it should.
func TestOpenAPIFieldCheck(t *testing.T) {
	t.Parallel()
	f := loadOpenAPIFields(t)
	op := f.operation("POST", "/api/ats/v1/link-token")
	require.NotNil(t, op)
	for _, tt := range []struct {
		body string
		want string
	}{
		{`{"link_token":"t"}`, ""},
		{`{"link_token":"t","magic_link_url":"https://x"}`, ""},
		{`{}`, "link_token: required"},
		{`{"link_token":5}`, "a JSON integer, where the OpenAPI has string"},
		{`{"link_token":"t","token":"t"}`, ".token: a field the OpenAPI does not list"},
		{`["t"]`, "a JSON array"},
	} {
		var v any
		require.NoError(t, json.Unmarshal([]byte(tt.body), &v))
		problems := strings.Join(f.check("body", *op.Schema, v), "\n")
		if tt.want == "" {
			assert.Empty(t, problems, tt.body)
		} else {
			assert.Contains(t, problems, tt.want, tt.body)
		}
	}
	list := f.operation("GET", "/api/crm/v1/linked-accounts")
	require.NotNil(t, list)
	var v any
	require.NoError(t, json.Unmarshal([]byte(`{"next":null,"previous":null,"results":[{"id":"a","status":"BROKEN","completed_at":"yesterday"}]}`), &v))
	problems := strings.Join(f.check("body", *list.Schema, v), "\n")
	for _, want := range []string{"BROKEN is not among", `"yesterday" is not a date-time`, "end_user_email_address: required"} {
		assert.Contains(t, problems, want)
	}
	assert.Nil(t, f.operation("GET", "/api/ats/v1/no-such-thing"))
	assert.NotNil(t, f.operation("GET", "/ah/api/v1/registered-users"), "without the slash too")
}

// Every JSON body mergetest answers with a 2xx validates against the
// response schema Merge's OpenAPI gives its operation: field names, JSON
// types, enums, required fields. The journey reaches every operation the
// server serves.
func TestResponsesMatchTheOpenAPI(t *testing.T) {
	t.Parallel()
	f := loadOpenAPIFields(t)
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://myapp.com"))
	checked := map[string]int{}
	// call sends a request, requires status, and checks its body.
	call := func(method, path, body string, status int) map[string]any {
		t.Helper()
		a := send(t, srv, method, path, body)
		require.Equal(t, status, a.status, "%s %s: %s", method, path, a.body)
		op := f.operation(method, strings.SplitN(path, "?", 2)[0])
		require.NotNil(t, op, "%s %s: the OpenAPI has no such operation", method, path)
		checked[op.Method+" "+op.Path]++
		if op.Status != status && !(op.Method == "POST" && op.Path == "/registered-users/" && status == http.StatusOK) {
			t.Errorf("%s %s answered %d, where the OpenAPI lists %d", method, path, status, op.Status)
		}
		if op.Schema == nil {
			assert.Empty(t, a.body, "%s %s: the OpenAPI gives no body", method, path)
			return nil
		}
		var v any
		require.NoError(t, json.Unmarshal(a.body, &v), "%s %s", method, path)
		for _, p := range f.check("body", *op.Schema, v) {
			t.Errorf("%s %s: %s\n%s", method, path, p, a.body)
		}
		m, _ := v.(map[string]any)
		return m
	}

	// Unified: link tokens of every shape, links completed and relinked,
	// accounts of every status and kind, listed page by page.
	for i, extra := range []map[string]any{
		nil,
		{"should_create_magic_link_url": true, "link_expiry_mins": 10080, "integration": "lever"},
		{"categories": []string{"hris", "ats"}, "end_user_origin_id": "o2"},
		{"categories": []string{"ats", "crm"}, "end_user_origin_id": "o3"},
		{"end_user_origin_id": "o4"},
	} {
		lt := call("POST", "/api/ats/v1/link-token", linkBody(t, extra), http.StatusOK)
		integ := []string{"greenhouse", "", "workday", "salesforce", "ashby"}[i]
		la, err := srv.CompleteLink(lt["link_token"].(string), integ)
		require.NoError(t, err)
		call("GET", "/api/ats/v1/account-token/"+url.PathEscape(la.PublicToken), "", http.StatusOK)
		switch i {
		case 2:
			require.NoError(t, srv.SetLinkedAccountStatus(la.ID, mergetest.StatusRelinkNeeded))
		case 3:
			require.NoError(t, srv.SetTestAccount(la.ID, true))
		case 4:
			require.NoError(t, srv.SetLinkedAccountStatus(la.ID, mergetest.StatusIncomplete))
		}
	}
	for _, q := range []string{"", "?page_size=1", "?is_test_account=true", "?status=INCOMPLETE", "?end_user_origin_ids=none"} {
		page := call("GET", "/api/hris/v1/linked-accounts"+q, "", http.StatusOK)
		for page["next"] != nil {
			page = call("GET", "/api/hris/v1/linked-accounts?page_size=1&cursor="+url.QueryEscape(page["next"].(string)), "", http.StatusOK)
		}
	}

	// After the link, with an account token: details, syncs page by page
	// and a resync, issues, a regenerated token, and a delete.
	lt := call("POST", "/api/hris/v1/link-token", linkBody(t, map[string]any{"categories": []string{"hris"}, "end_user_origin_id": "after"}), http.StatusOK)
	la, err := srv.CompleteLink(lt["link_token"].(string), "bamboohr")
	require.NoError(t, err)
	withToken := func(method, path, token string) map[string]any {
		t.Helper()
		a := send(t, srv, method, path, "", mergetest.AccountTokenHeader, token)
		require.Equal(t, http.StatusOK, a.status, "%s %s: %s", method, path, a.body)
		op := f.operation(method, strings.SplitN(path, "?", 2)[0])
		require.NotNil(t, op, "%s %s: the OpenAPI has no such operation", method, path)
		checked[op.Method+" "+op.Path]++
		var v any
		require.NoError(t, json.Unmarshal(a.body, &v), "%s %s", method, path)
		for _, p := range f.check("body", *op.Schema, v) {
			t.Errorf("%s %s: %s\n%s", method, path, p, a.body)
		}
		m, _ := v.(map[string]any)
		return m
	}
	withToken("GET", "/api/hris/v1/account-details", la.AccountToken)
	for page := withToken("GET", "/api/hris/v1/sync-status?page_size=2", la.AccountToken); page["next"] != nil; {
		page = withToken("GET", "/api/hris/v1/sync-status?page_size=2&cursor="+url.QueryEscape(page["next"].(string)), la.AccountToken)
	}
	withToken("POST", "/api/hris/v1/sync-status/resync", la.AccountToken)
	withToken("GET", "/api/hris/v1/sync-status", la.AccountToken)
	is, err := srv.RaiseIssue(la.ID, "Missing Permissions")
	require.NoError(t, err)
	call("GET", "/api/hris/v1/issues?linked_account_id="+la.ID, "", http.StatusOK)
	call("GET", "/api/hris/v1/issues/"+is.ID, "", http.StatusOK)
	fresh := withToken("POST", "/api/hris/v1/account-token/regenerate", la.AccountToken)
	withToken("POST", "/api/hris/v1/delete-account", fresh["account_token"].(string))

	// Agent Handler: users created, found again, changed, listed, linked
	// and deleted, with and without the trailing slash.
	u := call("POST", ah+"/registered-users/", `{"origin_user_id":"u1","origin_user_name":"Yash","shared_credential_group":{"origin_company_id":"c1","origin_company_name":"Acme"},"user_type":"HUMAN"}`, http.StatusCreated)
	call("POST", ah+"/registered-users", `{"origin_user_id":"u1","origin_user_name":"Yash"}`, http.StatusOK)
	call("POST", ah+"/registered-users/", `{"origin_user_id":"u2","origin_user_name":"Bot","user_type":"SYSTEM"}`, http.StatusCreated)
	id := u["id"].(string)
	call("GET", ah+"/registered-users/"+id+"/", "", http.StatusOK)
	call("PATCH", ah+"/registered-users/"+id, `{"origin_user_name":"Y"}`, http.StatusOK)
	lt = call("POST", ah+"/registered-users/"+id+"/link-token/", `{"connector":"linear","callback_url":"https://myapp.com/cb","state":"s"}`, http.StatusCreated)
	_, err = srv.CompleteAgentLink(lt["magic_link_url"].(string))
	require.NoError(t, err)
	call("GET", ah+"/registered-users/"+id+"/", "", http.StatusOK)
	call("GET", ah+"/registered-users/?page_size=1", "", http.StatusOK)
	call("GET", ah+"/registered-users/?page=2&page_size=1", "", http.StatusOK)
	call("GET", ah+"/registered-users/?origin_user_id=nobody", "", http.StatusOK)

	// Connectors, page by page, one by one, and a credential deleted.
	page := call("GET", ah+"/connectors/?page_size=2", "", http.StatusOK)
	for page["next"] != nil {
		next, err := url.Parse(page["next"].(string))
		require.NoError(t, err)
		page = call("GET", next.RequestURI(), "", http.StatusOK)
	}
	call("GET", ah+"/connectors/", "", http.StatusOK)
	call("GET", ah+"/connectors/linear/", "", http.StatusOK)
	call("GET", ah+"/connectors/slack", "", http.StatusOK)
	call("DELETE", ah+"/credentials/registered-users/"+id+"/connectors/linear/", "", http.StatusOK)
	call("DELETE", ah+"/registered-users/"+id+"/", "", http.StatusOK)

	for _, op := range []string{
		"POST /{category}/v1/link-token", "GET /{category}/v1/account-token/{public_token}", "GET /{category}/v1/linked-accounts",
		"GET /{category}/v1/account-details", "GET /{category}/v1/sync-status", "POST /{category}/v1/sync-status/resync",
		"GET /{category}/v1/issues", "GET /{category}/v1/issues/{id}", "POST /{category}/v1/account-token/regenerate",
		"POST /{category}/v1/delete-account",
		"POST /registered-users/", "GET /registered-users/", "GET /registered-users/{registered_user_id}/",
		"PATCH /registered-users/{registered_user_id}/", "DELETE /registered-users/{registered_user_id}/",
		"POST /registered-users/{registered_user_id}/link-token/",
		"GET /connectors/", "GET /connectors/{slug}/",
		"DELETE /credentials/registered-users/{registered_user_id}/connectors/{connector_slug}/",
	} {
		assert.NotZero(t, checked[op], "the journey reaches %s", op)
	}
}
