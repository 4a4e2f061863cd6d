package mcptest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp"
	"github.com/mergelink/mergelink/agentmcp/mcptest"
	"github.com/mergelink/mergelink/mergetest"
)

// setup mounts a tool pack on a new server and registers a user.
func setup(t *testing.T, opts ...mcptest.Option) (*mergetest.Server, *mcptest.ToolPack, *mergelink.Client, string) {
	t.Helper()
	srv := mergetest.NewTestServer(t)
	pack := mcptest.Mount(t, srv, opts...)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	u, _, err := c.AgentHandler().CreateRegisteredUser(context.Background(), agenthandler.RegisteredUserParams{OriginUserID: "u1", OriginUserName: "Ada"})
	require.NoError(t, err)
	return srv, pack, c, u.ID
}

// TestToolsOfTheCatalog checks that the pack lists every tool of every
// connector of mergetest's catalog, and an authenticate tool for each
// connector the user has not connected.
func TestToolsOfTheCatalog(t *testing.T) {
	t.Parallel()
	srv, pack, c, userID := setup(t)
	ctx := context.Background()
	var want []string
	for k, err := range c.AgentHandler().ListConnectors(ctx, agenthandler.ListConnectorsParams{}) {
		require.NoError(t, err)
		want = append(want, "authenticate_"+k.Slug)
		for _, tool := range k.Tools {
			want = append(want, k.Slug+"_"+tool.Name)
		}
	}
	require.Contains(t, want, "linear_create_issue")

	s, err := agentmcp.Connect(ctx, c, pack.ID(), userID)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	tools, err := s.Tools(ctx)
	require.NoError(t, err)
	var got []string
	for _, tool := range tools {
		got = append(got, tool.Name)
		assert.NotEmpty(t, tool.Description, tool.Name)
	}
	assert.ElementsMatch(t, want, got)

	res, err := s.Call(ctx, "linear_create_issue", map[string]any{"title": "x"})
	require.NoError(t, err)
	require.True(t, res.NeedsAuth())
	_, err = srv.CompleteAgentLink(res.Auth.LinkToken)
	require.NoError(t, err, "the payload's link token is one of the server's")
	u, err := c.AgentHandler().GetRegisteredUser(ctx, userID)
	require.NoError(t, err)
	assert.Equal(t, []string{"linear"}, u.AuthenticatedConnectors)

	require.NoError(t, s.Refresh(ctx))
	tools, err = s.Tools(ctx)
	require.NoError(t, err)
	assert.Len(t, tools, len(want)-1, "one authenticate tool fewer")
}

// TestPlainJSONRPC posts tools/list and tools/call as Merge's OpenAPI
// shows them, without an MCP handshake, and reads plain JSON answers.
func TestPlainJSONRPC(t *testing.T) {
	t.Parallel()
	srv, pack, _, userID := setup(t, mcptest.WithPageSize(4))
	post := func(body string) map[string]any {
		req, err := http.NewRequest(http.MethodPost, srv.URL()+mergetest.AgentPath+"/tool-packs/"+pack.ID()+"/registered-users/"+userID+"/mcp/", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var v map[string]any
		require.NoError(t, json.Unmarshal(data, &v), "%s", data)
		return v
	}
	list := post(`{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}`)
	tools := list["result"].(map[string]any)["tools"].([]any)
	assert.Len(t, tools, 4, "WithPageSize(4)")
	assert.NotEmpty(t, list["result"].(map[string]any)["nextCursor"])

	called := post(`{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "authenticate_linear", "arguments": {}}}`)
	content := called["result"].(map[string]any)["content"].([]any)
	var payload agenthandler.AuthenticateResult
	require.NoError(t, json.Unmarshal([]byte(content[0].(map[string]any)["text"].(string)), &payload))
	assert.True(t, strings.HasPrefix(payload.MagicLinkURL, srv.URL()+mergetest.AgentLinkPath))
	parsed, err := agenthandler.ParseAuthenticateResult([]byte(content[0].(map[string]any)["text"].(string)))
	require.NoError(t, err, "the payload is the one seed 002 shows")
	assert.Equal(t, payload, *parsed)
	assert.Equal(t, []string{"authenticate_linear"}, names(pack.Calls()))
}

// TestWithToolPackID checks the id option and that another id is unknown.
func TestWithToolPackID(t *testing.T) {
	t.Parallel()
	const id = "0e8f5c52-1d2b-4c3a-8f4e-5a6b7c8d9e0f"
	_, pack, c, userID := setup(t, mcptest.WithToolPackID(id))
	assert.Equal(t, id, pack.ID())
	_, err := agentmcp.Connect(context.Background(), c, mcptest.ToolPackID, userID)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
	s, err := agentmcp.Connect(context.Background(), c, id, userID)
	require.NoError(t, err)
	s.Close()

	_, err = mcptest.Serve(mergetest.NewTestServer(t), mcptest.WithToolPackID("pack-1"))
	assert.ErrorContains(t, err, "UUID")
	ft := &fatalTB{TB: t}
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		mcptest.Mount(ft, mergetest.NewTestServer(t), mcptest.WithToolPackID("pack-1"))
	}()
	<-ran
	assert.Contains(t, ft.fatal, "UUID", "Mount fails the test instead of panicking")
}

// fatalTB records Fatal instead of ending the test.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

// Remounting keeps the calls answered before; WithMiddleware sees every
// request first, and can fail it, slow it or send it elsewhere.
func TestRemountKeepsCallsAndMiddleware(t *testing.T) {
	t.Parallel()
	srv, pack, c, userID := setup(t)
	ctx := context.Background()
	s, err := agentmcp.Connect(ctx, c, pack.ID(), userID)
	require.NoError(t, err)
	_, err = s.Call(ctx, "linear_create_issue", map[string]any{"title": "t"})
	require.NoError(t, err)
	s.Close()
	require.Len(t, pack.Calls(), 1)

	var failing atomic.Bool
	failing.Store(true)
	again := mcptest.Mount(t, srv, mcptest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() {
				http.Error(w, `{"error":{"code":"overloaded"}}`, http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	assert.Equal(t, names(pack.Calls()), names(again.Calls()), "remounting keeps Calls")
	_, err = agentmcp.Connect(ctx, c, again.ID(), userID)
	require.Error(t, err, "the middleware fails every request")
	failing.Store(false)
	s, err = agentmcp.Connect(ctx, c, again.ID(), userID)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Call(ctx, "linear_search_issues", map[string]any{"query": "q"})
	require.NoError(t, err)
	assert.Equal(t, []string{"linear_create_issue", "linear_search_issues"}, names(again.Calls()))
}

func names(calls []mcptest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Tool)
	}
	return slices.Clip(out)
}
