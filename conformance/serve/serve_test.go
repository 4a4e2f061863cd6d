package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// run prints where it serves, the control calls play the end user, and it
// returns once its input ends.
func TestRun(t *testing.T) {
	t.Parallel()
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), stdinR, stdoutW) }()

	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	require.NoError(t, err)
	var ep endpoints
	require.NoError(t, json.Unmarshal([]byte(line), &ep))
	assert.Equal(t, ep.URL+"/api", ep.Unified)
	assert.NotEmpty(t, ep.APIKey)

	post := func(u, body string, auth bool) (int, map[string]any) {
		req, err := http.NewRequest("POST", u, strings.NewReader(body))
		require.NoError(t, err)
		if auth {
			req.Header.Set("Authorization", "Bearer "+ep.APIKey)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	status, lt := post(ep.Unified+"/ats/v1/link-token", `{"end_user_email_address":"a@b.test","end_user_organization_name":"Org","end_user_origin_id":"o1","categories":["ats"]}`, true)
	require.Equal(t, http.StatusOK, status, "%v", lt)
	status, la := post(ep.Control+"/complete", `{"link":"`+lt["link_token"].(string)+`","integration":"lever"}`, false)
	require.Equal(t, http.StatusOK, status, "%v", la)
	assert.Equal(t, "ats", la["category"])
	assert.NotEmpty(t, la["public_token"])
	id := la["id"].(string)
	status, is := post(ep.Control+"/raise-issue", `{"id":"`+id+`","description":"Missing Permissions"}`, false)
	require.Equal(t, http.StatusOK, status, "%v", is)
	assert.Equal(t, "ONGOING", is["status"])
	assert.NotEmpty(t, is["id"])
	for _, tt := range []struct{ path, body string }{
		{"/status", `{"id":"` + id + `","status":"RELINK_NEEDED"}`},
		{"/test-account", `{"id":"` + id + `","test":true}`},
		{"/delete", `{"id":"` + id + `"}`},
	} {
		status, out := post(ep.Control+tt.path, tt.body, false)
		assert.Equal(t, http.StatusOK, status, "%s: %v", tt.path, out)
	}
	status, out := post(ep.Control+"/delete", `{"id":"`+id+`"}`, false)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, out["error"], "no such Linked Account")

	// Agent Handler: the webhook set, a user who connects, the key rotated.
	type delivery struct {
		sig  string
		body []byte
	}
	got := make(chan delivery, 8)
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get(agenthandler.SignatureHeader), body}
	}))
	defer hooks.Close()
	// signedBy waits for the next delivery, of event, and reports whether
	// key signed it.
	signedBy := func(event, key string) bool {
		t.Helper()
		select {
		case d := <-got:
			assert.Len(t, d.sig, 64, "%s: signed in hex", event)
			assert.Contains(t, string(d.body), event)
			got <- d // for the next question about it
			return agenthandler.VerifyWebhookSignature(d.body, d.sig, key) == nil
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s webhook within 10s", event)
			return false
		}
	}
	drop := func() { <-got }
	status, out = post(ep.Control+"/agent-webhook", `{"url":"`+hooks.URL+`","key":"k1"}`, false)
	require.Equal(t, http.StatusOK, status, "%v", out)
	status, u := post(ep.Agent+"/registered-users/", `{"origin_user_id":"u1","origin_user_name":"Ada"}`, true)
	require.Equal(t, http.StatusCreated, status, "%v", u)
	assert.True(t, signedBy("registered_user.created", "k1"), "signed with k1")
	drop()
	status, alt := post(ep.Agent+"/registered-users/"+u["id"].(string)+"/link-token/", `{"connector":"linear"}`, true)
	require.Equal(t, http.StatusCreated, status, "%v", alt)
	status, out = post(ep.Control+"/complete-agent", `{"link":"`+alt["magic_link_url"].(string)+`"}`, false)
	require.Equal(t, http.StatusOK, status, "%v", out)
	assert.Equal(t, "", out["redirect"], "no callback URL, no redirect")
	assert.True(t, signedBy("credential.created", "k1"), "signed with k1")
	drop()
	status, out = post(ep.Control+"/agent-webhook-rotate", `{"key":"k2"}`, false)
	assert.Equal(t, http.StatusOK, status, "%v", out)
	status, out = post(ep.Control+"/complete-agent", `{"link":"`+alt["magic_link_url"].(string)+`"}`, false)
	assert.Equal(t, http.StatusBadRequest, status, "a link token works once")
	assert.Contains(t, out["error"], "already used")
	// After the rotation the next event is signed with k2 alone.
	status, u2 := post(ep.Agent+"/registered-users/", `{"origin_user_id":"u2","origin_user_name":"Grace"}`, true)
	require.Equal(t, http.StatusCreated, status, "%v", u2)
	assert.True(t, signedBy("registered_user.created", "k2"), "signed with the new key")
	assert.False(t, signedBy("registered_user.created", "k1"), "not with the old one")

	require.NoError(t, stdinW.Close())
	require.NoError(t, <-done)
}
