package mergelink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/paging"
	"github.com/mergelink/mergelink/internal/testnet"
)

const (
	// secretAccountToken is distinctive so that a test can assert it leaks
	// nowhere.
	secretAccountToken = "acct-tok-SECRET-9c1e"
	// publicToken is distinctive for the same reason.
	publicToken = "pub-tok-SHY-4f2a"
)

// accountTokenJSON is an account token answer with every field of Merge's
// AccountToken schema.
const accountTokenJSON = `{
	"account_token": "` + secretAccountToken + `",
	"id": "0496d4c2-42e6-4072-80b3-7b69bfdc76fd",
	"integration": {
		"name": "BambooHR",
		"abbreviated_name": "Bamboo",
		"categories": ["hris", "ats"],
		"image": "https://merge-api-production.s3.amazonaws.com/media/BambooHR.png",
		"square_image": "https://merge-api-production.s3.amazonaws.com/media/BambooHR_square.png",
		"color": "#73C41D",
		"slug": "bamboohr",
		"api_endpoints_to_documentation_urls": {"GET": [["/employees", "https://docs.example/employees"]]},
		"webhook_setup_guide_url": "https://docs.example/webhooks",
		"category_beta_status": {"ats": true}
	}
}`

func TestExchangeAccountTokenWire(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{200, accountTokenJSON})
	mux.Handle("/api/", rec)

	at, err := c.ExchangeAccountToken(context.Background(), mergelink.CategoryAccounting, publicToken)
	require.NoError(t, err)
	assert.Equal(t, &mergelink.AccountToken{
		AccountToken: secretAccountToken,
		ID:           "0496d4c2-42e6-4072-80b3-7b69bfdc76fd",
		Integration: mergelink.Integration{
			Name:            "BambooHR",
			AbbreviatedName: "Bamboo",
			Categories:      []mergelink.Category{mergelink.CategoryHRIS, mergelink.CategoryATS},
			Image:           "https://merge-api-production.s3.amazonaws.com/media/BambooHR.png",
			SquareImage:     "https://merge-api-production.s3.amazonaws.com/media/BambooHR_square.png",
			Color:           "#73C41D",
			Slug:            "bamboohr",
			APIEndpointsToDocumentationURLs: map[string]any{
				"GET": []any{[]any{"/employees", "https://docs.example/employees"}},
			},
			WebhookSetupGuideURL: "https://docs.example/webhooks",
			CategoryBetaStatus:   map[string]any{"ats": true},
		},
	}, at)

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/api/accounting/v1/account-token/"+publicToken, r.Path)
	assert.Empty(t, r.RawQuery)
	assert.Empty(t, r.Body)
	assertUnifiedHeaders(t, r, false)
	assert.Empty(t, r.Header.Get("Idempotency-Key"), "a GET needs no Idempotency-Key")
}

func TestExchangeAccountTokenEscapesTheToken(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{200, accountTokenJSON})
	mux.Handle("/api/", rec)

	_, err := c.ExchangeAccountToken(context.Background(), mergelink.CategoryHRIS, "a/b c?d#e%f")
	require.NoError(t, err)
	reqs := rec.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/hris/v1/account-token/a%2Fb%20c%3Fd%23e%25f", reqs[0].Path)
	assert.Empty(t, reqs[0].RawQuery)
}

func TestExchangeAccountTokenPathPerRegion(t *testing.T) {
	t.Parallel()
	for region, want := range map[mergelink.Region]string{
		mergelink.RegionUS:   "https://api.merge.dev/api/ats/v1/account-token/" + publicToken,
		mergelink.RegionEU:   "https://api-eu.merge.dev/api/ats/v1/account-token/" + publicToken,
		mergelink.RegionAPAC: "https://api-ap.merge.dev/api/ats/v1/account-token/" + publicToken,
	} {
		lt := &localTransport{status: 200, body: accountTokenJSON}
		c, err := mergelink.NewClient(testAPIKey, mergelink.WithRegion(region), mergelink.WithHTTPClient(&http.Client{Transport: lt}))
		require.NoError(t, err)
		_, err = c.ExchangeAccountToken(context.Background(), mergelink.CategoryATS, publicToken)
		require.NoError(t, err)
		assert.Equal(t, []string{want}, lt.seen(), region)
	}
}

