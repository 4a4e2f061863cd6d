package mergetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

const ah = "/ah/api/v1"

// user is a registered user as the server answers it.
type user struct {
	ID                    string
	OriginUserID          string `json:"origin_user_id"`
	OriginUserName        string `json:"origin_user_name"`
	SharedCredentialGroup *struct {
		OriginCompanyID   string            `json:"origin_company_id"`
		OriginCompanyName string            `json:"origin_company_name"`
		CustomGroupings   map[string]string `json:"custom_groupings"`
	} `json:"shared_credential_group"`
	UserType                string   `json:"user_type"`
	AuthenticatedConnectors []string `json:"authenticated_connectors"`
	IsTest                  bool     `json:"is_test"`
}

func decodeUser(t *testing.T, a answer) user {
	t.Helper()
	var u user
	require.NoError(t, json.Unmarshal(a.body, &u), "%s", a.body)
	return u
}

// agentErr returns the code of an Agent Handler error body.
func agentErr(t *testing.T, a answer) string {
	t.Helper()
	var body struct {
		Error struct{ Type, Code, Message string }
	}
	require.NoError(t, json.Unmarshal(a.body, &body), "%s", a.body)
	assert.NotEmpty(t, body.Error.Type)
	assert.NotEmpty(t, body.Error.Message)
	return body.Error.Code
}

func createUser(t *testing.T, srv *mergetest.Server, originID string) user {
	t.Helper()
	a := send(t, srv, "POST", ah+"/registered-users/", fmt.Sprintf(`{"origin_user_id":%q,"origin_user_name":"Yash"}`, originID))
	require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
	return decodeUser(t, a)
}

func TestRegisteredUsers(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	body := `{"origin_user_id":"user1234","origin_user_name":"Yash","user_type":"SYSTEM",
		"shared_credential_group":{"origin_company_id":"merge-1234","origin_company_name":"Merge","custom_groupings":{"department":"engineering"}}}`
	a := send(t, srv, "POST", ah+"/registered-users/", body)
	require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
	u := decodeUser(t, a)
	assert.Len(t, u.ID, 36)
	assert.Equal(t, "user1234", u.OriginUserID)
	assert.Equal(t, "Yash", u.OriginUserName)
	assert.Equal(t, "SYSTEM", u.UserType)
	require.NotNil(t, u.SharedCredentialGroup)
	assert.Equal(t, "merge-1234", u.SharedCredentialGroup.OriginCompanyID)
	assert.Equal(t, map[string]string{"department": "engineering"}, u.SharedCredentialGroup.CustomGroupings)
	assert.Equal(t, []string{}, u.AuthenticatedConnectors)
	assert.Contains(t, string(a.body), `"authenticated_connectors":[]`)

	again := send(t, srv, "POST", ah+"/registered-users/", `{"origin_user_id":"user1234","origin_user_name":"Other"}`)
	assert.Equal(t, http.StatusOK, again.status, "idempotent on origin_user_id")
	assert.Equal(t, u, decodeUser(t, again))

	got := send(t, srv, "GET", ah+"/registered-users/"+u.ID+"/", "")
	assert.Equal(t, http.StatusOK, got.status)
	assert.Equal(t, u, decodeUser(t, got))

	patched := send(t, srv, "PATCH", ah+"/registered-users/"+u.ID+"/", `{"origin_user_name":"Yash K","user_type":"HUMAN"}`)
	require.Equal(t, http.StatusOK, patched.status, "%s", patched.body)
	p := decodeUser(t, patched)
	assert.Equal(t, "Yash K", p.OriginUserName)
	assert.Equal(t, "HUMAN", p.UserType)
	assert.Equal(t, "user1234", p.OriginUserID, "fields not given are kept")
	assert.Equal(t, u.SharedCredentialGroup, p.SharedCredentialGroup)

	other := createUser(t, srv, "user5678")
	taken := send(t, srv, "PATCH", ah+"/registered-users/"+other.ID+"/", `{"origin_user_id":"user1234"}`)
	assert.Equal(t, http.StatusBadRequest, taken.status)
	assert.Equal(t, "origin_user_id_taken", agentErr(t, taken))

	del := send(t, srv, "DELETE", ah+"/registered-users/"+u.ID+"/", "")
	assert.Equal(t, http.StatusOK, del.status, "the OpenAPI lists 200")
	assert.Empty(t, del.body)
	for _, method := range []string{"GET", "PATCH", "DELETE"} {
		gone := send(t, srv, method, ah+"/registered-users/"+u.ID+"/", `{}`)
		assert.Equal(t, http.StatusNotFound, gone.status, method)
		assert.Equal(t, "registered_user_not_found", agentErr(t, gone), method)
	}
}

