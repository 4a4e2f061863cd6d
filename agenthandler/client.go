// Package agenthandler calls Merge's Agent Handler API: registered users
// and link tokens with magic link URLs for AI agents, and the helpers for
// the callback redirect, allowed callback origins (RegisterCallbackOrigin),
// tool packs and what configures them (connectors, security rules, tool
// description overrides), tool search, application credentials, access
// keys and the audit log: every operation of Merge's Agent Handler
// OpenAPI, the MCP endpoint itself being the agentmcp module's. The
// allowed callback origins are registered over the API or in the Merge
// dashboard; mergelink.WithAllowedCallbackOrigins tells the client which
// they are, so that it refuses a callback URL Merge would skip.
//
// Get a Client from mergelink.Client.AgentHandler; it shares that client's
// transport, region and options.
//
// Every call validates its input first and, when it is wrong, returns a
// *mergelink.ValidationError listing every problem, having sent nothing. In
// mergelink.RegionAPAC, for which Merge publishes no Agent Handler host,
// every call fails with an error matching mergelink.ErrNoAgentHandlerHost
// unless mergelink.WithAgentHandlerBaseURL sets one. A non-2xx answer, after
// the retries, is a *mergelink.APIError whose Code holds Agent Handler's
// error code.
package agenthandler

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/mergelink/mergelink/internal/core"
	"github.com/mergelink/mergelink/internal/transport"
)

// Client calls the Agent Handler API. It is safe for concurrent use.
type Client struct {
	s *core.Settings
	// registered holds the origins RegisterCallbackOrigin registered.
	registered *originList
}

// init hands the root package the one way to make a Client, so that no
// exported function takes the internal settings: mergelink.Client.AgentHandler
// is the way to get one.
func init() {
	core.NewAgentHandler = func(s *core.Settings) unsafe.Pointer {
		return unsafe.Pointer(&Client{s: s, registered: &originList{}})
	}
}

// errNoSettings is returned by the calls of a nil or zero Client.
var errNoSettings = fmt.Errorf("mergelink: this agenthandler.Client was not set up (get one from mergelink.Client.AgentHandler): %w", ErrNoClient)

// do sends one request to path (below the Agent Handler base URL, with its
// trailing slash) plus rawQuery, and decodes a 2xx body into out. It sends
// nothing when the region has no Agent Handler host.
func (c *Client) do(ctx context.Context, method, path, rawQuery string, body, out any) (int, error) {
	if c == nil || c.s == nil {
		return 0, errNoSettings
	}
	if c.s.AgentBaseErr != nil {
		return 0, fmt.Errorf("mergelink: %s %s: %w", method, path, c.s.AgentBaseErr)
	}
	u := c.s.AgentBase + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return c.send(ctx, method, u, path, body, out)
}

// send sends one request to the absolute URL u; path names it in errors.
// Agent Handler calls carry no Idempotency-Key: that header belongs to the
// Unified API.
func (c *Client) send(ctx context.Context, method, u, path string, body, out any) (int, error) {
	return c.s.Transport.Do(ctx, &transport.Request{Method: method, URL: u, Path: path, Body: body}, out)
}