func TestExchangeAccountTokenValidation(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	for _, tc := range []struct {
		category mergelink.Category
		token    string
		fields   []string
	}{
		{mergelink.CategoryHRIS, "", []string{"publicToken"}},
		{mergelink.CategoryHRIS, " \t", []string{"publicToken"}},
		{"", publicToken, []string{"category"}},
		{"payroll", publicToken, []string{"category"}},
		{"HRIS", "", []string{"category", "publicToken"}},
		// A dot segment would climb out of account-token/ in the path.
		{mergelink.CategoryHRIS, ".", []string{"publicToken"}},
		{mergelink.CategoryHRIS, "..", []string{"publicToken"}},
	} {
		at, err := c.ExchangeAccountToken(context.Background(), tc.category, tc.token)
		assert.Nil(t, at)
		var ve *mergelink.ValidationError
		require.ErrorAs(t, err, &ve, "%+v", tc)
		var fields []string
		for _, p := range ve.Problems {
			fields = append(fields, p.Field)
		}
		assert.Equal(t, tc.fields, fields)
	}
}

func TestExchangeAccountTokenErrorsHideThePublicToken(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, mergelink.WithLogger(logger), mergelink.WithMaxRetries(1))
	rec := newWireRecorder(t, wireAnswer{503, `{"detail":"busy"}`}, wireAnswer{404, `{"detail":"Not found."}`})
	mux.Handle("/api/hris/", rec)
	mux.Handle("/api/ats/", newWireRecorder(t, wireAnswer{200, `{"id":"x","integration":{"name":"Lever"}}`}))

	_, err := c.ExchangeAccountToken(context.Background(), mergelink.CategoryHRIS, publicToken)
	var ae *mergelink.APIError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
	assert.Equal(t, "/hris/v1/account-token/{public_token}", ae.Path)
	assert.Len(t, rec.requests(), 2, "the 503 was retried")
	require.Contains(t, logs.String(), "retrying")
	assert.NotContains(t, err.Error(), publicToken)
	assert.NotContains(t, logs.String(), publicToken)

	_, err = c.ExchangeAccountToken(context.Background(), mergelink.CategoryATS, publicToken)
	var de *mergelink.DecodeError
	require.ErrorAs(t, err, &de, "a 2xx without account_token")
	assert.Contains(t, err.Error(), "account_token")
	assert.NotContains(t, err.Error(), publicToken)

	// A connection that fails: net/http puts the URL in its error.
	c2, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL("http://"+testnet.RefusedAddr(t)+"/api"), mergelink.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c2.ExchangeAccountToken(context.Background(), mergelink.CategoryHRIS, publicToken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/hris/v1/account-token/{public_token}")
	assert.NotContains(t, err.Error(), publicToken)
}

