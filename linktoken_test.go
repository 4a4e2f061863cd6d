package mergelink_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// wireRequest is one request as the server saw it.
type wireRequest struct {
	Method   string
	Path     string // escaped, below the test server's base
	RawQuery string
	Header   http.Header
	Body     []byte
}

// jsonBody decodes the request body generically, so that a test sees
// exactly which fields were sent.
func (w wireRequest) jsonBody(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body, &m), "body %s", w.Body)
	return m
}

// wireRecorder records the requests a handler gets and answers each with
// the next of its canned responses (the last one repeats).
type wireRecorder struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []wireRequest
	answers []wireAnswer
}

type wireAnswer struct {
	status int
	body   string
}

func newWireRecorder(t *testing.T, answers ...wireAnswer) *wireRecorder {
	return &wireRecorder{t: t, answers: answers}
}

func (rec *wireRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rec.t.Errorf("reading the request body: %v", err)
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, wireRequest{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
	a := rec.answers[min(len(rec.reqs), len(rec.answers))-1]
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// requests returns what was recorded so far.
func (rec *wireRecorder) requests() []wireRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.reqs)
}

// localTransport is an http.RoundTripper that answers every request itself,
// without any network, and records the URLs asked for: it shows where a
// client configured for a real region would send its requests.
type localTransport struct {
	mu     sync.Mutex
	urls   []string
	status int
	body   string
}

func (lt *localTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	lt.mu.Lock()
	lt.urls = append(lt.urls, r.URL.String())
	lt.mu.Unlock()
	return &http.Response{
		StatusCode: lt.status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(lt.body)),
		Request:    r,
	}, nil
}

func (lt *localTransport) seen() []string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return slices.Clone(lt.urls)
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// assertUnifiedHeaders checks the headers every Unified API call carries.
func assertUnifiedHeaders(t *testing.T, r wireRequest, withBody bool) {
	t.Helper()
	assert.Equal(t, "Bearer "+testAPIKey, r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "mergelink-go/"+mergelink.Version+" "), "User-Agent %q", r.Header.Get("User-Agent"))
	if withBody {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	} else {
		assert.Empty(t, r.Header.Get("Content-Type"))
	}
}

// jsonObject decodes a JSON literal of a test's expectations.
func jsonObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

// minimalLinkTokenParams holds only what Merge requires.
func minimalLinkTokenParams() mergelink.LinkTokenParams {
	return mergelink.LinkTokenParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "user-42",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
	}
}