// Merge's own Agent Handler plugins call the paths without the trailing
// slash the OpenAPI spells: both forms are served, without a redirect.
func TestAgentPathsWithAndWithoutSlash(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	for _, slash := range []string{"/", ""} {
		created := send(t, srv, "POST", ah+"/registered-users"+slash, fmt.Sprintf(`{"origin_user_id":%q,"origin_user_name":"Yash"}`, "u"+slash))
		require.Equal(t, http.StatusCreated, created.status, "%q: %s", slash, created.body)
		u := decodeUser(t, created)
		base := ah + "/registered-users/" + u.ID
		for _, tt := range []struct {
			method, path, body string
			status             int
		}{
			{"GET", ah + "/registered-users" + slash, "", http.StatusOK},
			{"GET", base + slash, "", http.StatusOK},
			{"PATCH", base + slash, `{"origin_user_name":"Y"}`, http.StatusOK},
			{"POST", base + "/link-token" + slash, `{"connector":"linear"}`, http.StatusCreated},
			{"DELETE", base + slash, "", http.StatusOK},
		} {
			a := send(t, srv, tt.method, tt.path, tt.body)
			assert.Equal(t, tt.status, a.status, "%s %s: %s", tt.method, tt.path, a.body)
		}
	}
	a := send(t, srv, "GET", ah+"/registered-users/x/link-token", "")
	assert.Equal(t, http.StatusNotFound, a.status, "a path the API does not have")
}

func TestRegisteredUserValidation(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	for _, tt := range []struct{ body, code string }{
		{`{"origin_user_name":"Yash"}`, "origin_user_id_required"},
		{`{"origin_user_id":"","origin_user_name":"Yash"}`, "origin_user_id_required"},
		{`{"origin_user_id":"u1"}`, "origin_user_name_required"},
		{`{"origin_user_id":"u1","origin_user_name":"Yash","user_type":"ROBOT"}`, "invalid_user_type"},
		{`{"origin_user_id":1,"origin_user_name":"Yash"}`, "invalid_field"},
		{`{"origin_user_id":"u1","origin_user_name":"Yash","nickname":"y"}`, "invalid_field"},
		{`[]`, "malformed_request"},
	} {
		a := send(t, srv, "POST", ah+"/registered-users/", tt.body)
		assert.Equal(t, http.StatusBadRequest, a.status, tt.body)
		assert.Equal(t, tt.code, agentErr(t, a), tt.body)
	}
}