func TestAccountTokenHidesItsSecret(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.Handle("/api/", newWireRecorder(t, wireAnswer{200, accountTokenJSON}))
	at, err := c.ExchangeAccountToken(context.Background(), mergelink.CategoryHRIS, publicToken)
	require.NoError(t, err)
	require.Equal(t, secretAccountToken, at.AccountToken)

	outputs := map[string]string{
		"String":         at.String(),
		"GoString":       at.GoString(),
		"%v value":       fmt.Sprintf("%v", *at),
		"%+v value":      fmt.Sprintf("%+v", *at),
		"%#v value":      fmt.Sprintf("%#v", *at),
		"%s, %q value":   fmt.Sprintf("%s, %q", *at, *at),
		"%v pointer":     fmt.Sprintf("%v", at),
		"%+v pointer":    fmt.Sprintf("%+v", at),
		"%#v pointer":    fmt.Sprintf("%#v", at),
		"%+v in struct":  fmt.Sprintf("%+v", struct{ Got mergelink.AccountToken }{*at}),
		"%#v in struct":  fmt.Sprintf("%#v", struct{ Got *mergelink.AccountToken }{at}),
		"%v in slice":    fmt.Sprint([]mergelink.AccountToken{*at}),
		"Sprintln":       fmt.Sprintln(at),
		"%d %t %o value": fmt.Sprintf("%d %t %o", *at, *at, *at),
		"%d %x pointer":  fmt.Sprintf("%d %x", at, at),
		"%d in struct":   fmt.Sprintf("%d", struct{ Got mergelink.AccountToken }{*at}),
		"error wrapping": fmt.Errorf("linked %v", at).Error(),
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("linked", "account", at, "value", *at)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("linked", "account", at, "value", *at)
	outputs["slog text"] = text.String()
	outputs["slog JSON"] = js.String()
	for name, out := range outputs {
		assert.NotContains(t, out, secretAccountToken, name)
		assert.Contains(t, out, "0496d4c2-42e6-4072-80b3-7b69bfdc76fd", "%s shows the id: %s", name, out)
	}
	assert.Contains(t, js.String(), `"account":{"account_token":"[hidden]","id":"0496d4c2-42e6-4072-80b3-7b69bfdc76fd","integration":"bamboohr"}`)
}

// encoding/json never calls LogValue: slog's JSON handler, an HTTP answer
// or a queue message holding an AccountToken, alone or in a slice, map,
// struct or pointer, shows everything but the token. JSON made that way
// holds no token to store, so decoding it fails rather than yield a token
// of "[hidden]"; the token is taken out on purpose from the field.
func TestAccountTokenJSONHidesItsSecret(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.Handle("/api/", newWireRecorder(t, wireAnswer{200, accountTokenJSON}))
	at, err := c.ExchangeAccountToken(context.Background(), mergelink.CategoryHRIS, publicToken)
	require.NoError(t, err)
	type holder struct {
		Token  mergelink.AccountToken
		Tokens []*mergelink.AccountToken
	}
	for name, v := range map[string]any{
		"value":             *at,
		"pointer":           at,
		"slice":             []mergelink.AccountToken{*at, *at},
		"slice of pointers": []*mergelink.AccountToken{at},
		"map":               map[string]mergelink.AccountToken{"a": *at},
		"map of pointers":   map[string]*mergelink.AccountToken{"a": at},
		"struct":            holder{Token: *at, Tokens: []*mergelink.AccountToken{at}},
		"pointer to struct": &holder{Token: *at},
		"any":               []any{map[string]any{"x": at}},
	} {
		data, err := json.Marshal(v)
		require.NoError(t, err, name)
		assert.NotContains(t, string(data), secretAccountToken, name)
		assert.Contains(t, string(data), `"account_token":"[hidden]"`, name)
		assert.Contains(t, string(data), "0496d4c2-42e6-4072-80b3-7b69bfdc76fd", "%s shows the id", name)
		for hname, h := range map[string]slog.Handler{"JSON": nil, "text": nil} {
			var out bytes.Buffer
			if hname == "JSON" {
				h = slog.NewJSONHandler(&out, nil)
			} else {
				h = slog.NewTextHandler(&out, nil)
			}
			slog.New(h).Info("linked", "v", v)
			assert.NotContains(t, out.String(), secretAccountToken, "slog %s handler, %s", hname, name)
			assert.Contains(t, out.String(), "0496d4c2-42e6-4072-80b3-7b69bfdc76fd", "slog %s handler, %s", hname, name)
		}
	}

	data, err := json.Marshal(at)
	require.NoError(t, err)
	var back mergelink.AccountToken
	err = json.Unmarshal(data, &back)
	require.Error(t, err, "a masked token is no token")
	assert.Contains(t, err.Error(), "store the AccountToken field")
	assert.Equal(t, secretAccountToken, at.AccountToken, "the field is how the token is taken out")

	var empty mergelink.AccountToken
	data, err = json.Marshal(empty)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"account_token":""`, "no token, nothing to hide")
}

// linkedAccountJSON is a linked account with every field of Merge's
// AccountDetailsAndActions schema.
func linkedAccountJSON(id string) string {
	return `{
		"id": "` + id + `",
		"category": "hris",
		"status": "COMPLETE",
		"status_detail": "",
		"end_user_origin_id": "user-42",
		"end_user_organization_name": "Example Org",
		"end_user_email_address": "jane@example.com",
		"subdomain": "acme",
		"webhook_listener_url": "https://api.merge.dev/api/integrations/webhook-listener/abcd",
		"is_duplicate": false,
		"integration": {
			"name": "BambooHR",
			"categories": ["hris"],
			"image": "https://img.example/b.png",
			"square_image": "https://img.example/b_sq.png",
			"color": "#73C41D",
			"slug": "bamboohr",
			"passthrough_available": true,
			"available_model_operations": [{
				"model_name": "Employee",
				"available_operations": ["FETCH", "CREATE"],
				"required_post_parameters": ["first_name"],
				"supported_fields": ["first_name", "last_name"]
			}]
		},
		"account_type": "PRODUCTION",
		"completed_at": "2024-05-06T07:08:09.123Z",
		"integration_specific_fields": {"company_domain": "acme"}
	}`
}

func page(next string, ids ...string) string {
	var items []string
	for _, id := range ids {
		items = append(items, linkedAccountJSON(id))
	}
	n := "null"
	if next != "" {
		n = fmt.Sprintf("%q", next)
	}
	return `{"next": ` + n + `, "previous": null, "results": [` + strings.Join(items, ",") + `]}`
}

// collect ranges over seq to the end, keeping the ids and the errors.
func collect(seq func(func(mergelink.LinkedAccount, error) bool)) (ids []string, errs []error) {
	for a, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, a.ID)
	}
	return ids, errs
}

func TestListLinkedAccountsDecodesEveryField(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{200, page("", "acct-1")})
	mux.Handle("/api/", rec)

	var got []mergelink.LinkedAccount
	for a, err := range c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{}) {
		require.NoError(t, err)
		got = append(got, a)
	}
	no := false
	assert.Equal(t, []mergelink.LinkedAccount{{
		ID:                      "acct-1",
		Category:                mergelink.CategoryHRIS,
		Status:                  mergelink.LinkedAccountComplete,
		EndUserOriginID:         "user-42",
		EndUserOrganizationName: "Example Org",
		EndUserEmailAddress:     "jane@example.com",
		Subdomain:               "acme",
		WebhookListenerURL:      "https://api.merge.dev/api/integrations/webhook-listener/abcd",
		IsDuplicate:             &no,
		Integration: mergelink.Integration{
			Name:                 "BambooHR",
			Categories:           []mergelink.Category{mergelink.CategoryHRIS},
			Image:                "https://img.example/b.png",
			SquareImage:          "https://img.example/b_sq.png",
			Color:                "#73C41D",
			Slug:                 "bamboohr",
			PassthroughAvailable: true,
			AvailableModelOperations: []mergelink.ModelOperation{{
				ModelName:              "Employee",
				AvailableOperations:    []string{"FETCH", "CREATE"},
				RequiredPostParameters: []string{"first_name"},
				SupportedFields:        []string{"first_name", "last_name"},
			}},
		},
		AccountType:               "PRODUCTION",
		CompletedAt:               time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC),
		IntegrationSpecificFields: map[string]any{"company_domain": "acme"},
	}}, got)

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/api/hris/v1/linked-accounts", r.Path, "CategoryHRIS is the default path category")
	assert.Empty(t, r.RawQuery, "zero params send no filter")
	assertUnifiedHeaders(t, r, false)
	assert.Empty(t, r.Header.Get("Idempotency-Key"))
}

func TestListLinkedAccountsSendsEveryFilter(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{200, page("")})
	mux.Handle("/api/", rec)

	no := false
	p := mergelink.LinkedAccountsParams{
		PathCategory:            mergelink.CategoryFileStorage,
		Category:                mergelink.CategoryMarketing,
		Cursor:                  "cD0yMDIx",
		EndUserEmailAddress:     "jane+test@example.com",
		EndUserOrganizationName: "Example & Co",
		EndUserOriginID:         "user-42",
		EndUserOriginIDs:        []string{"user-1", "user 2"},
		ID:                      "41f11808-5387-4be5-9af2-852a372d61e3",
		IDs:                     []string{"41f11808-5387-4be5-9af2-852a372d61e3", "0bd2c4e6-2f5b-4f3a-8c1d-0e9f8a7b6c5d"},
		IncludeDuplicates:       &no,
		IntegrationName:         "BambooHR",
		IsTestAccount:           true,
		PageSize:                100,
		Status:                  mergelink.LinkedAccountRelinkNeeded,
	}
	ids, errs := collect(c.ListLinkedAccounts(context.Background(), p))
	assert.Empty(t, ids)
	require.Empty(t, errs)

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/filestorage/v1/linked-accounts", reqs[0].Path)
	q, err := url.ParseQuery(reqs[0].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"category":                   {"mktg"},
		"cursor":                     {"cD0yMDIx"},
		"end_user_email_address":     {"jane+test@example.com"},
		"end_user_organization_name": {"Example & Co"},
		"end_user_origin_id":         {"user-42"},
		"end_user_origin_ids":        {"user-1,user 2"},
		"id":                         {"41f11808-5387-4be5-9af2-852a372d61e3"},
		"ids":                        {"41f11808-5387-4be5-9af2-852a372d61e3,0bd2c4e6-2f5b-4f3a-8c1d-0e9f8a7b6c5d"},
		"include_duplicates":         {"false"},
		"integration_name":           {"BambooHR"},
		"is_test_account":            {"true"},
		"page_size":                  {"100"},
		"status":                     {"RELINK_NEEDED"},
	}, q)
}

func TestListLinkedAccountsPathPerRegion(t *testing.T) {
	t.Parallel()
	lt := &localTransport{status: 200, body: page("", "acct-1")}
	c, err := mergelink.NewClient(testAPIKey, mergelink.WithRegion(mergelink.RegionEU), mergelink.WithHTTPClient(&http.Client{Transport: lt}))
	require.NoError(t, err)
	ids, errs := collect(c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{PageSize: 5}))
	require.Empty(t, errs)
	assert.Equal(t, []string{"acct-1"}, ids)
	assert.Equal(t, []string{"https://api-eu.merge.dev/api/hris/v1/linked-accounts?page_size=5"}, lt.seen())
}

func TestListLinkedAccountsFollowsCursors(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t,
		// Merge's cursors are base64 text that may hold '/', '+', '=' and
		// '%': each goes back as it came.
		wireAnswer{200, page("c+2/x==", "a1", "a2")},
		wireAnswer{200, page("c3%3D", "a3", "a4")},
		// An empty page that still has a next.
		wireAnswer{200, page("cD0yMDIx-_")},
		wireAnswer{200, page("", "a5")},
	)
	mux.Handle("/api/", rec)

	ids, errs := collect(c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{PageSize: 2, Status: mergelink.LinkedAccountComplete}))
	require.Empty(t, errs)
	assert.Equal(t, []string{"a1", "a2", "a3", "a4", "a5"}, ids)

	reqs := rec.requests()
	require.Len(t, reqs, 4)
	var cursors []string
	for _, r := range reqs {
		assert.Equal(t, "/api/hris/v1/linked-accounts", r.Path)
		q, err := url.ParseQuery(r.RawQuery)
		require.NoError(t, err)
		assert.Equal(t, "2", q.Get("page_size"), "the filters stay on every page")
		assert.Equal(t, "COMPLETE", q.Get("status"))
		cursors = append(cursors, q.Get("cursor"))
	}
	assert.Equal(t, []string{"", "c+2/x==", "c3%3D", "cD0yMDIx-_"}, cursors)
}

// TestListLinkedAccountsRefusesNextThatIsNotACursor: Merge sends next as a
// bare cursor. Anything else (a URL to its own host or another, a path, a
// query) is the server's mistake: the page's accounts are yielded, then a
// *DecodeError, and no request follows, to any host.
func TestListLinkedAccountsRefusesNextThatIsNotACursor(t *testing.T) {
	t.Parallel()
	for _, next := range []string{
		"https://api.merge.dev/api/hris/v1/linked-accounts?cursor=c2",
		"https://evil.example.com/api/hris/v1/linked-accounts?cursor=c2",
		"http://127.0.0.1:1/api/hris/v1/linked-accounts?cursor=c2",
		"//evil.example.com/x",
		"/api/hris/v1/linked-accounts?cursor=c2",
		"?cursor=c2",
		"cursor=c2&page_size=100",
		"c2#frag",
		"c 2",
		"c2\n",
		"evil.example.com:443/x",
		"c2é",
		strings.Repeat("c", 5000),
	} {
		t.Run(next[:min(len(next), 40)], func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, mergelink.WithMaxRetries(0))
			rec := newWireRecorder(t, wireAnswer{200, page(next, "a1")}, wireAnswer{200, page("", "never")})
			mux.Handle("/api/", rec)
			ids, errs := collect(c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{}))
			assert.Equal(t, []string{"a1"}, ids)
			require.Len(t, errs, 1)
			var de *mergelink.DecodeError
			require.ErrorAs(t, errs[0], &de)
			assert.Contains(t, de.Error(), "not a bare cursor")
			assert.Len(t, rec.requests(), 1)
		})
	}
}

// linkedAccountPages serves linked-account pages by cursor: pages maps the cursor
// asked for ("" for the first page) to the page's next cursor, every page
// empty. It records the cursors asked for, and answers 418 from the 21st
// request on, so that a client that never stops fails the test.
type linkedAccountPages struct {
	mu    sync.Mutex
	pages map[string]string
	asked []string
}

func (cp *linkedAccountPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cursor := r.URL.Query().Get("cursor")
	cp.mu.Lock()
	cp.asked = append(cp.asked, cursor)
	next, ok := cp.pages[cursor]
	n := len(cp.asked)
	cp.mu.Unlock()
	if n > 20 { // a client that does not stop: end it, and fail the test
		http.Error(w, `{"detail":"still asking"}`, http.StatusTeapot)
		return
	}
	if !ok {
		http.Error(w, `{"detail":"Invalid cursor"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, page(next))
}

// TestListLinkedAccountsEndsCycles: empty pages whose next cursors come
// back (A→B→A, a page naming itself, a page naming the first one) end the
// listing with a *DecodeError after one request per page, instead of
// asking again and again while the caller, who sees no account, cannot
// break.
func TestListLinkedAccountsEndsCycles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start string            // LinkedAccountsParams.Cursor
		pages map[string]string // cursor asked -> next
		asked []string
	}{
		{"A to B to A", "", map[string]string{"": "A", "A": "B", "B": "A"}, []string{"", "A", "B"}},
		{"self-loop", "", map[string]string{"": "A", "A": "A"}, []string{"", "A"}},
		{"first page names itself", "A", map[string]string{"A": "A"}, []string{"A"}},
		{"back to the first page", "A", map[string]string{"A": "B", "B": "C", "C": "A"}, []string{"A", "B", "C"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, mergelink.WithMaxRetries(0))
			cp := &linkedAccountPages{pages: tc.pages}
			mux.Handle("/api/", cp)
			ids, errs := collect(c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{Cursor: tc.start}))
			assert.Empty(t, ids)
			require.Len(t, errs, 1)
			var de *mergelink.DecodeError
			require.ErrorAs(t, errs[0], &de)
			assert.ErrorIs(t, errs[0], paging.ErrCycle)
			assert.Equal(t, "/hris/v1/linked-accounts", de.Path)
			cp.mu.Lock()
			defer cp.mu.Unlock()
			assert.Equal(t, tc.asked, cp.asked)
		})
	}
}

