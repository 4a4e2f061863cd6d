package mergetest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

var allCategories = []string{"hris", "ats", "accounting", "ticketing", "crm", "mktg", "filestorage", "knowledgebase", "chat", "calendar", "email"}

func TestLinkTokenEveryCategory(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	seen := map[string]bool{}
	for _, cat := range allCategories {
		a := send(t, srv, "POST", "/api/"+cat+"/v1/link-token", linkBody(t, map[string]any{"categories": []string{cat}}))
		require.Equal(t, http.StatusOK, a.status, "%s: %s", cat, a.body)
		v := a.json(t)
		tok, _ := v["link_token"].(string)
		assert.Len(t, tok, 40, cat)
		assert.False(t, seen[tok], "link tokens must differ")
		seen[tok] = true
		assert.NotContains(t, v, "magic_link_url", "no magic link unless asked")
		assert.NotContains(t, v, "integration_name", "no integration name without an integration")
	}
	a := send(t, srv, "POST", "/api/payroll/v1/link-token", linkBody(t, nil))
	assert.Equal(t, http.StatusNotFound, a.status)
}

func TestLinkTokenMagicLinkAndIntegration(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, map[string]any{
		"integration": "lever", "should_create_magic_link_url": true, "link_expiry_mins": 10080,
	}))
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	v := a.json(t)
	assert.Equal(t, "Lever", v["integration_name"])
	assert.Equal(t, srv.URL()+"/link/"+v["link_token"].(string), v["magic_link_url"])

}

// An integration Merge does not know is refused with 400 naming the field,
// not given a made-up name.
func TestLinkTokenUnknownIntegration(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	for _, slug := range []string{"acme-recruit", "Greenhouse", "green house", "lever2"} {
		a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, map[string]any{"integration": slug}))
		require.Equal(t, http.StatusBadRequest, a.status, "%s: %s", slug, a.body)
		errs := a.problems(t)
		require.Len(t, errs, 1, "%s", a.body)
		assert.Equal(t, "/integration", errs[0].Source.Pointer, slug)
		assert.Contains(t, errs[0].Detail, slug)
	}
	assert.Empty(t, srv.LinkedAccounts())
}

