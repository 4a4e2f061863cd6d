package agenthandler

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Authorize sets req's Authorization header to the client's API key, as a
// Bearer token, and its User-Agent, for a request that code of your own
// sends to Agent Handler, such as an MCP client's (the agentmcp module
// sends every request through it). The key is written into req's header
// only: never print or log that header.
//
// It fails, leaving req unchanged, when req's scheme and host are not those
// of the client's Agent Handler base URL, so that the key is never sent to
// another server, and, in a region with no Agent Handler host, with an
// error matching mergelink.ErrNoAgentHandlerHost.
func (c *Client) Authorize(req *http.Request) error {
	if c == nil || c.s == nil {
		return errNoSettings
	}
	if c.s.AgentBaseErr != nil {
		return c.s.AgentBaseErr
	}
	if req == nil || req.URL == nil {
		return errors.New("mergelink: Authorize: the request has no URL")
	}
	base, err := url.Parse(c.s.AgentBase)
	if err != nil {
		return fmt.Errorf("mergelink: Authorize: the Agent Handler base URL does not parse: %w", err)
	}
	if !strings.EqualFold(req.URL.Scheme, base.Scheme) || !strings.EqualFold(req.URL.Host, base.Host) {
		return fmt.Errorf("mergelink: Authorize: refusing to send the API key to %s://%s, which is not the Agent Handler host %s://%s",
			req.URL.Scheme, req.URL.Host, base.Scheme, base.Host)
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	c.s.Transport.Authorize(req.Header)
	return nil
}