func TestListLinkedAccountsStopsWhenTheLoopBreaks(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	first := wireAnswer{200, page("c2", "a1", "a2")}
	rec := newWireRecorder(t, first, first, wireAnswer{200, page("", "a3")})
	mux.Handle("/api/", rec)

	for _, stopAt := range []string{"a1", "a2"} {
		var seen []string
		for a, err := range c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{}) {
			require.NoError(t, err)
			seen = append(seen, a.ID)
			if a.ID == stopAt {
				break
			}
		}
		assert.Equal(t, stopAt, seen[len(seen)-1])
	}
	assert.Len(t, rec.requests(), 2, "one request per loop: breaking on a page's last account asks for no next page")
}

func TestListLinkedAccountsYieldsOneErrorAndStops(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		second   wireAnswer
		ids      []string // yielded before the error
		wantErr  func(t *testing.T, err error)
		requests int
	}{
		{"API error", wireAnswer{400, `{"detail":"bad cursor"}`}, []string{"a1", "a2"}, func(t *testing.T, err error) {
			var ae *mergelink.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "/hris/v1/linked-accounts", ae.Path)
			assert.Equal(t, "bad cursor", ae.Detail)
		}, 2},
		{"bad JSON", wireAnswer{200, `{"results": "nope"}`}, []string{"a1", "a2"}, func(t *testing.T, err error) {
			var de *mergelink.DecodeError
			require.ErrorAs(t, err, &de)
		}, 2},
		{"repeated cursor", wireAnswer{200, page("c2", "a3")}, []string{"a1", "a2", "a3"}, func(t *testing.T, err error) {
			var de *mergelink.DecodeError
			require.ErrorAs(t, err, &de)
			assert.ErrorIs(t, err, paging.ErrCycle)
		}, 2},
		{"next URL", wireAnswer{200, page("https://api.merge.dev/api/hris/v1/linked-accounts?page_size=2", "a3")}, []string{"a1", "a2", "a3"}, func(t *testing.T, err error) {
			var de *mergelink.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), "not a bare cursor")
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, mergelink.WithMaxRetries(0))
			rec := newWireRecorder(t, wireAnswer{200, page("c2", "a1", "a2")}, tc.second, wireAnswer{200, page("", "never")})
			mux.Handle("/api/", rec)

			var ids []string
			var errs []error
			for a, err := range c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{}) {
				if err != nil {
					assert.Zero(t, a)
					errs = append(errs, err)
					continue
				}
				ids = append(ids, a.ID)
			}
			assert.Equal(t, tc.ids, ids)
			require.Len(t, errs, 1)
			tc.wantErr(t, errs[0])
			assert.Len(t, rec.requests(), tc.requests)
		})
	}
}

