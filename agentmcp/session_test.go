package agentmcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp"
	"github.com/mergelink/mergelink/agentmcp/mcptest"
	"github.com/mergelink/mergelink/mergetest"
)

// TestNeedAuthThenConnected follows seed 002's journey: a Linear tool
// answers with the authenticate payload, the user connects, and the next
// call lists the tools again before it works.
func TestNeedAuthThenConnected(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	ctx := context.Background()

	names := toolNames(s, t)
	assert.Contains(t, names, "linear_create_issue")
	assert.Contains(t, names, "authenticate_linear")
	assert.Contains(t, names, "github_create_issue")
	lists := countMethod(t, f, "tools/list")
	assert.Equal(t, (len(names)+mcptest.DefaultPageSize-1)/mcptest.DefaultPageSize, lists, "a listing of %d tools reads every page", len(names))
	assert.Greater(t, lists, 1)
	assert.Len(t, names, len(slices.Compact(slices.Sorted(slices.Values(names)))), "no tool twice")

	res, err := s.Call(ctx, "linear_create_issue", map[string]any{"title": "Fix the login page"})
	require.NoError(t, err)
	require.True(t, res.NeedsAuth(), "%v", res)
	assert.False(t, res.Refreshed, "the listing was fresh")
	assert.Equal(t, "linear", res.Connector)
	assert.True(t, strings.HasPrefix(res.Auth.MagicLinkURL, f.srv.URL()+mergetest.AgentLinkPath), res.Auth.MagicLinkURL)
	assert.NotEmpty(t, res.Auth.LinkToken)
	assert.Contains(t, res.Auth.Message, "Linear")
	assert.Equal(t, res.Auth.Message, res.Text())
	assert.Empty(t, res.Content)
	assert.Equal(t, []string{"linear"}, s.Awaiting())

	// The callback URL goes on the magic link with the existing helper.
	withCallback, err := agenthandler.AppendCallbackURL(res.Auth.MagicLinkURL, "http://localhost:9999/cb")
	require.NoError(t, err)
	_, err = f.srv.CompleteAgentLink(withCallback)
	require.NoError(t, err)

	before := countMethod(t, f, "tools/list")
	res, err = s.Call(ctx, "linear_create_issue", map[string]any{"title": "Fix the login page"})
	require.NoError(t, err)
	require.False(t, res.NeedsAuth(), "%v", res)
	assert.True(t, res.Refreshed, "the call after an authenticate answer lists the tools again")
	assert.Greater(t, countMethod(t, f, "tools/list"), before)
	assert.Empty(t, s.Awaiting(), "the listing shows Linear connected")
	var issue struct{ Identifier, Title, URL string }
	require.NoError(t, json.Unmarshal([]byte(res.Text()), &issue))
	assert.Equal(t, "LIN-1", issue.Identifier)
	assert.Equal(t, "Fix the login page", issue.Title)
	assert.Equal(t, "https://linear.app/mergetest/issue/LIN-1", issue.URL)
	assert.False(t, res.IsError)
	assert.NotNil(t, res.StructuredContent)

	names = toolNames(s, t)
	assert.NotContains(t, names, "authenticate_linear", "a connected connector has no authenticate tool")
	assert.Contains(t, names, "authenticate_github")

	// Nothing is awaited any more: the next call does not list again.
	before = countMethod(t, f, "tools/list")
	res, err = s.Call(ctx, "linear_search_issues", map[string]any{"query": "login"})
	require.NoError(t, err)
	assert.False(t, res.Refreshed)
	assert.Equal(t, before, countMethod(t, f, "tools/list"))
	assert.Contains(t, res.Text(), `"query":"login"`)

	calls := f.pack.Calls()
	require.Len(t, calls, 3)
	assert.True(t, calls[0].NeedsAuth)
	assert.False(t, calls[1].NeedsAuth)
	assert.Equal(t, f.userID, calls[1].RegisteredUserID)
	assert.JSONEq(t, `{"title": "Fix the login page"}`, string(calls[1].Arguments))
}

// TestAwaitingListsUntilConnected checks that, while the user has not
// connected, every call lists the tools first, so that none can miss the
// moment the connector appears.
func TestAwaitingListsUntilConnected(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	ctx := context.Background()
	res, err := s.Call(ctx, "authenticate_slack", nil)
	require.NoError(t, err)
	require.True(t, res.NeedsAuth())
	assert.Equal(t, "slack", res.Connector)

	for range 2 {
		res, err = s.Call(ctx, "slack_send_message", map[string]any{"to": "#general", "text": "hi"})
		require.NoError(t, err)
		assert.True(t, res.Refreshed)
		assert.True(t, res.NeedsAuth(), "slack is still not connected")
	}
	assert.Equal(t, []string{"slack"}, s.Awaiting())
	f.complete(t, res)
	res, err = s.Call(ctx, "slack_send_message", map[string]any{"to": "#general", "text": "hi"})
	require.NoError(t, err)
	assert.False(t, res.NeedsAuth(), "%v", res)
	assert.Empty(t, s.Awaiting())
}

