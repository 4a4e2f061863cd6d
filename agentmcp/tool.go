package agentmcp

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tool is one tool of the tool pack as the MCP server lists it: what a
// model needs to choose it and call it with Session.Call. It is this
// module's own type, so that a program can hand the tools to a model
// without importing the MCP SDK.
type Tool struct {
	// Name is what Session.Call takes, such as "linear_create_issue" or
	// "authenticate_linear".
	Name string
	// Title is a name for people; often empty.
	Title string
	// Description tells the model what the tool does.
	Description string
	// InputSchema is the JSON Schema of the tool's arguments, as the
	// server sent it: most models' tool definitions take it as it is.
	InputSchema json.RawMessage
	// OutputSchema is the JSON Schema of the tool's structured result;
	// nil when the server gives none.
	OutputSchema json.RawMessage
	// ReadOnly reports that the server marks the tool as one that changes
	// nothing (the MCP readOnlyHint); a hint, not a promise.
	ReadOnly bool
}

// toolsOf converts an MCP listing to Tools.
func toolsOf(list []*mcp.Tool) []Tool {
	out := make([]Tool, 0, len(list))
	for _, t := range list {
		tool := Tool{
			Name:         t.Name,
			Title:        t.Title,
			Description:  t.Description,
			InputSchema:  schemaJSON(t.InputSchema),
			OutputSchema: schemaJSON(t.OutputSchema),
		}
		if t.Annotations != nil {
			tool.ReadOnly = t.Annotations.ReadOnlyHint
		}
		out = append(out, tool)
	}
	return out
}

// schemaJSON returns the JSON of a schema the SDK decoded, or nil for none
// (or one that does not encode, which a decoded value always does).
func schemaJSON(schema any) json.RawMessage {
	if schema == nil {
		return nil
	}
	b, err := json.Marshal(schema)
	if err != nil {
		return nil
	}
	return b
}