func TestLinkedAccountsParamsValidate(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	for _, tc := range []struct {
		p      mergelink.LinkedAccountsParams
		fields []string
	}{
		{mergelink.LinkedAccountsParams{PathCategory: "HRIS"}, []string{"PathCategory"}},
		{mergelink.LinkedAccountsParams{Category: "marketing"}, []string{"Category"}},
		{mergelink.LinkedAccountsParams{EndUserOriginIDs: []string{"a", "", "b,c"}}, []string{"EndUserOriginIDs[1]", "EndUserOriginIDs[2]"}},
		{mergelink.LinkedAccountsParams{ID: "acct-1"}, []string{"ID"}},
		{mergelink.LinkedAccountsParams{IDs: []string{"41f11808-5387-4be5-9af2-852a372d61e3", "x"}}, []string{"IDs[1]"}},
		{mergelink.LinkedAccountsParams{PageSize: -1}, []string{"PageSize"}},
		{mergelink.LinkedAccountsParams{PageSize: 101}, []string{"PageSize"}},
		{mergelink.LinkedAccountsParams{Status: "complete"}, []string{"Status"}},
		{mergelink.LinkedAccountsParams{Category: "x", ID: "y", PageSize: 1000, Status: "z"}, []string{"Category", "ID", "PageSize", "Status"}},
	} {
		ids, errs := collect(c.ListLinkedAccounts(context.Background(), tc.p))
		assert.Empty(t, ids)
		require.Len(t, errs, 1, "%+v", tc.p)
		var ve *mergelink.ValidationError
		require.ErrorAs(t, errs[0], &ve)
		assert.Equal(t, "LinkedAccountsParams", ve.Params)
		var fields []string
		for _, p := range ve.Problems {
			fields = append(fields, p.Field)
		}
		assert.Equal(t, tc.fields, fields)
		assert.Equal(t, errs[0], tc.p.Validate())
	}
	for _, ok := range []mergelink.LinkedAccountsParams{
		{}, {PageSize: 1}, {PageSize: 100}, {PathCategory: mergelink.CategoryEmail, Category: mergelink.CategoryChat, Status: mergelink.LinkedAccountIdle},
	} {
		assert.NoError(t, ok.Validate(), "%+v", ok)
	}
}
