package mergelink

import (
	"context"

	"github.com/mergelink/mergelink/agenthandler"
)

// CreateAgentLinkToken creates an Agent Handler link token and magic link
// URL with which the registered user authenticates with p.Connector. It is
// c.AgentHandler().CreateLinkToken, and fails as that does: with a
// *ValidationError, before sending anything, for a registeredUserID that
// is not a UUID, invalid params or a callback URL whose origin is not among
// WithAllowedCallbackOrigins; with ErrNoAgentHandlerHost in RegionAPAC
// without WithAgentHandlerBaseURL; and with an *APIError for a non-2xx
// answer.
func (c *Client) CreateAgentLinkToken(ctx context.Context, registeredUserID string, p agenthandler.LinkTokenParams) (*agenthandler.LinkToken, error) {
	return c.AgentHandler().CreateLinkToken(ctx, registeredUserID, p)
}