func TestRegisteredUsersList(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	for i := range 5 {
		createUser(t, srv, fmt.Sprint("u", i))
	}
	type list struct {
		Count          int
		Next, Previous *string
		Results        []user
	}
	get := func(query string) list {
		t.Helper()
		a := send(t, srv, "GET", ah+"/registered-users/?"+query, "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		var l list
		require.NoError(t, json.Unmarshal(a.body, &l))
		return l
	}
	ids := func(l list) (out []string) {
		for _, u := range l.Results {
			out = append(out, u.OriginUserID)
		}
		return out
	}

	all := get("")
	assert.Equal(t, 5, all.Count)
	assert.Equal(t, []string{"u0", "u1", "u2", "u3", "u4"}, ids(all))
	assert.Nil(t, all.Next)

	one := get("origin_user_id=u3")
	assert.Equal(t, 1, one.Count)
	assert.Equal(t, []string{"u3"}, ids(one))
	none := get("origin_user_id=nobody")
	assert.Equal(t, 0, none.Count)
	assert.NotNil(t, none.Results)

	p1 := get("page_size=2")
	assert.Equal(t, 5, p1.Count)
	assert.Equal(t, []string{"u0", "u1"}, ids(p1))
	require.NotNil(t, p1.Next)
	assert.Nil(t, p1.Previous)
	next, err := url.Parse(*p1.Next)
	require.NoError(t, err)
	assert.Equal(t, "2", next.Query().Get("page"))
	p2 := get(next.RawQuery)
	assert.Equal(t, []string{"u2", "u3"}, ids(p2))
	require.NotNil(t, p2.Previous)
	assert.Equal(t, srv.URL()+ah+"/registered-users/?page_size=2", *p2.Previous)
	p3 := get("page=3&page_size=2")
	assert.Equal(t, []string{"u4"}, ids(p3))
	assert.Nil(t, p3.Next)

	for _, q := range []string{"page=4&page_size=2", "page=0", "page=x"} {
		a := send(t, srv, "GET", ah+"/registered-users/?"+q, "")
		assert.Equal(t, http.StatusNotFound, a.status, q)
		assert.Equal(t, "invalid_page", agentErr(t, a), q)
	}
}

// agentLink creates an Agent Handler link token for userID.
func agentLink(t *testing.T, srv *mergetest.Server, userID, body string) (token, magic string) {
	t.Helper()
	a := send(t, srv, "POST", ah+"/registered-users/"+userID+"/link-token/", body)
	require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
	v := a.json(t)
	return v["link_token"].(string), v["magic_link_url"].(string)
}

func TestAgentLinkTokenValidation(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	u := createUser(t, srv, "u1")
	tok, magic := agentLink(t, srv, u.ID, `{"connector":"linear","external_id":"acme-corp","callback_url":"https://your-app.com/auth/callback","state":"random-csrf-token"}`)
	assert.Len(t, tok, 40)
	assert.Equal(t, srv.URL()+"/agent-link/"+tok, magic)
	tok2, _ := agentLink(t, srv, u.ID, `{"connector":"linear"}`)
	assert.NotEqual(t, tok, tok2, "not idempotent: each call makes a token")

	for _, tt := range []struct{ body, code string }{
		{`{}`, "connector_required"},
		{`{"connector":"Linear App"}`, "invalid_connector"},
		{`{"connector":"acme-tracker"}`, "invalid_connector"},
		{`{"connector":"LINEAR"}`, "invalid_connector"},
		{`{"connector":"linear","state":"s"}`, "state_requires_callback_url"},
		{`{"connector":"linear","callback_url":"https://app.test/cb?state=mine","state":"s"}`, "callback_url_has_state"},
		{`{"connector":"linear","callback_url":"http://app.test/cb"}`, "invalid_callback_url"},
		{`{"connector":"linear","callback_url":"javascript:alert(1)"}`, "invalid_callback_url"},
		{`{"connector":"linear","callback_url":"not a url"}`, "invalid_callback_url"},
		{`{"connector":"linear","scopes":["read"]}`, "invalid_field"},
	} {
		a := send(t, srv, "POST", ah+"/registered-users/"+u.ID+"/link-token/", tt.body)
		assert.Equal(t, http.StatusBadRequest, a.status, tt.body)
		assert.Equal(t, tt.code, agentErr(t, a), tt.body)
	}
	// A callback URL with its own state is fine when no state is given.
	agentLink(t, srv, u.ID, `{"connector":"linear","callback_url":"https://app.test/cb?state=mine"}`)

	for _, id := range []string{"41f11808-5387-4be5-9af2-852a372d61e3", "not-a-uuid"} {
		a := send(t, srv, "POST", ah+"/registered-users/"+id+"/link-token/", `{"connector":"linear"}`)
		assert.Equal(t, http.StatusNotFound, a.status)
		assert.Equal(t, "registered_user_not_found", agentErr(t, a))
	}
}

// Allowed callback origins are the dashboard's, set as a server option;
// Merge documents no API for them, and the server serves none.
func TestAllowedCallbackOrigins(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://MyApp.com:443", "myapp://"))
	u := createUser(t, srv, "u1")
	for _, tt := range []struct {
		callback string
		redirect bool
	}{
		{"https://myapp.com/cb", true},
		{"myapp:///done", true},
		{"https://myapp.com:8443/cb", false},
		{"https://staging.myapp.com/cb", false},
		{"http://localhost:3000/cb", false},
	} {
		tok, _ := agentLink(t, srv, u.ID, fmt.Sprintf(`{"connector":"linear","callback_url":%q}`, tt.callback))
		to, err := srv.CompleteAgentLink(tok)
		require.NoError(t, err)
		assert.Equal(t, tt.redirect, to != "", tt.callback)
	}

	require.NoError(t, srv.AllowCallbackOrigins("http://localhost:3000"))
	tok, _ := agentLink(t, srv, u.ID, `{"connector":"linear","callback_url":"http://localhost:3000/cb"}`)
	to, err := srv.CompleteAgentLink(tok)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:3000/cb?status=success", to)

	for _, bad := range []string{"https://myapp.com/path", "https://myapp.com?x=1", "http://myapp.com", "javascript://x", "nope", "https://u:p@myapp.com"} {
		assert.Error(t, srv.AllowCallbackOrigins(bad), bad)
		assert.Panics(t, func() { mergetest.NewServer(mergetest.WithAllowedCallbackOrigins(bad)).Close() }, bad)
	}
	// Registered over the API (WIRE.md, corrected): 201, then 200.
	assert.Equal(t, http.StatusCreated, send(t, srv, "POST", ah+"/allowed-callback-origins/", `{"origin":"https://a.test/x"}`).status)
	assert.Equal(t, http.StatusOK, send(t, srv, "POST", ah+"/allowed-callback-origins/", `{"origin":"https://a.test"}`).status)

	// ClientOptions tells the SDK what the "dashboard" holds.
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	_, err = c.CreateAgentLinkToken(context.Background(), u.ID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "https://myapp.com/cb"})
	assert.NoError(t, err)
	_, err = c.CreateAgentLinkToken(context.Background(), u.ID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "https://other.test/cb"})
	assert.Error(t, err, "the SDK refuses an origin the server does not allow")
}

