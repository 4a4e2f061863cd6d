package agentmcp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// bearer adds a fixed Authorization header: the baseline's bare
// authentication.
type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// BenchmarkCall measures a tool call through a Session against the same
// call on a bare MCP SDK session to the same fake, in the same run: the
// cost of agentmcp's layer (Authorize, error capture, need-auth check,
// listing bookkeeping) over the SDK's.
func BenchmarkCall(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	s := f.connect(b)
	res, err := s.Call(ctx, "authenticate_linear", nil)
	require.NoError(b, err)
	f.complete(b, res)
	args := map[string]any{"query": "login"}

	b.Run("sdk", func(b *testing.B) {
		u, err := f.c.AgentHandler().MCPURL(f.pack.ID(), f.userID)
		require.NoError(b, err)
		client := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
			Endpoint: u, HTTPClient: &http.Client{Transport: bearer{testAPIKey}}, DisableStandaloneSSE: true, MaxRetries: -1,
		}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		require.NoError(b, err)
		defer cs.Close()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "linear_search_issues", Arguments: args}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("agentmcp", func(b *testing.B) {
		_, err := s.Tools(ctx)
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			res, err := s.Call(ctx, "linear_search_issues", args)
			if err != nil || res.NeedsAuth() || res.Refreshed {
				b.Fatal(err, res)
			}
		}
	})
}
