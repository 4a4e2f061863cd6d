package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp/mcptest"
	"github.com/mergelink/mergelink/examples/internal/clitest"
	"github.com/mergelink/mergelink/mergetest"
)

// TestOffline runs the command as CI does, offline, and checks the whole
// journey in what it prints.
func TestOffline(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	code := run(context.Background(), nil, clitest.EnvWithKey(""), &stdout, &stderr)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	out := stdout.String()
	for _, want := range []string{
		"linear_create_issue listed, 16 authenticate_* tools",
		"the user must connect linear first",
		magicLinkLine,
		"callback_url=http%3A%2F%2Flocalhost%3A",
		"Callback received, state verified: status success",
		"Webhook credential.created received, signature verified: linear connected",
		"Listed the tools again before calling",
		"15 authenticate_* tools",
	} {
		assert.Contains(t, out, want)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, resultLine+`{"id":"issue_000001","identifier":"LIN-1","title":"Fix the login page","url":"https://linear.app/mergetest/issue/LIN-1"}`, lines[len(lines)-1])
	assert.Empty(t, stderr.String())
}

// TestOfflineServer runs the offline journey on a server the test keeps,
// and checks what the server saw: the webhook delivered and answered 2xx,
// the tool called twice, the user connected.
func TestOfflineServer(t *testing.T) {
	t.Parallel()
	var srv *mergetest.Server
	newServer := func(opts ...mergetest.ServerOption) *mergetest.Server {
		srv = mergetest.NewServer(opts...)
		return srv
	}
	var out strings.Builder
	err := runOffline(context.Background(), &out, flags{addr: "127.0.0.1:0", tool: "github_create_issue"}, map[string]any{"title": "Flaky test"}, newServer)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), `"identifier":"GIT-1","title":"Flaky test"`)
	var delivered bool
	for _, d := range srv.AgentDeliveries() {
		if d.Event == "credential.created" {
			delivered = true
			assert.Equal(t, http.StatusOK, d.StatusCode, "the receiver accepted %s", d)
		}
	}
	assert.True(t, delivered, "credential.created was delivered")
}

// TestAgainstMerge runs the command as against real Merge, with mergetest
// and the fake tool pack standing in, and the test playing the user.
func TestAgainstMerge(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	pack := mcptest.Mount(t, srv)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ah := c.AgentHandler()
	user, _, err := ah.CreateRegisteredUser(context.Background(), agenthandler.RegisteredUserParams{OriginUserID: "u-1", OriginUserName: "Ada"})
	require.NoError(t, err)

	var stderr strings.Builder
	out := clitest.Start(func(stdout io.Writer) int {
		return run(context.Background(), []string{"-tool-pack", pack.ID(), "-user", user.ID, "-addr", "127.0.0.1:0", "-tool", "slack_send_message", "-args", `{"to": "#eng", "text": "deployed"}`},
			clitest.EnvWithKey(srv.APIKey()), stdout, &stderr, srv.ClientOptions()...)
	})
	var link string
	for link == "" {
		l, ok := out.Next(t)
		require.True(t, ok, "the command ended without a magic link; stderr: %s", &stderr)
		_, link, _ = strings.Cut(l, magicLinkLine)
	}
	u, err := url.Parse(link)
	require.NoError(t, err)
	callback := u.Query().Get("callback_url")
	require.True(t, strings.HasPrefix(callback, "http://localhost:"), callback)
	// The command registered the callback origin itself.

	redirect, err := srv.CompleteAgentLink(link)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(redirect, strings.TrimSuffix(callback, "?"+strings.SplitN(callback, "?", 2)[1])), redirect)
	resp, err := http.Get(redirect)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	code, lines := out.Wait(t)
	require.Equal(t, 0, code, "stderr: %s\nstdout:\n%s", &stderr, strings.Join(lines, "\n"))
	assert.True(t, strings.HasPrefix(lines[len(lines)-1], resultLine+`{"id":"send_`), lines[len(lines)-1])
	assert.Contains(t, strings.Join(lines, "\n"), "Waiting for the callback")
	assert.Contains(t, strings.Join(lines, "\n"), "Callback received, state verified")
	calls := pack.Calls()
	require.Len(t, calls, 2)
	assert.True(t, calls[0].NeedsAuth)
	assert.JSONEq(t, `{"to": "#eng", "text": "deployed"}`, string(calls[1].Arguments))
}

// TestBadInput checks that wrong flags and environments exit 2 with a
// message naming the flag, having sent nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const uuid = "4f9b2c1e-7d3a-4e5b-9c8d-0a1b2c3d4e5f"
	for _, tc := range []struct {
		name string
		args []string
		key  string
		want string
	}{
		{"tool pack without a key", []string{"-tool-pack", uuid, "-user", uuid}, "", "set MERGE_API_KEY"},
		{"key without a tool pack", nil, "sk-x", "-tool-pack and -user are required"},
		{"args not JSON", []string{"-args", "title=x"}, "", "-args: want a JSON object"},
		{"args not an object", []string{"-args", "[1]"}, "", "-args: want a JSON object"},
		{"public addr", []string{"-addr", "0.0.0.0:8081"}, "", "not a loopback address"},
		{"ids not UUIDs", []string{"-tool-pack", "pack", "-user", "ada", "-addr", "127.0.0.1:0"}, "sk-x", "-tool-pack: must be a UUID"},
		{"stray argument", []string{"linear"}, "", "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			code := run(context.Background(), tc.args, clitest.EnvWithKey(tc.key), &stdout, &stderr, mergelink.WithAgentHandlerBaseURL("http://127.0.0.1:1/api/v1"))
			assert.Equal(t, 2, code, "stdout: %s", &stdout)
			assert.Contains(t, stderr.String(), tc.want)
		})
	}
}

// TestCallback checks that the callback accepts the pending state once,
// and refuses another state or a replay.
func TestCallback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := startLocal(ln, nil)
	t.Cleanup(l.stop)
	get := func(query string) int {
		resp, err := http.Get(strings.Replace(l.url, "localhost", "127.0.0.1", 1) + callbackPath + "?" + query)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusBadRequest, get("status=success&state=s1"), "no link pending")
	l.expect("s1")
	assert.Equal(t, http.StatusBadRequest, get("status=success&state=forged"))
	assert.Equal(t, http.StatusBadRequest, get("status=success"))
	assert.Empty(t, l.callbacks)
	assert.Equal(t, http.StatusOK, get("status=success&state=s1"))
	assert.Equal(t, http.StatusBadRequest, get("status=success&state=s1"), "a replay")
	res := <-l.callbacks
	assert.True(t, res.Succeeded())
}