func TestCompleteAgentLinkRedirects(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://myapp.com", "myapp://"))
	u := createUser(t, srv, "u1")

	tok, _ := agentLink(t, srv, u.ID, `{"connector":"linear","callback_url":"https://myapp.com/cb?tab=2","state":"csrf-123"}`)
	to, err := srv.CompleteAgentLink(tok)
	require.NoError(t, err)
	got, err := url.Parse(to)
	require.NoError(t, err)
	assert.Equal(t, "https://myapp.com/cb", got.Scheme+"://"+got.Host+got.Path)
	assert.Equal(t, url.Values{"tab": {"2"}, "status": {"success"}, "state": {"csrf-123"}}, got.Query())

	_, err = srv.CompleteAgentLink(tok)
	assert.ErrorIs(t, err, mergetest.ErrLinkUsed)
	_, err = srv.CompleteAgentLink("nope")
	assert.ErrorIs(t, err, mergetest.ErrUnknownLink)

	a := send(t, srv, "GET", ah+"/registered-users/"+u.ID+"/", "")
	assert.Equal(t, []string{"linear"}, decodeUser(t, a).AuthenticatedConnectors)

	// A custom scheme deep link, as seed 002 shows.
	tok, _ = agentLink(t, srv, u.ID, `{"connector":"jira","callback_url":"myapp:///integrations/complete"}`)
	to, err = srv.CompleteAgentLink(tok)
	require.NoError(t, err)
	assert.Equal(t, "myapp:///integrations/complete?status=success", to)
	a = send(t, srv, "GET", ah+"/registered-users/"+u.ID+"/", "")
	assert.Equal(t, []string{"linear", "jira"}, decodeUser(t, a).AuthenticatedConnectors)
}