func TestLinkTokenValidation(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	long := strings.Repeat("x", 101)
	tests := []struct {
		name    string
		extra   map[string]any
		pointer string
		typ     string
	}{
		{"missing email", map[string]any{"end_user_email_address": nil}, "/end_user_email_address", "MISSING_REQUIRED_FIELD"},
		{"empty email", map[string]any{"end_user_email_address": ""}, "/end_user_email_address", "INVALID_FIELD"},
		{"long organization", map[string]any{"end_user_organization_name": long}, "/end_user_organization_name", "INVALID_FIELD"},
		{"null origin id", map[string]any{"end_user_origin_id": json.RawMessage("null")}, "/end_user_origin_id", "MISSING_REQUIRED_FIELD"},
		{"long origin id", map[string]any{"end_user_origin_id": long}, "/end_user_origin_id", "INVALID_FIELD"},
		{"no categories", map[string]any{"categories": []string{}}, "/categories", "MISSING_REQUIRED_FIELD"},
		{"unknown category", map[string]any{"categories": []string{"ats", "payroll"}}, "/categories/1", "INVALID_FIELD"},
		{"categories not a list", map[string]any{"categories": "ats"}, "/categories", "INVALID_FIELD"},
		{"path category not among them", map[string]any{"categories": []string{"hris", "crm"}}, "/categories", "INVALID_FIELD"},
		{"integration not a slug", map[string]any{"integration": "Green House"}, "/integration", "INVALID_INTEGRATION"},
		{"integration unknown", map[string]any{"integration": "acme-recruit"}, "/integration", "INVALID_INTEGRATION"},
		{"integration outside categories", map[string]any{"integration": "bamboohr"}, "/integration", "INVALID_FIELD"},
		{"expiry below 30", map[string]any{"link_expiry_mins": 29}, "/link_expiry_mins", "INVALID_FIELD"},
		{"expiry above 720", map[string]any{"link_expiry_mins": 721}, "/link_expiry_mins", "INVALID_FIELD"},
		{"magic expiry above 10080", map[string]any{"link_expiry_mins": 10081, "should_create_magic_link_url": true}, "/link_expiry_mins", "INVALID_FIELD"},
		{"expiry not an integer", map[string]any{"link_expiry_mins": 30.5}, "/link_expiry_mins", "INVALID_FIELD"},
		{"language", map[string]any{"language": "fr"}, "/language", "INVALID_FIELD"},
		{"initial screen", map[string]any{"completed_account_initial_screen": "START"}, "/completed_account_initial_screen", "INVALID_FIELD"},
		{"credential id", map[string]any{"credential_id": "nope"}, "/credential_id", "INVALID_FIELD"},
		{"linked destination id", map[string]any{"linked_destination_id": "nope"}, "/linked_destination_id", "INVALID_FIELD"},
		{"common model action", map[string]any{"common_models": []map[string]any{{"model_id": "ats.Candidate", "enabled_actions": []string{"DELETE"}, "disabled_fields": []string{}}}}, "/common_models/0/enabled_actions/0", "INVALID_FIELD"},
		{"common model id", map[string]any{"common_models": []map[string]any{{"enabled_actions": []string{"READ"}, "disabled_fields": []string{}}}}, "/common_models/0/model_id", "MISSING_REQUIRED_FIELD"},
		{"scope category", map[string]any{"category_common_model_scopes": map[string]any{"payroll": []any{}}}, "/category_common_model_scopes/payroll", "INVALID_FIELD"},
		{"scope model name", map[string]any{"category_common_model_scopes": map[string]any{"ats": []map[string]any{{}}}}, "/category_common_model_scopes/ats/0/model_name", "MISSING_REQUIRED_FIELD"},
		{"magic flag not a boolean", map[string]any{"should_create_magic_link_url": "yes"}, "/should_create_magic_link_url", "INVALID_FIELD"},
		{"unknown field", map[string]any{"link_expiry_min": 60}, "/link_expiry_min", "INVALID_FIELD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, tt.extra))
			require.Equal(t, http.StatusBadRequest, a.status, "%s", a.body)
			var body struct {
				Errors []struct {
					ProblemType string `json:"problem_type"`
					Title       string
					Detail      string
					Source      struct{ Pointer string }
				}
				Warnings []any
			}
			require.NoError(t, json.Unmarshal(a.body, &body))
			require.Len(t, body.Errors, 1, "%s", a.body)
			e := body.Errors[0]
			assert.Equal(t, tt.pointer, e.Source.Pointer)
			assert.Equal(t, tt.typ, e.ProblemType)
			assert.NotEmpty(t, e.Title)
			assert.NotEmpty(t, e.Detail)
			assert.NotNil(t, body.Warnings)
		})
	}
}

// Merge's own reference posts categories ["hris", "ats"] to the link-token
// path of ats, accounting, crm, ticketing and filestorage: the path's
// category may be any of the body's, in any order, but must be one of them.
func TestLinkTokenPathCategoryAmongCategories(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	for _, tt := range []struct {
		path       string
		categories []string
	}{
		{"ats", []string{"hris", "ats"}},
		{"accounting", []string{"hris", "ats", "accounting"}},
		{"crm", []string{"crm", "hris"}},
		{"ticketing", []string{"hris", "ticketing"}},
		{"filestorage", []string{"ats", "filestorage", "hris"}},
		{"hris", []string{"hris"}},
	} {
		a := send(t, srv, "POST", "/api/"+tt.path+"/v1/link-token", linkBody(t, map[string]any{"categories": tt.categories}))
		assert.Equal(t, http.StatusOK, a.status, "%s %v: %s", tt.path, tt.categories, a.body)
	}

	a := send(t, srv, "POST", "/api/hris/v1/link-token", linkBody(t, map[string]any{"categories": []string{"ats", "crm"}}))
	require.Equal(t, http.StatusBadRequest, a.status, "%s", a.body)
	errs := a.problems(t)
	require.Len(t, errs, 1, "%s", a.body)
	assert.Equal(t, "/categories", errs[0].Source.Pointer)
	assert.Equal(t, "INVALID_FIELD", errs[0].ProblemType)
	assert.Contains(t, errs[0].Detail, `"hris"`)
}

