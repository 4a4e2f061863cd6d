package mcptest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp"
)

// A tool pack created over the API decides which tools its MCP endpoint
// lists: its connectors, the tools it enables on each, with the
// descriptions its overrides give; a change shows at the next listing,
// and an unknown tool pack is 404.
func TestAToolPacksConnectorsDecideItsTools(t *testing.T) {
	t.Parallel()
	_, _, c, userID := setup(t)
	ctx := context.Background()
	ah := c.AgentHandler()
	tp, err := ah.CreateToolPack(ctx, agenthandler.ToolPackParams{Name: "Eng", Description: "",
		Connectors: []agenthandler.ToolPackConnectorParams{{Slug: "linear", ToolNames: []string{"create_issue"}}}})
	require.NoError(t, err)
	_, err = ah.UpdateToolPackToolDescriptionOverrides(ctx, tp.ID, []agenthandler.ToolDescriptionOverrideParams{
		{ConnectorSlug: "linear", ToolName: "create_issue", Description: "File a bug in Linear."}})
	require.NoError(t, err)

	s, err := agentmcp.Connect(ctx, c, tp.ID, userID)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	names := func() map[string]string {
		require.NoError(t, s.Refresh(ctx)) // the session caches its listing
		tools, err := s.Tools(ctx)
		require.NoError(t, err)
		out := map[string]string{}
		for _, tool := range tools {
			out[tool.Name] = tool.Description
		}
		return out
	}
	got := names()
	assert.Len(t, got, 2, "%v", got)
	assert.Contains(t, got, "authenticate_linear")
	assert.Equal(t, "File a bug in Linear.", got["linear_create_issue"])

	_, err = ah.UpdateToolPackConnectors(ctx, tp.ID, []agenthandler.ToolPackConnectorParams{{Slug: "slack", ToolNames: []string{"send_message"}}})
	require.NoError(t, err)
	got = names()
	assert.Contains(t, got, "slack_send_message")
	assert.NotContains(t, got, "slack_search_messages", "not enabled in the pack")
	assert.Len(t, got, 4)

	_, err = agentmcp.Connect(ctx, c, "00000000-0000-4000-8000-000000000000", userID)
	assert.ErrorIs(t, err, agenthandler.ErrNotFound)
}