// TestAuthenticatedOnly checks the query parameter and that Invalidate
// (what a callback or credential.created handler calls) makes the next
// call see the newly connected connector's tools.
func TestAuthenticatedOnly(t *testing.T) {
	t.Parallel()
	f := setup(t)
	full := f.connect(t)
	res, err := full.Call(context.Background(), "notion_create_page", map[string]any{"title": "Notes"})
	require.NoError(t, err)
	require.True(t, res.NeedsAuth())

	s := f.connect(t, agentmcp.WithAuthenticatedOnly(true))
	assert.Empty(t, toolNames(s, t), "the user has connected nothing")
	for _, r := range f.mcpRequests()[len(f.mcpRequests())-1:] {
		assert.Equal(t, "true", r.Query.Get("authenticated_only"))
	}

	f.complete(t, res)
	assert.Empty(t, toolNames(s, t), "Tools returns the listing it has until told otherwise")
	s.Invalidate()
	names := toolNames(s, t)
	assert.Contains(t, names, "notion_create_page")
	assert.Contains(t, names, "notion_search_pages")
	for _, n := range names {
		assert.True(t, strings.HasPrefix(n, "notion_"), "only notion is connected, yet %s is listed", n)
	}
}

// TestRefresh checks that Refresh lists again whatever the state.
func TestRefresh(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	assert.Contains(t, toolNames(s, t), "authenticate_jira")
	res, err := s.Call(context.Background(), "authenticate_jira", nil)
	require.NoError(t, err)
	f.complete(t, res)

	before := countMethod(t, f, "tools/list")
	require.NoError(t, s.Refresh(context.Background()))
	assert.Greater(t, countMethod(t, f, "tools/list"), before)
	assert.NotContains(t, toolNames(s, t), "authenticate_jira")
	assert.Empty(t, s.Awaiting())
}

// TestCallUnknownTool checks that a tool missing from the listing makes
// Call list again, then pass on the server's refusal.
func TestCallUnknownTool(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	_, err := s.Call(context.Background(), "no_such_tool", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no_such_tool")
	_, err = s.Call(context.Background(), "", nil)
	assert.ErrorContains(t, err, "tool name is empty")
}

// TestToolError checks that a tool's own failure is a Result with
// IsError, not an error.
func TestToolError(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	res, err := s.Call(context.Background(), "authenticate_github", nil)
	require.NoError(t, err)
	f.complete(t, res)
	res, err = s.Call(context.Background(), "github_create_issue", map[string]any{})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, res.Text(), "title is required")
}

// countMethod returns how many MCP requests of a JSON-RPC method the
// server received.
func countMethod(t *testing.T, f *fixture, method string) int {
	t.Helper()
	n := 0
	for _, r := range f.mcpRequests() {
		var msg struct{ Method string }
		require.NoError(t, json.Unmarshal(r.Body, &msg))
		if msg.Method == method {
			n++
		}
	}
	return n
}

// TestConcurrentCalls calls, lists and invalidates from many goroutines
// while the user connects, for the race detector, and checks that every
// call after the connection works.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	ctx := context.Background()
	res, err := s.Call(ctx, "authenticate_linear", nil)
	require.NoError(t, err)

	const n = 4
	errs := make(chan error, 3*n)
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			if _, err := s.Call(ctx, "linear_search_issues", map[string]any{"query": fmt.Sprint(i)}); err != nil {
				errs <- err
			}
			if _, err := s.Tools(ctx); err != nil {
				errs <- err
			}
			s.Invalidate()
			_ = s.Awaiting()
		}()
	}
	f.complete(t, res)
	for range n {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		res, err := s.Call(ctx, "linear_search_issues", map[string]any{"query": fmt.Sprint(i)})
		require.NoError(t, err)
		assert.False(t, res.NeedsAuth(), "call %d after the connection: %v", i, res)
	}
	assert.Empty(t, s.Awaiting())
}

// hookTransport calls during once, before it passes on the first
// tools/list request after being armed.
type hookTransport struct {
	armed  atomic.Bool
	during func()
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && h.armed.Load() {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"tools/list"`)) && h.armed.CompareAndSwap(true, false) {
			h.during()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestInvalidateDuringListing checks that an Invalidate that comes while a
// listing is under way is not lost: the connection it announces may have
// come after the server answered.
func TestInvalidateDuringListing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hook := &hookTransport{}
	s := f.connect(t, agentmcp.WithHTTPClient(&http.Client{Transport: hook}))
	hook.during = s.Invalidate
	hook.armed.Store(true)
	_, err := s.Tools(context.Background())
	require.NoError(t, err)
	require.False(t, hook.armed.Load(), "the hook ran")
	before := countMethod(t, f, "tools/list")
	_, err = s.Tools(context.Background())
	require.NoError(t, err)
	assert.Greater(t, countMethod(t, f, "tools/list"), before, "the Invalidate made during the first listing still counts")
	before = countMethod(t, f, "tools/list")
	_, err = s.Tools(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before, countMethod(t, f, "tools/list"), "and only once")
}

// TestOnlyMergesMethods checks that a session sends only what Merge's
// OpenAPI lists (initialize, tools/list, tools/call) and the initialized
// notification that completes initialize: not the SDK's newer
// server/discover, which Merge does not list.
func TestOnlyMergesMethods(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	res, err := s.Call(context.Background(), "linear_create_issue", map[string]any{"title": "x"})
	require.NoError(t, err)
	f.complete(t, res)
	_, err = s.Call(context.Background(), "linear_create_issue", map[string]any{"title": "x"})
	require.NoError(t, err)

	var methods []string
	for _, r := range f.mcpRequests() {
		var msg struct {
			Method string
			Params struct{ ProtocolVersion string }
		}
		require.NoError(t, json.Unmarshal(r.Body, &msg))
		methods = append(methods, msg.Method)
		if msg.Method == "initialize" {
			assert.Equal(t, "2025-11-25", msg.Params.ProtocolVersion)
		}
	}
	require.GreaterOrEqual(t, len(methods), 4)
	assert.Equal(t, []string{"initialize", "notifications/initialized"}, methods[:2])
	for _, m := range methods[2:] {
		assert.Contains(t, []string{"tools/list", "tools/call"}, m)
	}
}