func TestLinkTokenValidationReportsEveryProblem(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	a := send(t, srv, "POST", "/api/hris/v1/link-token", `{"categories":["nope"],"language":"fr"}`)
	require.Equal(t, http.StatusBadRequest, a.status)
	var body struct {
		Errors []struct{ Source struct{ Pointer string } }
	}
	require.NoError(t, json.Unmarshal(a.body, &body))
	var pointers []string
	for _, e := range body.Errors {
		pointers = append(pointers, e.Source.Pointer)
	}
	assert.ElementsMatch(t, []string{"/end_user_email_address", "/end_user_organization_name", "/end_user_origin_id", "/categories/0", "/categories", "/language"}, pointers)

	a = send(t, srv, "POST", "/api/hris/v1/link-token", `not json`)
	require.Equal(t, http.StatusBadRequest, a.status)
	assert.Contains(t, string(a.body), "MALFORMED_REQUEST")
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAPIKey("sk-live-123"))
	assert.Equal(t, "sk-live-123", srv.APIKey())
	for _, tt := range []struct {
		name, auth, detail string
	}{
		{"missing", "", "Authentication credentials were not provided."},
		{"wrong key", "Bearer " + mergetest.TestAPIKey, "Invalid token."},
		{"not bearer", "Token sk-live-123", "Invalid token."},
	} {
		a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, nil), "Authorization", tt.auth)
		assert.Equal(t, http.StatusUnauthorized, a.status, tt.name)
		assert.Equal(t, tt.detail, a.json(t)["detail"], tt.name)

		a = send(t, srv, "GET", "/ah/api/v1/registered-users/", "", "Authorization", tt.auth)
		assert.Equal(t, http.StatusUnauthorized, a.status, tt.name)
		e := a.json(t)["error"].(map[string]any)
		assert.Equal(t, "authentication_error", e["type"], tt.name)
		assert.NotEmpty(t, e["code"], tt.name)
	}
	a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, nil))
	assert.Equal(t, http.StatusOK, a.status)
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	const key = "8b5c4f1e-3d2a-4c6b-9e7f-0a1b2c3d4e5f"
	body := linkBody(t, nil)
	first := send(t, srv, "POST", "/api/ats/v1/link-token", body, "Idempotency-Key", key)
	require.Equal(t, http.StatusOK, first.status)
	again := send(t, srv, "POST", "/api/ats/v1/link-token", body, "Idempotency-Key", key)
	assert.Equal(t, http.StatusOK, again.status)
	assert.Equal(t, first.body, again.body, "the same key and body get the same answer")

	other := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, map[string]any{"end_user_origin_id": "other"}), "Idempotency-Key", key)
	assert.Equal(t, http.StatusBadRequest, other.status)
	assert.Contains(t, string(other.body), "IDEMPOTENCY_KEY_REUSED")

	otherPath := send(t, srv, "POST", "/api/hris/v1/link-token", body, "Idempotency-Key", key)
	assert.Equal(t, http.StatusBadRequest, otherPath.status)

	fresh := send(t, srv, "POST", "/api/ats/v1/link-token", body, "Idempotency-Key", "0c5e2a7d-1b3f-4a9e-8c6d-5f4e3d2c1b0a")
	assert.NotEqual(t, first.json(t)["link_token"], fresh.json(t)["link_token"], "a new key makes a new token")
	noKey := send(t, srv, "POST", "/api/ats/v1/link-token", body)
	assert.NotEqual(t, first.json(t)["link_token"], noKey.json(t)["link_token"])

	bad := send(t, srv, "POST", "/api/ats/v1/link-token", body, "Idempotency-Key", "not-a-uuid")
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Contains(t, string(bad.body), "INVALID_IDEMPOTENCY_KEY")
}

