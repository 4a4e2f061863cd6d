package agentmcp_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// droppingServer is a stateful MCP server, as Agent Handler's may be: it
// gives each session an Mcp-Session-Id, and can forget every session it
// gave (an expiry, a restart), after which it answers their ids 404 as
// MCP's Streamable HTTP transport asks. It can also close the connection
// of the next request without answering.
type droppingServer struct {
	server *mcp.Server
	ran    atomic.Int32 // tool calls run
	cut    atomic.Int32 // requests still to answer by closing the connection
	gone   atomic.Int32 // requests answered 404

	mu      sync.Mutex
	handler http.Handler
}

func newDroppingServer(f *fixture) *droppingServer {
	d := &droppingServer{server: mcp.NewServer(&mcp.Implementation{Name: "dropping", Version: "1"}, nil)}
	d.server.AddTool(&mcp.Tool{Name: "linear_create_issue", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			d.ran.Add(1)
			return text("created"), nil
		})
	d.drop()
	f.srv.HandleMCP(d)
	return d
}

// drop forgets every session: a new handler knows none of the old ids.
func (d *droppingServer) drop() {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return d.server }, &mcp.StreamableHTTPOptions{JSONResponse: true})
	d.mu.Lock()
	defer d.mu.Unlock()
	d.handler = h
}

func (d *droppingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.cut.Load() > 0 && d.cut.Add(-1) >= 0 {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	d.mu.Lock()
	h := d.handler
	d.mu.Unlock()
	h.ServeHTTP(&statusWriter{ResponseWriter: w, d: d}, r)
}

// statusWriter counts the 404 answers of a droppingServer.
type statusWriter struct {
	http.ResponseWriter
	d *droppingServer
}

func (w *statusWriter) WriteHeader(status int) {
	if status == http.StatusNotFound {
		w.d.gone.Add(1)
	}
	w.ResponseWriter.WriteHeader(status)
}

// TestSessionDroppedByServer checks that a Session outlives the MCP
// session under it: once the server forgot it (a 404 for its
// Mcp-Session-Id), the next call initializes a new one and is sent on it,
// with no error for the caller and the tool run once.
func TestSessionDroppedByServer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	d := newDroppingServer(f)
	s := f.connect(t)
	ctx := context.Background()

	_, err := s.Call(ctx, "linear_create_issue", nil)
	require.NoError(t, err)
	require.Equal(t, 1, countMethod(t, f, "initialize"))

	for round := 2; round <= 3; round++ {
		d.drop()
		res, err := s.Call(ctx, "linear_create_issue", map[string]any{"round": round})
		require.NoError(t, err, "the call after the server dropped the session")
		assert.Equal(t, "created", res.Text())
		assert.Equal(t, round, countMethod(t, f, "initialize"), "one new session per drop")
		assert.Equal(t, int32(round), d.ran.Load(), "the tool ran once per call")
	}

	d.drop()
	tools, err := s.Tools(ctx)
	require.NoError(t, err, "Tools answers from its listing")
	require.Len(t, tools, 1)
	require.NoError(t, s.Refresh(ctx), "a listing after a drop")
	assert.Equal(t, 4, countMethod(t, f, "initialize"))

	assert.Equal(t, int32(3), d.gone.Load(), "each drop was seen once, as a 404")
}

// TestConnectionClosedByServer checks that a connection the server closes
// without an answer costs at most the request it carried: a listing is
// sent again, a tool call (which may have run) fails, and the next call
// works.
func TestConnectionClosedByServer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	d := newDroppingServer(f)
	s := f.connect(t)
	ctx := context.Background()

	d.cut.Store(1)
	require.NoError(t, s.Refresh(ctx), "a listing is sent again")

	d.cut.Store(1)
	_, err := s.Call(ctx, "linear_create_issue", nil)
	require.Error(t, err, "a tool call is not sent twice")
	assert.NotContains(t, err.Error(), testAPIKey)

	res, err := s.Call(ctx, "linear_create_issue", nil)
	require.NoError(t, err, "the next call works")
	assert.Equal(t, "created", res.Text())
	assert.Equal(t, int32(1), d.ran.Load())

	d.cut.Store(1)
	d.drop()
	_, err = s.Call(ctx, "linear_create_issue", nil)
	require.Error(t, err)
	res, err = s.Call(ctx, "linear_create_issue", nil)
	require.NoError(t, err, "the next call works after a closed connection and a dropped session")
	assert.True(t, strings.Contains(res.Text(), "created"))
}
