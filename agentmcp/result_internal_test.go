package agentmcp

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
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