func TestAccountTokenExchange(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)

	a := send(t, srv, "GET", "/api/ats/v1/account-token/"+url.PathEscape(la.PublicToken), "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	var body struct {
		AccountToken string `json:"account_token"`
		ID           string
		Integration  struct {
			Name, Slug, Color string
			AbbreviatedName   string `json:"abbreviated_name"`
			Categories        []string
			Image             *string
			SquareImage       *string `json:"square_image"`
		}
	}
	require.NoError(t, json.Unmarshal(a.body, &body))
	assert.Equal(t, la.AccountToken, body.AccountToken)
	assert.Equal(t, la.ID, body.ID)
	assert.Equal(t, "Greenhouse", body.Integration.Name)
	assert.Equal(t, "greenhouse", body.Integration.Slug)
	assert.Equal(t, []string{"ats"}, body.Integration.Categories)
	assert.NotEmpty(t, body.Integration.Color)
	assert.Contains(t, string(a.body), `"image":null`)

	again := send(t, srv, "GET", "/api/ats/v1/account-token/"+url.PathEscape(la.PublicToken), "")
	assert.Equal(t, http.StatusNotFound, again.status, "a public token works once")
	assert.Equal(t, "Not found.", again.json(t)["detail"])

	unknown := send(t, srv, "GET", "/api/ats/v1/account-token/nope", "")
	assert.Equal(t, http.StatusNotFound, unknown.status)
}

// linkedAccountsPage is a page of GET linked-accounts.
type linkedAccountsPage struct {
	Next     *string
	Previous *string
	Results  []struct {
		ID                      string
		Category                string
		Status                  string
		EndUserOriginID         string `json:"end_user_origin_id"`
		EndUserOrganizationName string `json:"end_user_organization_name"`
		EndUserEmailAddress     string `json:"end_user_email_address"`
		Integration             struct{ Name, Slug string }
		AccountType             string    `json:"account_type"`
		CompletedAt             time.Time `json:"completed_at"`
	}
}