func TestCreateLinkTokenSendsEveryField(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{201, `{"link_token":"lt-9fX","integration_name":"Lever","magic_link_url":"https://app.merge.dev/link/abc"}`})
	mux.Handle("/api/", rec)

	p := mergelink.LinkTokenParams{
		EndUserEmailAddress:      "jane@example.com",
		EndUserOrganizationName:  "Example Org",
		EndUserOriginID:          "user-42",
		Categories:               []mergelink.Category{mergelink.CategoryATS, mergelink.CategoryHRIS},
		Integration:              "lever",
		LinkExpiryMins:           10080,
		ShouldCreateMagicLinkURL: true,
		HideAdminMagicLink:       true,
		CommonModels: []mergelink.CommonModel{
			{ModelID: "ats.Candidate", EnabledActions: []mergelink.Action{mergelink.ActionRead, mergelink.ActionWrite}, DisabledFields: []string{"phone_numbers"}},
			{ModelID: "hris.Employee"},
		},
		CategoryCommonModelScopes: map[mergelink.Category][]mergelink.ModelScope{
			mergelink.CategoryHRIS: {{
				ModelName: "Employee",
				ModelPermissions: map[mergelink.Action]mergelink.ModelPermission{
					mergelink.ActionRead:  {IsEnabled: true},
					mergelink.ActionWrite: {IsEnabled: false},
				},
				FieldPermissions: &mergelink.FieldPermissions{EnabledFields: []string{"first_name"}, DisabledFields: []string{"ssn"}},
			}},
			mergelink.CategoryATS: {{ModelName: "Candidate"}},
		},
		Language:                      mergelink.LanguageDE,
		AreSyncsDisabled:              true,
		IntegrationSpecificConfig:     map[string]any{"subdomain": "acme", "sandbox": false},
		CompletedAccountInitialScreen: mergelink.InitialScreenSelectiveSync,
		LinkedDestinationID:           "41f11808-5387-4be5-9af2-852a372d61e3",
		CredentialID:                  "0bd2c4e6-2f5b-4f3a-8c1d-0e9f8a7b6c5d",
		EKMEnabled:                    true,
	}
	lt, err := c.CreateLinkToken(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, &mergelink.LinkToken{LinkToken: "lt-9fX", IntegrationName: "Lever", MagicLinkURL: "https://app.merge.dev/link/abc"}, lt)

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/ats/v1/link-token", r.Path, "the first category picks the API")
	assert.Empty(t, r.RawQuery)
	assertUnifiedHeaders(t, r, true)
	assert.Regexp(t, uuidV4, r.Header.Get("Idempotency-Key"))
	assert.Equal(t, jsonObject(t, `{
		"end_user_email_address": "jane@example.com",
		"end_user_organization_name": "Example Org",
		"end_user_origin_id": "user-42",
		"categories": ["ats", "hris"],
		"integration": "lever",
		"link_expiry_mins": 10080,
		"should_create_magic_link_url": true,
		"hide_admin_magic_link": true,
		"common_models": [
			{"model_id": "ats.Candidate", "enabled_actions": ["READ", "WRITE"], "disabled_fields": ["phone_numbers"]},
			{"model_id": "hris.Employee", "enabled_actions": [], "disabled_fields": []}
		],
		"category_common_model_scopes": {
			"hris": [{
				"model_name": "Employee",
				"model_permissions": {"READ": {"is_enabled": true}, "WRITE": {"is_enabled": false}},
				"field_permissions": {"enabled_fields": ["first_name"], "disabled_fields": ["ssn"]}
			}],
			"ats": [{"model_name": "Candidate"}]
		},
		"language": "de",
		"are_syncs_disabled": true,
		"integration_specific_config": {"subdomain": "acme", "sandbox": false},
		"completed_account_initial_screen": "SELECTIVE_SYNC",
		"linked_destination_id": "41f11808-5387-4be5-9af2-852a372d61e3",
		"credential_id": "0bd2c4e6-2f5b-4f3a-8c1d-0e9f8a7b6c5d",
		"ekm_enabled": true
	}`), r.jsonBody(t))
}

func TestCreateLinkTokenSendsNoZeroFieldsButTheDefaultExpiry(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{200, `{"link_token":"lt-1"}`})
	mux.Handle("POST /api/hris/v1/link-token", rec)

	lt, err := c.CreateLinkToken(context.Background(), minimalLinkTokenParams())
	require.NoError(t, err)
	assert.Equal(t, &mergelink.LinkToken{LinkToken: "lt-1"}, lt)

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, jsonObject(t, `{
		"end_user_email_address": "jane@example.com",
		"end_user_organization_name": "Example Org",
		"end_user_origin_id": "user-42",
		"categories": ["hris"],
		"link_expiry_mins": 30
	}`), reqs[0].jsonBody(t))
}

func TestCreateLinkTokenPathPerCategory(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{201, `{"link_token":"lt"}`})
	mux.Handle("/api/", rec)

	all := []mergelink.Category{
		mergelink.CategoryHRIS, mergelink.CategoryATS, mergelink.CategoryAccounting, mergelink.CategoryTicketing,
		mergelink.CategoryCRM, mergelink.CategoryMarketing, mergelink.CategoryFileStorage, mergelink.CategoryKnowledgeBase,
		mergelink.CategoryChat, mergelink.CategoryCalendar, mergelink.CategoryEmail,
	}
	want := []string{"hris", "ats", "accounting", "ticketing", "crm", "mktg", "filestorage", "knowledgebase", "chat", "calendar", "email"}
	for _, cat := range all {
		assert.True(t, cat.Known(), cat)
		p := minimalLinkTokenParams()
		p.Categories = []mergelink.Category{cat}
		_, err := c.CreateLinkToken(context.Background(), p)
		require.NoError(t, err, cat)
	}
	reqs := rec.requests()
	require.Len(t, reqs, len(want))
	for i, w := range want {
		assert.Equal(t, "/api/"+w+"/v1/link-token", reqs[i].Path)
		assert.Equal(t, []any{w}, reqs[i].jsonBody(t)["categories"])
	}
	assert.False(t, mergelink.Category("marketing").Known())
	assert.False(t, mergelink.Category("").Known())
}