func TestCompleteAgentLinkSkipsUnregisteredOrigin(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://myapp.com"))
	u := createUser(t, srv, "u1")
	tok, _ := agentLink(t, srv, u.ID, `{"connector":"linear","callback_url":"https://evil.test/cb","state":"s"}`)
	to, err := srv.CompleteAgentLink(tok)
	require.NoError(t, err, "the link completes; only the redirect is skipped")
	assert.Empty(t, to)
	a := send(t, srv, "GET", ah+"/registered-users/"+u.ID+"/", "")
	assert.Equal(t, []string{"linear"}, decodeUser(t, a).AuthenticatedConnectors)

	tok, _ = agentLink(t, srv, u.ID, `{"connector":"linear"}`)
	to, err = srv.CompleteAgentLink(tok)
	require.NoError(t, err)
	assert.Empty(t, to, "no callback URL, no redirect")
}

func TestCompleteAgentLinkCallbackOnMagicLinkURL(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://myapp.com"))
	u := createUser(t, srv, "u1")
	_, magic := agentLink(t, srv, u.ID, `{"connector":"linear"}`)
	to, err := srv.CompleteAgentLink(magic + "?callback_url=" + url.QueryEscape("https://myapp.com/done"))
	require.NoError(t, err)
	assert.Equal(t, "https://myapp.com/done?status=success", to)

	// The token's own callback URL wins over the query's.
	_, magic = agentLink(t, srv, u.ID, `{"connector":"linear","callback_url":"https://myapp.com/own","state":"s1"}`)
	to, err = srv.CompleteAgentLink(magic + "?callback_url=" + url.QueryEscape("https://myapp.com/query"))
	require.NoError(t, err)
	assert.Equal(t, "https://myapp.com/own?state=s1&status=success", to)

	_, err = srv.CompleteAgentLink(srv.URL() + "/elsewhere/x")
	assert.ErrorIs(t, err, mergetest.ErrUnknownLink)
}

func TestCompleteAgentLinkDeletedUser(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	u := createUser(t, srv, "u1")
	tok, _ := agentLink(t, srv, u.ID, `{"connector":"linear"}`)
	require.Equal(t, http.StatusOK, send(t, srv, "DELETE", ah+"/registered-users/"+u.ID+"/", "").status)
	_, err := srv.CompleteAgentLink(tok)
	assert.ErrorContains(t, err, "deleted")
}