func listAccounts(t *testing.T, srv *mergetest.Server, pathAndQuery string) linkedAccountsPage {
	t.Helper()
	a := send(t, srv, "GET", pathAndQuery, "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	var p linkedAccountsPage
	require.NoError(t, json.Unmarshal(a.body, &p))
	return p
}

func originIDs(p linkedAccountsPage) []string {
	var ids []string
	for _, r := range p.Results {
		ids = append(ids, r.EndUserOriginID)
	}
	return ids
}

func TestLinkedAccountsFiltersAndCursors(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	link := func(origin, org, email, integration string, cats ...string) mergetest.LinkedAccount {
		tok := newLinkToken(t, srv, map[string]any{
			"end_user_origin_id": origin, "end_user_organization_name": org,
			"end_user_email_address": email, "categories": cats,
		})
		la, err := srv.CompleteLink(tok, integration)
		require.NoError(t, err)
		return *la
	}
	a1 := link("o1", "Acme", "a@acme.test", "greenhouse", "ats")
	link("o2", "Acme", "b@acme.test", "bamboohr", "hris")
	a3 := link("o3", "Globex", "c@globex.test", "lever", "ats")
	link("o4", "Initech", "d@initech.test", "hubspot", "mktg", "crm")
	link("o5", "Umbrella", "e@umbrella.test", "slack", "chat")

	all := listAccounts(t, srv, "/api/hris/v1/linked-accounts")
	assert.Equal(t, []string{"o1", "o2", "o3", "o4", "o5"}, originIDs(all))
	assert.Nil(t, all.Next)
	assert.Nil(t, all.Previous)
	first := all.Results[0]
	assert.Equal(t, a1.ID, first.ID)
	assert.Equal(t, "ats", first.Category)
	assert.Equal(t, "COMPLETE", first.Status)
	assert.Equal(t, "Greenhouse", first.Integration.Name)
	assert.Equal(t, "PRODUCTION", first.AccountType)
	assert.False(t, first.CompletedAt.IsZero())
	assert.Equal(t, "mktg", all.Results[3].Category, "the first of the token's categories the integration offers")

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"category=ats", []string{"o1", "o3"}},
		{"end_user_organization_name=Acme", []string{"o1", "o2"}},
		{"end_user_email_address=c%40globex.test", []string{"o3"}},
		{"end_user_origin_id=o4", []string{"o4"}},
		{"end_user_origin_ids=o5,o1,nope", []string{"o1", "o5"}},
		{"id=" + a3.ID, []string{"o3"}},
		{"ids=" + a1.ID + "," + a3.ID, []string{"o1", "o3"}},
		{"integration_name=lever", []string{"o3"}},
		{"status=COMPLETE&category=chat", []string{"o5"}},
		{"status=RELINK_NEEDED", nil},
		{"is_test_account=true", nil},
		{"is_test_account=false", nil},
		{"include_duplicates=true&end_user_origin_id=o2", []string{"o2"}},
	} {
		assert.Equal(t, tt.want, originIDs(listAccounts(t, srv, "/api/ats/v1/linked-accounts?"+tt.query)), tt.query)
	}

	// Cursor pagination: next and previous are bare cursors, passed back
	// as ?cursor= with the same filters, as Merge's clients do.
	const filter = "/api/ats/v1/linked-accounts?page_size=2&end_user_origin_ids=o1,o2,o3,o4,o5"
	p1 := listAccounts(t, srv, filter)
	assert.Equal(t, []string{"o1", "o2"}, originIDs(p1))
	require.NotNil(t, p1.Next)
	assert.Nil(t, p1.Previous)
	assert.NotContains(t, *p1.Next, "/", "a bare cursor, not a URL")
	assert.NotContains(t, *p1.Next, "=", "a bare cursor, not a query")
	p2 := listAccounts(t, srv, filter+"&cursor="+url.QueryEscape(*p1.Next))
	assert.Equal(t, []string{"o3", "o4"}, originIDs(p2))
	require.NotNil(t, p2.Previous)
	require.NotNil(t, p2.Next)
	p3 := listAccounts(t, srv, filter+"&cursor="+url.QueryEscape(*p2.Next))
	assert.Equal(t, []string{"o5"}, originIDs(p3))
	assert.Nil(t, p3.Next)
	back := listAccounts(t, srv, filter+"&cursor="+url.QueryEscape(*p2.Previous))
	assert.Equal(t, []string{"o1", "o2"}, originIDs(back))

	bad := send(t, srv, "GET", "/api/ats/v1/linked-accounts?cursor=%21%21", "")
	assert.Equal(t, http.StatusNotFound, bad.status)
	bad = send(t, srv, "GET", "/api/ats/v1/linked-accounts?category=payroll", "")
	assert.Equal(t, http.StatusBadRequest, bad.status)
	bad = send(t, srv, "GET", "/api/ats/v1/linked-accounts?id=nope", "")
	assert.Equal(t, http.StatusBadRequest, bad.status)
}

func TestLinkedAccountsEmpty(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	a := send(t, srv, "GET", "/api/crm/v1/linked-accounts", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.JSONEq(t, `{"next":null,"previous":null,"results":[]}`, string(a.body))
}

// Without page_size a page holds 30 accounts, and page_size is at most
// 100, as at Merge.
func TestLinkedAccountsPageSizes(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	for i := range 105 {
		_, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": fmt.Sprintf("o%03d", i)}), "lever")
		require.NoError(t, err)
	}
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"", 30},
		{"page_size=1", 1},
		{"page_size=100", 100},
		{"page_size=101", 100},
		{"page_size=1000", 100},
		{"page_size=0", 30},
		{"page_size=-3", 30},
		{"page_size=ten", 30},
	} {
		p := listAccounts(t, srv, "/api/ats/v1/linked-accounts?"+tt.query)
		assert.Len(t, p.Results, tt.want, tt.query)
		assert.NotNil(t, p.Next, tt.query)
	}

	// Paging to the end with the default size visits every account once.
	var seen []string
	q := "/api/ats/v1/linked-accounts"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		p := listAccounts(t, srv, q)
		seen = append(seen, originIDs(p)...)
		if p.Next == nil {
			assert.Equal(t, 4, pages+1, "105 accounts are 4 pages of 30")
			break
		}
		q = "/api/ats/v1/linked-accounts?cursor=" + url.QueryEscape(*p.Next)
	}
	assert.Len(t, seen, 105)
	assert.Equal(t, "o000", seen[0])
	assert.Equal(t, "o104", seen[104])
}

