package agentmcp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agentmcp"
)

// TestAuthenticatePayloadFromAnyTool serves tools of its own that answer
// in each form a payload may take, and checks that Call recognises the
// payload whatever tool sent it, refuses an unsafe link, and takes other
// JSON for content.
func TestAuthenticatePayloadFromAnyTool(t *testing.T) {
	t.Parallel()
	const link = `"magic_link_url": "https://ah.merge.dev/link/abc", "link_token": "lt-1"`
	answers := map[string]*mcp.CallToolResult{
		"text_payload":       text(`{"message": "Connect Linear first", ` + link + `}`),
		"structured_payload": {Content: []mcp.Content{&mcp.TextContent{Text: "see structured content"}}, StructuredContent: map[string]any{"message": "Connect Linear first", "magic_link_url": "https://ah.merge.dev/link/abc", "link_token": "lt-1"}},
		"second_part":        {Content: []mcp.Content{&mcp.TextContent{Text: "Authentication required."}, &mcp.TextContent{Text: `{"message": "Connect Linear first", ` + link + `}`}}},
		"unsafe_link":        text(`{"message": "Connect", "magic_link_url": "http://evil.example/link", "link_token": "lt-1"}`),
		"relative_link":      text(`{"message": "Connect", "magic_link_url": "/link/abc", "link_token": "lt-1"}`),
		"plain_json":         text(`{"id": "LIN-1", "url": "https://linear.app/x"}`),
		"plain_text":         text(`magic_link_url is a field name`),
		"json_array":         text(`[{"magic_link_url": "https://ah.merge.dev/link/abc"}]`),
	}
	f := setup(t)
	server := mcp.NewServer(&mcp.Implementation{Name: "custom", Version: "1"}, nil)
	for name, res := range answers {
		server.AddTool(&mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return res, nil
		})
	}
	server.AddTool(&mcp.Tool{Name: "authenticate_linear", InputSchema: map[string]any{"type": "object"}}, nil)
	f.srv.HandleMCP(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	s := f.connect(t)

	for _, tc := range []struct {
		tool      string
		needsAuth bool
		err       string
	}{
		{tool: "text_payload", needsAuth: true},
		{tool: "structured_payload", needsAuth: true},
		{tool: "second_part", needsAuth: true},
		{tool: "unsafe_link", err: "plain http only on loopback"},
		{tool: "relative_link", err: "absolute https URL"},
		{tool: "plain_json"},
		{tool: "plain_text"},
		{tool: "json_array"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			res, err := s.Call(context.Background(), tc.tool, nil)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Contains(t, err.Error(), "not safe to show")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.needsAuth, res.NeedsAuth(), "%v", res)
			if !tc.needsAuth {
				assert.NotEmpty(t, res.Content)
				return
			}
			assert.Equal(t, "Connect Linear first", res.Auth.Message)
			assert.Equal(t, "https://ah.merge.dev/link/abc", res.Auth.MagicLinkURL)
			assert.Equal(t, "lt-1", res.Auth.LinkToken)
			assert.Empty(t, res.Connector, "no connector prefixes %s", tc.tool)
			assert.Empty(t, res.Content)
		})
	}
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// TestResultText checks Text and String on each kind of result.
func TestResultText(t *testing.T) {
	t.Parallel()
	var nilResult *agentmcp.Result
	assert.Empty(t, nilResult.Text())
	assert.False(t, nilResult.NeedsAuth())
	r := &agentmcp.Result{Tool: "x", Content: []mcp.Content{&mcp.TextContent{Text: "a"}, &mcp.ImageContent{MIMEType: "image/png"}, &mcp.TextContent{Text: "b"}}}
	assert.Equal(t, "a\nb", r.Text())
	assert.Equal(t, "x: a\nb", r.String())
}