func TestHostedAgentLinkPage(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://myapp.com"))
	u := createUser(t, srv, "u1")
	_, magic := agentLink(t, srv, u.ID, `{"connector":"linear","callback_url":"https://myapp.com/cb","state":"st8"}`)

	status, body, _ := page(t, "GET", magic, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Connect linear")
	assert.Contains(t, body, "Yash")
	assert.Contains(t, body, `id="connect"`)

	status, _, resp := page(t, "POST", magic, url.Values{})
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "https://myapp.com/cb?state=st8&status=success", resp.Header.Get("Location"))

	status, body, _ = page(t, "GET", magic, nil)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, body, `id="status"`)

	// A callback_url on the magic link URL is carried through the form.
	_, magic = agentLink(t, srv, u.ID, `{"connector":"linear"}`)
	withCallback := magic + "?callback_url=" + url.QueryEscape("https://myapp.com/q")
	_, body, _ = page(t, "GET", withCallback, nil)
	assert.Contains(t, body, `name="callback_url" value="https://myapp.com/q"`)
	status, _, resp = page(t, "POST", magic, url.Values{"callback_url": {"https://myapp.com/q"}})
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "https://myapp.com/q?status=success", resp.Header.Get("Location"))

	// An unregistered origin: no redirect, the page says done.
	_, magic = agentLink(t, srv, u.ID, `{"connector":"linear","callback_url":"https://other.test/cb"}`)
	status, body, _ = page(t, "POST", magic, url.Values{})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<h1 id="status">Done</h1>`)
}

// An end user who cancels or declines connects nothing, uses the token up,
// and, WithOwnCallbackStatuses, is sent to the callback URL with
// mergetest's status that says so, from Go and from the hosted page's form.
func TestAgentLinkCancelledOrDeclined(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://myapp.com"), mergetest.WithOwnCallbackStatuses())
	u := createUser(t, srv, "u1")
	for _, tt := range []struct {
		name   string
		end    func(string) (string, error)
		action string
		status string
	}{
		{"cancel", srv.CancelAgentLink, "cancel", mergetest.CallbackCancelled},
		{"decline", srv.DeclineAgentLink, "decline", mergetest.CallbackDeclined},
	} {
		body := `{"connector":"linear","callback_url":"https://myapp.com/cb","state":"st"}`
		tok, magic := agentLink(t, srv, u.ID, body)
		to, err := tt.end(magic)
		require.NoError(t, err, tt.name)
		assert.Equal(t, "https://myapp.com/cb?state=st&status="+tt.status, to, tt.name)
		_, err = srv.CompleteAgentLink(tok)
		assert.ErrorIs(t, err, mergetest.ErrLinkUsed, tt.name)

		_, magic = agentLink(t, srv, u.ID, body)
		status, _, resp := page(t, "POST", magic, url.Values{"action": {tt.action}})
		require.Equal(t, http.StatusSeeOther, status, tt.name)
		assert.Equal(t, "https://myapp.com/cb?state=st&status="+tt.status, resp.Header.Get("Location"), tt.name)

		_, magic = agentLink(t, srv, u.ID, `{"connector":"linear"}`)
		status, body2, _ := page(t, "POST", magic, url.Values{"action": {tt.action}})
		assert.Equal(t, http.StatusOK, status, tt.name)
		assert.Contains(t, body2, `<h1 id="status">Not connected</h1>`, tt.name)
	}
	a := send(t, srv, "GET", ah+"/registered-users/"+u.ID+"/", "")
	assert.Empty(t, decodeUser(t, a).AuthenticatedConnectors, "nothing was connected")

	_, magic := agentLink(t, srv, u.ID, `{"connector":"linear"}`)
	status, _, _ := page(t, "POST", magic, url.Values{"action": {"explode"}})
	assert.Equal(t, http.StatusBadRequest, status)
}

// By default only Merge's documented status, success, is sent: a user who
// cancels or declines is redirected nowhere, so that no test leans on a
// status Merge may never send.
func TestAgentLinkDocumentedCallbackStatusesOnly(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://myapp.com"))
	u := createUser(t, srv, "u1")
	body := `{"connector":"linear","callback_url":"https://myapp.com/cb","state":"st"}`
	for _, end := range []func(string) (string, error){srv.CancelAgentLink, srv.DeclineAgentLink} {
		tok, magic := agentLink(t, srv, u.ID, body)
		to, err := end(magic)
		require.NoError(t, err)
		assert.Empty(t, to, "no redirect with a status Merge does not document")
		_, err = srv.CompleteAgentLink(tok)
		assert.ErrorIs(t, err, mergetest.ErrLinkUsed)
	}
	for _, action := range []string{"cancel", "decline"} {
		_, magic := agentLink(t, srv, u.ID, body)
		status, page, _ := page(t, "POST", magic, url.Values{"action": {action}})
		assert.Equal(t, http.StatusOK, status, action)
		assert.Contains(t, page, `<h1 id="status">Not connected</h1>`, action)
	}
	_, magic := agentLink(t, srv, u.ID, body)
	to, err := srv.CompleteAgentLink(magic)
	require.NoError(t, err)
	assert.Equal(t, "https://myapp.com/cb?state=st&status=success", to)
}
