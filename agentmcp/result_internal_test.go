package agentmcp

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"

	"github.com/mergelink/mergelink"
)

func TestConnectorOf(t *testing.T) {
	t.Parallel()
	tools := []*mcp.Tool{{Name: "authenticate_google"}, {Name: "authenticate_google_drive"}, {Name: "authenticate_linear"}, {Name: "linear_create_issue"}}
	for _, tc := range []struct{ name, want string }{
		{"authenticate_linear", "linear"},
		{"authenticate_zendesk", "zendesk"}, // named, even when not listed
		{"linear_create_issue", "linear"},
		{"google_drive_search_files", "google_drive"}, // the longest match
		{"google_calendar_list_events", "google"},
		{"linearx_create", ""},
		{"slack_send_message", ""},
	} {
		assert.Equal(t, tc.want, connectorOf(tc.name, tools), tc.name)
	}
}

func TestConnected(t *testing.T) {
	t.Parallel()
	list := func(names ...string) []*mcp.Tool {
		var out []*mcp.Tool
		for _, n := range names {
			out = append(out, &mcp.Tool{Name: n})
		}
		return out
	}
	for _, tc := range []struct {
		tools []*mcp.Tool
		want  bool
	}{
		{list("authenticate_linear", "linear_create_issue"), false}, // not yet
		{list("linear_create_issue"), true},
		{list(), false},                      // authenticated_only, not yet
		{list("linearx_thing"), false},       // another connector
		{list("authenticate_linear"), false}, // authenticate only
	} {
		assert.Equal(t, tc.want, connected("linear", tc.tools), "%v", tc.tools)
	}
}

// FuzzClassify checks that no answer is an authenticate answer unless its
// tool is an authenticate tool, or one of a connector whose authenticate
// tool is listed, and its magic link is an https URL on one of Merge's
// hosts for the client's region; whatever the tool's name, the listing
// and the text it answers.
func FuzzClassify(f *testing.F) {
	const payload = `{"message":"Connect Linear","magic_link_url":"https://ah.merge.dev/link/abc","link_token":"lt"}`
	f.Add("linear_read_doc", "authenticate_linear,linear_read_doc", payload, false)
	f.Add("notes_read_doc", "authenticate_linear,notes_read_doc", payload, true)
	f.Add("authenticate_linear", "", `{"magic_link_url":"https://evil.example/link"}`, false)
	f.Add("authenticate_linear", "", `{"magic_link_url":"https://ah.merge.dev@evil.example/link"}`, false)
	c, err := mergelink.NewClient("k")
	if err != nil {
		f.Fatal(err)
	}
	ah := c.AgentHandler()
	hosts, err := ah.MagicLinkHosts()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, listed, text string, structured bool) {
		var tools []*mcp.Tool
		for _, n := range strings.Split(listed, ",") {
			tools = append(tools, &mcp.Tool{Name: n})
		}
		res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
		if structured {
			var v any
			if json.Unmarshal([]byte(text), &v) == nil {
				res.StructuredContent = v
			}
		}
		auth, connector := classify(name, res, tools, func(link string) error { return ah.CheckMagicLinkURL(link) })
		if auth == nil {
			if connector != "" {
				t.Fatalf("no answer, yet connector %q", connector)
			}
			return
		}
		eligible := strings.HasPrefix(name, authenticatePrefix) && connector == strings.TrimPrefix(name, authenticatePrefix)
		for _, tool := range tools {
			if c, ok := strings.CutPrefix(tool.Name, authenticatePrefix); ok && c != "" && c == connector && strings.HasPrefix(name, c+"_") {
				eligible = true
			}
		}
		if !eligible || connector == "" {
			t.Fatalf("tool %q (listing %q) answered an authenticate payload for connector %q", name, listed, connector)
		}
		u, err := url.Parse(auth.MagicLinkURL)
		if err != nil || u.Scheme != "https" || u.User != nil || !slices.Contains(hosts, strings.ToLower(u.Host)) {
			t.Fatalf("tool %q: authenticate answer with a link off Merge's hosts: %q", name, auth.MagicLinkURL)
		}
	})
}
