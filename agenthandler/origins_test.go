package agenthandler_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

// RegisterCallbackOrigin keeps Merge's rules before the wire: https, a
// custom scheme, http on localhost only; a path, query or fragment is
// dropped, as Merge drops it, and the result is what is sent.
func TestRegisterCallbackOriginRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://app.example.com", "https://app.example.com"},
		{"https://App.Example.com:443/", "https://app.example.com"},
		{"https://app.example.com:8443/cb?state=x#frag", "https://app.example.com:8443"},
		{"myapp://", "myapp://"},
		{"myapp:///integrations/done", "myapp://"},
		{"http://localhost:3000", "http://localhost:3000"},
		{"http://LOCALHOST:3000/callback", "http://localhost:3000"},
	} {
		f := setup(t)
		var sent map[string]any
		f.mux.HandleFunc("POST /api/v1/allowed-callback-origins/", func(w http.ResponseWriter, r *http.Request) {
			checkHeaders(t, r, true)
			sent = jsonBody(t, r)
			writeJSON(w, http.StatusCreated, map[string]any{"id": "o1", "origin": sent["origin"], "created_at": "2026-01-02T03:04:05Z", "modified_at": "2026-01-02T03:04:05Z"})
		})
		o, created, err := f.ah.RegisterCallbackOrigin(context.Background(), tc.in)
		require.NoError(t, err, tc.in)
		assert.True(t, created)
		assert.Equal(t, map[string]any{"origin": tc.want}, sent, tc.in)
		assert.Equal(t, tc.want, o.Origin)
		shown, err := agenthandler.CallbackOriginOf(tc.in)
		require.NoError(t, err)
		assert.Equal(t, tc.want, shown)
	}
	for _, tc := range []struct{ in, rule string }{
		{"", "required"},
		{"http://app.example.com", "plain http"},
		{"http://127.0.0.1:3000", "plain http is allowed only for http://localhost:PORT"},
		{"http://[::1]:3000", "plain http is allowed only for http://localhost:PORT"},
		{"app.example.com", "absolute URL"},
		{"https://user:pw@app.example.com", "user info"},
		{"javascript://x", "cannot be a callback"},
		{"https://app.example.com\u200b", "invisible"},
		{"https://bad\xffhost", "UTF-8"},
		{"https://", "needs a host"},
		{"https://app.example.com:99999", "port"},
	} {
		f := setup(t)
		_, _, err := f.ah.RegisterCallbackOrigin(context.Background(), tc.in)
		var ve *agenthandler.ValidationError
		require.True(t, errors.As(err, &ve), "%q: %v", tc.in, err)
		assert.Contains(t, err.Error(), tc.rule, tc.in)
		assert.NotContains(t, err.Error(), "pw@", "no password shown")
		assert.Zero(t, f.requests(), "%q: nothing sent", tc.in)
	}
}

// Against mergetest: Merge's normalization, 201 then 200 (retries are
// safe), refusals, and the registered origin governing the redirect after
// a link exactly as WithAllowedCallbackOrigins does.
func TestRegisteredOriginGovernsTheRedirect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, ah := mergetestClient(t)
	user, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "u", OriginUserName: "U"})
	require.NoError(t, err)
	link := func(callback string) string {
		t.Helper()
		lt, err := ah.CreateLinkToken(ctx, user.ID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: callback, State: "st"})
		require.NoError(t, err)
		to, err := srv.CompleteAgentLink(lt.MagicLinkURL)
		require.NoError(t, err)
		return to
	}
	assert.Empty(t, link("https://app.example.com/cb"), "no origin registered: Merge skips the redirect")

	o, created, err := ah.RegisterCallbackOrigin(ctx, "https://app.example.com/anything?x=1")
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, "https://app.example.com", o.Origin)
	again, created, err := ah.RegisterCallbackOrigin(ctx, "https://APP.example.com")
	require.NoError(t, err)
	assert.False(t, created, "already registered: 200")
	assert.Equal(t, o.ID, again.ID)

	assert.Equal(t, "https://app.example.com/cb?state=st&status=success", link("https://app.example.com/cb"))
	assert.Empty(t, link("https://staging.example.com/cb"), "another host is another origin")

	// Raw requests: what the client refuses, the server refuses too.
	for _, bad := range []string{`{"origin":"http://127.0.0.1:3000"}`, `{"origin":"http://app.example.com"}`, `{}`, `{"origin":"https://x","extra":1}`} {
		status := postRaw(t, srv, "/allowed-callback-origins/", bad)
		assert.Equal(t, http.StatusBadRequest, status, bad)
	}
	status := postRaw(t, srv, "/allowed-callback-origins", `{"origin":"http://localhost:3000/cb"}`)
	assert.Equal(t, http.StatusCreated, status, "without the trailing slash too")
}

// An origin registered through a client that checks callback origins
// (WithAllowedCallbackOrigins) is accepted by its CreateLinkToken from
// then on; a client that checks none keeps checking none.
func TestRegisteredOriginIsAllowedByTheClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins("https://app.example.com"))
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ah := c.AgentHandler()
	user, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "u", OriginUserName: "U"})
	require.NoError(t, err)
	p := agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "myapp:///done"}
	_, err = ah.CreateLinkToken(ctx, user.ID, p)
	require.Error(t, err, "myapp:// is not allowed yet")
	assert.Contains(t, err.Error(), "RegisterCallbackOrigin")
	o, created, err := ah.RegisterCallbackOrigin(ctx, "myapp://")
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, "myapp://", o.Origin)
	_, err = ah.CreateLinkToken(ctx, user.ID, p)
	require.NoError(t, err)
	_, created, err = ah.RegisterCallbackOrigin(ctx, "https://app.example.com")
	require.NoError(t, err)
	assert.False(t, created, "allowed by the server option already: 200")
}

// postRaw posts body to an Agent Handler path of srv with its key and
// returns the status.
func postRaw(t *testing.T, srv *mergetest.Server, path, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+mergetest.AgentPath+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
