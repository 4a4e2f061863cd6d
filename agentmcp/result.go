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

	// Auth is set when the tool's answer is Agent Handler's authenticate
	// answer: the registered user must connect the tool's connector first.
	// Show the user Auth.Message and Auth.MagicLinkURL, with
	// agenthandler.AppendCallbackURL to bring the browser back, then call
	// again.
	//
	// An answer is an authenticate answer only when all of these hold, so
	// that no tool's data (a document, an email, an issue that anyone may
	// have written, read by an ordinary tool) can pose as Agent Handler:
	//   - the tool is an authenticate tool (authenticate_<connector>), or
	//     a tool of a connector whose authenticate tool is in the current
	//     listing (<connector>_..., as linear_create_issue for
	//     authenticate_linear): a connector the user has not connected;
	//   - its structured content, or one of its text parts, is a JSON
	//     object with a magic_link_url (message, magic_link_url,
	//     link_token);
	//   - that link is an https URL on one of Merge's hosts for the
	//     client's region (agenthandler.Client.MagicLinkHosts) or of those
	//     added with WithMagicLinkHosts.
	// Any other answer comes back as the tool's content, unchanged, however
	// much it looks like an authenticate payload.
	Auth *agenthandler.AuthenticateResult
	// Connector is the slug of the connector Auth asks for.
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

// classify tells an authenticate answer from a tool's content, by the
// rule Result.Auth states: it returns the payload and its connector when
// res, the answer of the tool name, is one, and nil otherwise. tools is the
// listing in effect, and onMerge checks that a magic link is on a Merge
// host. Any doubt makes the answer content: a wrong need-auth would show
// the user a link that a tool's data chose.
func classify(name string, res *mcp.CallToolResult, tools []*mcp.Tool, onMerge func(string) error) (*agenthandler.AuthenticateResult, string) {
	connector := connectorOf(name, tools)
	if connector == "" {
		return nil, "" // not an authenticate tool, nor one of a connector still to connect
	}
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
		if err != nil || onMerge(a.MagicLinkURL) != nil {
			continue
		}
		return a, connector
	}
	return nil, ""
}

// authenticatePrefix starts the name of every authenticate tool:
// authenticate_<connector>.
const authenticatePrefix = "authenticate_"

// connectorOf returns the connector that tool belongs to when its answer
// may be an authenticate answer: the slug after authenticate_, or the
// longest of the connectors whose authenticate tool is in tools that
// prefixes name with an underscore (linear for linear_create_issue); ""
// otherwise.
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
