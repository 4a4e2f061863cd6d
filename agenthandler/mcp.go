package agenthandler

import (
	"fmt"
	"net/url"

	"github.com/mergelink/mergelink/internal/validate"
)

// MCPURL returns the URL of Merge's MCP server for a registered user and a
// tool pack in the client's region (or at its WithAgentHandlerBaseURL):
// the endpoint an MCP client posts JSON-RPC to, authenticated with the same
// Bearer API key. It sends nothing. It fails with a *ValidationError when
// toolPackID or registeredUserID is not a UUID, and with an error matching
// mergelink.ErrNoAgentHandlerHost in a region without an Agent Handler
// host.
func (c *Client) MCPURL(toolPackID, registeredUserID string) (string, error) {
	v := validate.New("MCPURL")
	v.Required("toolPackID", toolPackID)
	v.UUID("toolPackID", toolPackID)
	checkUserID(v, registeredUserID)
	if err := v.Err(); err != nil {
		return "", err
	}
	if c == nil || c.s == nil {
		return "", errNoSettings
	}
	if c.s.AgentBaseErr != nil {
		return "", fmt.Errorf("mergelink: MCPURL: %w", c.s.AgentBaseErr)
	}
	return c.s.AgentBase + "/tool-packs/" + url.PathEscape(toolPackID) +
		"/registered-users/" + url.PathEscape(registeredUserID) + "/mcp/", nil
}
