package agentmcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agentmcp"
)

// TestToolsAreTheModulesOwn checks that Tools returns agentmcp.Tool, whose
// schema is the JSON the server listed, so that a program hands tools to a
// model without importing the MCP SDK.
func TestToolsAreTheModulesOwn(t *testing.T) {
	t.Parallel()
	f := setup(t)
	server := mcp.NewServer(&mcp.Implementation{Name: "custom", Version: "1"}, nil)
	schema := map[string]any{"type": "object", "properties": map[string]any{"title": map[string]any{"type": "string"}}, "required": []any{"title"}}
	server.AddTool(&mcp.Tool{
		Name: "linear_create_issue", Title: "Create issue", Description: "Creates a Linear issue",
		InputSchema: schema, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return text("ok"), nil })
	f.srv.HandleMCP(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	s := f.connect(t)

	tools, err := s.Tools(context.Background())
	require.NoError(t, err)
	require.Len(t, tools, 1)
	got := tools[0]
	assert.Equal(t, agentmcp.Tool{Name: "linear_create_issue", Title: "Create issue", Description: "Creates a Linear issue", ReadOnly: true}, agentmcp.Tool{Name: got.Name, Title: got.Title, Description: got.Description, ReadOnly: got.ReadOnly})
	want, err := json.Marshal(schema)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got.InputSchema))
	assert.Nil(t, got.OutputSchema, "no output schema listed")

	tools[0].Name = "changed"
	again, err := s.Tools(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "linear_create_issue", again[0].Name, "a caller's change to a listing does not reach the Session's")
}

// TestToolsListingCycleStops serves a tools/list whose next cursor names
// the page just read, forever: the listing stops with an error instead of
// looping.
func TestToolsListingCycleStops(t *testing.T) {
	t.Parallel()
	f := setup(t)
	server := mcp.NewServer(&mcp.Implementation{Name: "custom", Version: "1"}, nil)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	var pages atomic.Int32
	f.srv.HandleMCP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Cursor string `json:"cursor"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &req) != nil || req.Method != "tools/list" {
			r.Body = io.NopCloser(bytes.NewReader(body))
			sdk.ServeHTTP(w, r)
			return
		}
		pages.Add(1)
		next := "page-2"
		if req.Params.Cursor == "page-2" {
			next = "page-3"
		}
		if req.Params.Cursor == "page-3" {
			next = "page-2" // back to a page already read
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":{"tools":[{"name":"t","inputSchema":{"type":"object"}}],"nextCursor":"` + next + `"}}`))
	}))
	s := f.connect(t)

	_, err := s.Tools(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cycle")
	assert.EqualValues(t, 3, pages.Load(), "the listing stopped at the first page named again")
}
