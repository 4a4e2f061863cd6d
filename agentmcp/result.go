package agentmcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mergelink/mergelink/agenthandler"
)

// Result is what a tool call answered: either the tool's content, or, when
// Auth is set, Agent Handler's request that the user first connect a
// connector.
type Result struct {
	// Tool is the name of the tool called.
	Tool string
	// Content and StructuredContent are what the tool returned; IsError
	// reports that the tool itself failed (its content says why). They
	// are empty when Auth is set.
	Content           []mcp.Content
	StructuredContent any
	IsError           bool

	// Auth is set when the tool answered with an authenticate payload
	// (message, magic_link_url, link_token), whichever tool it was: the
	// registered user has not connected the tool's connector. Show the user
	// Auth.Message and Auth.MagicLinkURL, with agenthandler.AppendCallbackURL
	// to bring the browser back, then call again.
	Auth *agenthandler.AuthenticateResult
	// Connector is the slug of the connector Auth asks for, when the tool's
	// name tells it (authenticate_<connector>, or <connector>_... for a
	// connector whose authenticate tool is listed); empty otherwise.
	Connector string

	// Refreshed reports that Call listed the tools again before calling,
	// because a connector was connected or Invalidate was called: what
	// Session.Tools returns has changed, so give the new list to the model.
	Refreshed bool
}

// NeedsAuth reports whether the user must connect a connector before the
// tool works: whether r.Auth is set.
func (r *Result) NeedsAuth() bool { return r != nil && r.Auth != nil }

// Text returns the text of r's text content, the parts joined by newlines,
// or, when r needs authentication, Auth.Message.
func (r *Result) Text() string {
	if r == nil {
		return ""
	}
	if r.Auth != nil {
		return r.Auth.Message
	}
	var parts []string
	for _, c := range r.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// authenticatePayload returns the authenticate payload that res carries,
// in its structured content or as the JSON of one of its text parts, or
// nil when it carries none. A payload is a JSON object with a
// magic_link_url member; one whose link is unsafe to show (not https, say)
// is an error, so that a user is never sent to a bad link.
func authenticatePayload(res *mcp.CallToolResult) (*agenthandler.AuthenticateResult, error) {
	var candidates [][]byte
	if res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			candidates = append(candidates, b)
		}
	}
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			candidates = append(candidates, []byte(t.Text))
		}
	}
	for _, b := range candidates {
		if !bytes.Contains(b, []byte(`magic_link_url`)) {
			continue // no payload, and no need to decode the content
		}
		var probe map[string]json.RawMessage
		if json.Unmarshal(b, &probe) != nil {
			continue
		}
		if _, ok := probe["magic_link_url"]; !ok {
			continue
		}
		a, err := agenthandler.ParseAuthenticateResult(b)
		if err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, nil
}

// authenticatePrefix starts the name of every authenticate tool:
// authenticate_<connector>.
const authenticatePrefix = "authenticate_"

// connectorOf returns the connector that tool belongs to: the slug after
// authenticate_, or the longest of the connectors whose authenticate tool
// is in tools that prefixes name with an underscore (linear for
// linear_create_issue), or "".
func connectorOf(name string, tools []*mcp.Tool) string {
	if c, ok := strings.CutPrefix(name, authenticatePrefix); ok {
		return c
	}
	best := ""
	for _, t := range tools {
		c, ok := strings.CutPrefix(t.Name, authenticatePrefix)
		if ok && c != "" && strings.HasPrefix(name, c+"_") && len(c) > len(best) {
			best = c
		}
	}
	return best
}

// connected reports whether a listing shows connector as connected: its
// authenticate tool is gone and one of its own tools is there (with
// authenticated_only, the server hides both until it is connected).
func connected(connector string, tools []*mcp.Tool) bool {
	own := false
	for _, t := range tools {
		switch {
		case t.Name == authenticatePrefix+connector:
			return false
		case strings.HasPrefix(t.Name, connector+"_"):
			own = true
		}
	}
	return own
}

// String describes the result in one line: the tool, and its text or the
// need to authenticate.
func (r *Result) String() string {
	if r == nil {
		return "<nil>"
	}
	if r.Auth != nil {
		return fmt.Sprintf("%s: needs authentication (connector %q): %s", r.Tool, r.Connector, r.Auth.Message)
	}
	return fmt.Sprintf("%s: %s", r.Tool, r.Text())
}