// is_test_account lists only test accounts when given, whatever its value,
// and only production accounts when not, as Merge's OpenAPI says.
func TestLinkedAccountsTestAccounts(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	_, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "prod"}), "lever")
	require.NoError(t, err)
	test, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "test"}), "lever")
	require.NoError(t, err)
	require.NoError(t, srv.SetTestAccount(test.ID, true))

	assert.Equal(t, []string{"prod"}, originIDs(listAccounts(t, srv, "/api/ats/v1/linked-accounts")))
	for _, v := range []string{"true", "True", "1", ""} {
		p := listAccounts(t, srv, "/api/ats/v1/linked-accounts?is_test_account="+v)
		assert.Equal(t, []string{"test"}, originIDs(p), v)
	}
	raw := send(t, srv, "GET", "/api/ats/v1/linked-accounts?is_test_account=true", "")
	assert.Contains(t, string(raw.body), `"account_type":"TEST"`)
	assert.Contains(t, string(raw.body), `"is_duplicate":null`)
	raw = send(t, srv, "GET", "/api/ats/v1/linked-accounts", "")
	assert.Contains(t, string(raw.body), `"account_type":"PRODUCTION"`)
	assert.Contains(t, string(raw.body), `"is_duplicate":false`)

	require.NoError(t, srv.SetTestAccount(test.ID, false))
	assert.Equal(t, []string{"prod", "test"}, originIDs(listAccounts(t, srv, "/api/ats/v1/linked-accounts")))
	assert.Empty(t, listAccounts(t, srv, "/api/ats/v1/linked-accounts?is_test_account=true").Results)
	assert.ErrorIs(t, srv.SetTestAccount("nope", true), mergetest.ErrUnknownAccount)
}

// The SDK's own iterator pages through 34 accounts of one customer, 30 to
// a request and then 4, passing the bare cursor back.
func TestSDKPagesLinkedAccounts(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	for i := range 34 {
		_, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{
			"end_user_origin_id": fmt.Sprintf("c34-%02d", i), "end_user_organization_name": "Customer 34",
		}), "lever")
		require.NoError(t, err)
	}
	_, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "other", "end_user_organization_name": "Other"}), "lever")
	require.NoError(t, err)

	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	var got []string
	for acct, err := range c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{EndUserOrganizationName: "Customer 34"}) {
		require.NoError(t, err)
		got = append(got, acct.EndUserOriginID)
	}
	require.Len(t, got, 34)
	assert.Equal(t, "c34-00", got[0])
	assert.Equal(t, "c34-33", got[33])
	var cursors []string
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/linked-accounts") {
			cursors = append(cursors, r.Query.Get("cursor"))
		}
	}
	require.Len(t, cursors, 2, "30, then 4")
	assert.Empty(t, cursors[0])
	assert.NotEmpty(t, cursors[1])
	assert.NotContains(t, cursors[1], "/")
}

// A cursor past the list, however large its offset, is answered 4xx, and
// the server keeps answering: a panic under the server's lock would leave
// every later request, Requests and Close waiting for ever.
func TestCursorPastTheListLeavesTheServerAnswering(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	newLinkToken(t, srv, nil)
	for _, offset := range []string{"9223372036854775807", "9223372036854775800", "9223372036854775778", "1000"} {
		cursor := base64.RawURLEncoding.EncodeToString([]byte("o" + offset))
		a := send(t, srv, "GET", "/api/ats/v1/linked-accounts?page_size=30&cursor="+cursor, "")
		assert.True(t, a.status >= 400 && a.status < 500, "offset %s answered %d", offset, a.status)
	}
	done := make(chan int, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL()+"/api/ats/v1/linked-accounts", nil)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		srv.Requests()
		done <- resp.StatusCode
	}()
	select {
	case status := <-done:
		assert.Equal(t, http.StatusOK, status, "the server still answers")
	case <-time.After(10 * time.Second):
		t.Fatal("the server hangs after a bad cursor")
	}
}