func TestCreateLinkTokenPathPerRegion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts []mergelink.Option
		want string
	}{
		{nil, "https://api.merge.dev/api/crm/v1/link-token"},
		{[]mergelink.Option{mergelink.WithRegion(mergelink.RegionUS)}, "https://api.merge.dev/api/crm/v1/link-token"},
		{[]mergelink.Option{mergelink.WithRegion(mergelink.RegionEU)}, "https://api-eu.merge.dev/api/crm/v1/link-token"},
		{[]mergelink.Option{mergelink.WithRegion(mergelink.RegionAPAC)}, "https://api-ap.merge.dev/api/crm/v1/link-token"},
	} {
		lt := &localTransport{status: 201, body: `{"link_token":"lt"}`}
		c, err := mergelink.NewClient(testAPIKey, append(tc.opts, mergelink.WithHTTPClient(&http.Client{Transport: lt}))...)
		require.NoError(t, err)
		p := minimalLinkTokenParams()
		p.Categories = []mergelink.Category{mergelink.CategoryCRM}
		_, err = c.CreateLinkToken(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, []string{tc.want}, lt.seen())
	}
}

func TestCreateLinkTokenRetriesWithOneIdempotencyKey(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{503, `{"detail":"busy"}`}, wireAnswer{201, `{"link_token":"lt-2"}`})
	mux.Handle("POST /api/hris/v1/link-token", rec)

	lt, err := c.CreateLinkToken(context.Background(), minimalLinkTokenParams())
	require.NoError(t, err)
	assert.Equal(t, "lt-2", lt.LinkToken)
	reqs := rec.requests()
	require.Len(t, reqs, 2)
	assert.Regexp(t, uuidV4, reqs[0].Header.Get("Idempotency-Key"))
	assert.Equal(t, reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key"))
	assert.Equal(t, reqs[0].Body, reqs[1].Body)

	// A second call is another logical request, with its own key.
	_, err = c.CreateLinkToken(context.Background(), minimalLinkTokenParams())
	require.NoError(t, err)
	reqs = rec.requests()
	require.Len(t, reqs, 3)
	assert.NotEqual(t, reqs[0].Header.Get("Idempotency-Key"), reqs[2].Header.Get("Idempotency-Key"))
}

func TestCreateLinkTokenErrors(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.Handle("POST /api/hris/v1/link-token", newWireRecorder(t, wireAnswer{200, `{"integration_name":"Lever"}`}))
	mux.Handle("POST /api/ats/v1/link-token", newWireRecorder(t, wireAnswer{400,
		`{"errors":[{"problem_type":"INVALID_FIELD","title":"Bad end_user_origin_id","detail":"too long","source":{"pointer":"/end_user_origin_id"}}]}`}))

	_, err := c.CreateLinkToken(context.Background(), minimalLinkTokenParams())
	var de *mergelink.DecodeError
	require.ErrorAs(t, err, &de, "a 2xx answer without link_token")
	assert.Equal(t, "/hris/v1/link-token", de.Path)
	assert.Contains(t, err.Error(), "link_token")

	p := minimalLinkTokenParams()
	p.Categories = []mergelink.Category{mergelink.CategoryATS}
	_, err = c.CreateLinkToken(context.Background(), p)
	var ae *mergelink.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "/ats/v1/link-token", ae.Path)
	require.Len(t, ae.Errors, 1)
	assert.Equal(t, "/end_user_origin_id", ae.Errors[0].Source.Pointer)
	assert.Equal(t, 1, ae.Attempts, "a 400 is never retried")
}

// noRequestClient returns a client whose server fails the test on any
// request.
func noRequestClient(t *testing.T) *mergelink.Client {
	t.Helper()
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("an invalid call sent %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
	})
	return c
}

