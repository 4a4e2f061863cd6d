package mcptest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mergelink/mergelink/agenthandler"
)

// inputSchema returns the input schema of a connector tool, from its verb:
// create_* takes a title, search_* a query, send_* a destination and a
// text; the others take any object.
func inputSchema(tool string) map[string]any {
	str := map[string]any{"type": "string"}
	verb, _, _ := strings.Cut(tool, "_")
	switch verb {
	case "create":
		return map[string]any{"type": "object", "required": []string{"title"},
			"properties": map[string]any{"title": str, "description": str}}
	case "search":
		return map[string]any{"type": "object", "required": []string{"query"},
			"properties": map[string]any{"query": str}}
	case "send":
		return map[string]any{"type": "object", "required": []string{"to", "text"},
			"properties": map[string]any{"to": str, "text": str}}
	}
	return map[string]any{"type": "object"}
}

// work answers a call of connector k's tool for a user who connected k,
// with plausible content: the created object, search results, or an
// acknowledgement, as JSON text and structured content. A call missing a
// required argument is a tool error, as a real tool would answer.
func (p *ToolPack) work(userID string, k agenthandler.Connector, tool string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		p.record(req, userID, false)
		var args map[string]any
		if raw := req.Params.Arguments; len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &args); err != nil {
				return toolError("the arguments must be a JSON object"), nil
			}
		}
		if schema := inputSchema(tool); schema["required"] != nil {
			for _, name := range schema["required"].([]string) {
				if s, _ := args[name].(string); s == "" {
					return toolError(fmt.Sprintf("%s_%s: %s is required", k.Slug, tool, name)), nil
				}
			}
		}
		verb, object, _ := strings.Cut(tool, "_")
		object = strings.TrimSuffix(object, "s")
		var out map[string]any
		switch verb {
		case "create":
			n := p.next()
			key := fmt.Sprintf("%s-%d", prefix(k.Slug), n)
			out = map[string]any{
				"id":         fmt.Sprintf("%s_%06d", object, n),
				"identifier": key,
				"title":      args["title"],
				"url":        fmt.Sprintf("%s/mergetest/%s/%s", site(k), object, key),
			}
			if d, ok := args["description"]; ok {
				out["description"] = d
			}
		case "search", "list":
			var results []map[string]any
			for i := 1; i <= 2; i++ {
				results = append(results, map[string]any{
					"id":    fmt.Sprintf("%s_%06d", object, i),
					"title": fmt.Sprintf("%s %s %d", k.Name, strings.ReplaceAll(object, "_", " "), i),
				})
			}
			out = map[string]any{"results": results, "count": len(results)}
			if q, ok := args["query"]; ok {
				out["query"] = q
			}
		default:
			out = map[string]any{"ok": true, "id": fmt.Sprintf("%s_%06d", verb, p.next())}
		}
		text, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(text)}}, StructuredContent: out}, nil
	}
}

// next returns the next number of the pack's created objects, from 1.
func (p *ToolPack) next() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sequence++
	return p.sequence
}

// prefix returns an issue-key prefix for a connector slug: LIN for linear.
func prefix(slug string) string {
	s := strings.ToUpper(strings.ReplaceAll(slug, "-", ""))
	return s[:min(3, len(s))]
}

// site returns the connector's web address, for the URLs of what it
// creates.
func site(k agenthandler.Connector) string {
	if k.SourceURL != "" {
		return strings.TrimSuffix(k.SourceURL, "/")
	}
	return "https://" + k.Slug + ".example"
}

// toolError is a tool's own failure: IsError with the reason as text.
func toolError(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}
