// Package agenthandler calls Merge's Agent Handler API: registered users,
// link tokens with magic link URLs for AI agents, allowed callback origins,
// and the helpers for the callback redirect.
//
// Get a Client from mergelink.Client.AgentHandler; it shares that client's
// transport, region and options.
package agenthandler

import (
	"github.com/mergelink/mergelink/internal/core"
)

// Client calls the Agent Handler API. It is safe for concurrent use.
type Client struct {
	s *core.Settings
}

// New returns a Client for s. It is called by mergelink.Client.AgentHandler,
// which is the way to get one.
func New(s *core.Settings) *Client { return &Client{s: s} }