func TestLinkTokenParamsValidate(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	long := strings.Repeat("é", 101) // 101 characters, 202 bytes
	for _, tc := range []struct {
		name  string
		edit  func(p *mergelink.LinkTokenParams)
		field string // "" when valid
	}{
		{"minimal", func(p *mergelink.LinkTokenParams) {}, ""},
		{"email missing", func(p *mergelink.LinkTokenParams) { p.EndUserEmailAddress = "" }, "EndUserEmailAddress"},
		{"email too long", func(p *mergelink.LinkTokenParams) { p.EndUserEmailAddress = long }, "EndUserEmailAddress"},
		{"email 100 characters", func(p *mergelink.LinkTokenParams) { p.EndUserEmailAddress = long[2:] }, ""},
		{"organization missing", func(p *mergelink.LinkTokenParams) { p.EndUserOrganizationName = "" }, "EndUserOrganizationName"},
		{"organization too long", func(p *mergelink.LinkTokenParams) { p.EndUserOrganizationName = long }, "EndUserOrganizationName"},
		{"origin id missing", func(p *mergelink.LinkTokenParams) { p.EndUserOriginID = "" }, "EndUserOriginID"},
		{"origin id too long", func(p *mergelink.LinkTokenParams) { p.EndUserOriginID = long }, "EndUserOriginID"},
		{"origin id 1 character", func(p *mergelink.LinkTokenParams) { p.EndUserOriginID = "x" }, ""},
		{"categories nil", func(p *mergelink.LinkTokenParams) { p.Categories = nil }, "Categories"},
		{"categories empty", func(p *mergelink.LinkTokenParams) { p.Categories = []mergelink.Category{} }, "Categories"},
		{"category unknown", func(p *mergelink.LinkTokenParams) { p.Categories = append(p.Categories, "marketing") }, "Categories[1]"},
		{"category empty", func(p *mergelink.LinkTokenParams) { p.Categories = []mergelink.Category{""} }, "Categories[0]"},
		{"category upper case", func(p *mergelink.LinkTokenParams) { p.Categories = []mergelink.Category{"HRIS"} }, "Categories[0]"},
		{"category twice", func(p *mergelink.LinkTokenParams) { p.Categories = append(p.Categories, "ats", "hris") }, "Categories[2]"},
		{"all categories", func(p *mergelink.LinkTokenParams) {
			p.Categories = []mergelink.Category{"hris", "ats", "accounting", "ticketing", "crm", "mktg", "filestorage", "knowledgebase", "chat", "calendar", "email"}
		}, ""},
		{"integration slug", func(p *mergelink.LinkTokenParams) { p.Integration = "bamboohr" }, ""},
		{"integration name not slug", func(p *mergelink.LinkTokenParams) { p.Integration = "BambooHR" }, "Integration"},
		{"integration with space", func(p *mergelink.LinkTokenParams) { p.Integration = "bamboo hr" }, "Integration"},
		{"expiry negative", func(p *mergelink.LinkTokenParams) { p.LinkExpiryMins = -30 }, "LinkExpiryMins"},
		{"language en", func(p *mergelink.LinkTokenParams) { p.Language = mergelink.LanguageEN }, ""},
		{"language de", func(p *mergelink.LinkTokenParams) { p.Language = mergelink.LanguageDE }, ""},
		{"language fr", func(p *mergelink.LinkTokenParams) { p.Language = "fr" }, "Language"},
		{"language EN", func(p *mergelink.LinkTokenParams) { p.Language = "EN" }, "Language"},
		{"initial screen", func(p *mergelink.LinkTokenParams) {
			p.CompletedAccountInitialScreen = mergelink.InitialScreenSelectiveSync
		}, ""},
		{"initial screen other", func(p *mergelink.LinkTokenParams) { p.CompletedAccountInitialScreen = "SETTINGS" }, "CompletedAccountInitialScreen"},
		{"linked destination uuid", func(p *mergelink.LinkTokenParams) { p.LinkedDestinationID = "41f11808-5387-4be5-9af2-852a372d61e3" }, ""},
		{"linked destination not uuid", func(p *mergelink.LinkTokenParams) { p.LinkedDestinationID = "dest-1" }, "LinkedDestinationID"},
		{"credential not uuid", func(p *mergelink.LinkTokenParams) { p.CredentialID = "41f1180853874be59af2852a372d61e3" }, "CredentialID"},
		{"common model without id", func(p *mergelink.LinkTokenParams) {
			p.CommonModels = []mergelink.CommonModel{{ModelID: "hris.Employee"}, {EnabledActions: []mergelink.Action{"READ"}}}
		}, "CommonModels[1].ModelID"},
		{"common model action unknown", func(p *mergelink.LinkTokenParams) {
			p.CommonModels = []mergelink.CommonModel{{ModelID: "hris.Employee", EnabledActions: []mergelink.Action{"READ", "read"}}}
		}, "CommonModels[0].EnabledActions[1]"},
		{"scopes category unknown", func(p *mergelink.LinkTokenParams) {
			p.CategoryCommonModelScopes = map[mergelink.Category][]mergelink.ModelScope{"payroll": {{ModelName: "Employee"}}}
		}, `CategoryCommonModelScopes["payroll"]`},
		{"scope without model name", func(p *mergelink.LinkTokenParams) {
			p.CategoryCommonModelScopes = map[mergelink.Category][]mergelink.ModelScope{"hris": {{ModelName: "Employee"}, {}}}
		}, `CategoryCommonModelScopes["hris"][1].ModelName`},
		{"scope permission unknown", func(p *mergelink.LinkTokenParams) {
			p.CategoryCommonModelScopes = map[mergelink.Category][]mergelink.ModelScope{"hris": {{
				ModelName: "Employee", ModelPermissions: map[mergelink.Action]mergelink.ModelPermission{"DELETE": {IsEnabled: true}}}}}
		}, `CategoryCommonModelScopes["hris"][0].ModelPermissions["DELETE"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := minimalLinkTokenParams()
			tc.edit(&p)
			err := p.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "LinkTokenParams", ve.Params)
			require.Len(t, ve.Problems, 1, "%v", ve)
			assert.Equal(t, tc.field, ve.Problems[0].Field)
			assert.NotEmpty(t, ve.Problems[0].Rule)

			lt, callErr := c.CreateLinkToken(context.Background(), p)
			assert.Nil(t, lt)
			assert.Equal(t, err, callErr, "the call returns the Validate error and sends nothing")
		})
	}
}

func TestLinkTokenParamsValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	p := mergelink.LinkTokenParams{
		Categories:                    []mergelink.Category{"hris", "nope", "hris"},
		Integration:                   "Not A Slug",
		LinkExpiryMins:                721,
		Language:                      "fr",
		CompletedAccountInitialScreen: "X",
		LinkedDestinationID:           "x",
		CredentialID:                  "y",
		CommonModels:                  []mergelink.CommonModel{{EnabledActions: []mergelink.Action{"DELETE"}}},
		CategoryCommonModelScopes:     map[mergelink.Category][]mergelink.ModelScope{"zzz": {{}}, "ats": {{}}},
	}
	_, err := c.CreateLinkToken(context.Background(), p)
	var ve *mergelink.ValidationError
	require.ErrorAs(t, err, &ve)
	var fields []string
	for _, pr := range ve.Problems {
		fields = append(fields, pr.Field)
	}
	assert.Equal(t, []string{
		"EndUserEmailAddress", "EndUserOrganizationName", "EndUserOriginID",
		"Categories[1]", "Categories[2]", "Integration", "LinkExpiryMins",
		"CommonModels[0].ModelID", "CommonModels[0].EnabledActions[0]",
		`CategoryCommonModelScopes["ats"][0].ModelName`,
		`CategoryCommonModelScopes["zzz"]`, `CategoryCommonModelScopes["zzz"][0].ModelName`,
		"Language", "CompletedAccountInitialScreen", "LinkedDestinationID", "CredentialID",
	}, fields)
	msg := err.Error()
	assert.Contains(t, msg, "must be 30 to 720 minutes")
	assert.Contains(t, msg, "up to 10080 with a Magic Link URL")
	assert.Contains(t, msg, `"nope"`)
}

// TestLinkExpiryBounds checks the bounds of LinkExpiryMins with and without
// a Magic Link URL, on the wire: a valid value is sent as given, an invalid
// one sends nothing.
func TestLinkExpiryBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mins  int
		magic bool
		ok    bool
	}{
		{29, false, false}, {30, false, true}, {720, false, true}, {721, false, false}, {10080, false, false}, {10081, false, false},
		{29, true, false}, {30, true, true}, {720, true, true}, {721, true, true}, {10080, true, true}, {10081, true, false},
	} {
		c, mux := setup(t)
		rec := newWireRecorder(t, wireAnswer{201, `{"link_token":"lt","magic_link_url":"https://app.merge.dev/link/x"}`})
		mux.Handle("POST /api/hris/v1/link-token", rec)
		p := minimalLinkTokenParams()
		p.LinkExpiryMins = tc.mins
		p.ShouldCreateMagicLinkURL = tc.magic
		_, err := c.CreateLinkToken(context.Background(), p)
		reqs := rec.requests()
		if !tc.ok {
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve, "%+v", tc)
			assert.True(t, ve.Has("LinkExpiryMins"), "%+v", tc)
			assert.Empty(t, reqs, "%+v sent a request", tc)
			continue
		}
		require.NoError(t, err, "%+v", tc)
		require.Len(t, reqs, 1)
		body := reqs[0].jsonBody(t)
		assert.Equal(t, float64(tc.mins), body["link_expiry_mins"], "%+v", tc)
		if tc.magic {
			assert.Equal(t, true, body["should_create_magic_link_url"])
		} else {
			assert.NotContains(t, body, "should_create_magic_link_url")
		}
	}
}

// failingJSON is a value whose MarshalJSON fails.
type failingJSON struct{}

func (failingJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("no JSON here") }

// An IntegrationSpecificConfig that cannot be sent as JSON (a NaN or
// infinite number, a channel, a func, a complex number, a cycle, a value
// whose MarshalJSON fails), however deep, is a *ValidationError naming
// where, and nothing is sent.
func TestLinkTokenParamsRefusesConfigThatIsNotJSON(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	var nilChan chan int
	for _, tc := range []struct {
		config map[string]any
		field  string
	}{
		{map[string]any{"x": math.NaN()}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": math.Inf(1)}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": math.Inf(-1)}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": float32(math.NaN())}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": []any{1, map[string]any{"y": math.NaN()}}}, `IntegrationSpecificConfig["x"][1]["y"]`},
		{map[string]any{"x": []float64{1, math.Inf(1)}}, `IntegrationSpecificConfig["x"][1]`},
		{map[string]any{"x": struct{ F float64 }{math.NaN()}}, `IntegrationSpecificConfig["x"].F`},
		{map[string]any{"x": &struct{ F any }{math.NaN()}}, `IntegrationSpecificConfig["x"].F`},
		{map[string]any{"x": make(chan int)}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": nilChan}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": func() {}}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": complex(1, 2)}, `IntegrationSpecificConfig["x"]`},
		{map[string]any{"x": []any{make(chan struct{})}}, `IntegrationSpecificConfig["x"][0]`},
		{cyclic, `IntegrationSpecificConfig["self"]`},
		{map[string]any{"x": failingJSON{}}, "IntegrationSpecificConfig"},
		{map[string]any{"x": json.RawMessage(`{not json`)}, "IntegrationSpecificConfig"},
	} {
		p := minimalLinkTokenParams()
		p.IntegrationSpecificConfig = tc.config
		_, err := c.CreateLinkToken(context.Background(), p)
		var ve *mergelink.ValidationError
		if assert.ErrorAs(t, err, &ve, tc.field) {
			assert.True(t, ve.Has(tc.field), "want a problem naming %s: %v", tc.field, err)
		}
		_, err = c.CreateMagicLink(context.Background(), mergelink.MagicLinkParams(p))
		assert.ErrorAs(t, err, &ve, tc.field)
		assert.ErrorAs(t, p.Validate(), &ve, tc.field)
	}
	p := minimalLinkTokenParams()
	p.IntegrationSpecificConfig = map[string]any{"ok": []any{1.5, "x", true, nil, map[string]any{}, json.RawMessage(`{"a":1}`)}}
	assert.NoError(t, p.Validate())
}
