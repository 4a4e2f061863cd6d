package agentmcp_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp"
	"github.com/mergelink/mergelink/agentmcp/mcptest"
	"github.com/mergelink/mergelink/mergetest"
)

// testAPIKey is distinctive so that a test can assert it leaks nowhere.
const testAPIKey = "sk-test-AGENTMCP-LEAKCHECK-4vQz"

// fixture is a mergetest server with the fake tool pack mounted, a client
// for it and a registered user.
type fixture struct {
	srv    *mergetest.Server
	pack   *mcptest.ToolPack
	c      *mergelink.Client
	userID string
	logs   *lockedBuffer // the client's and the session's slog output
}

// setup starts a mergetest server that accepts testAPIKey, mounts the fake
// tool pack on it (whose listings span pages) and registers a user.
func setup(t testing.TB, opts ...mcptest.Option) *fixture {
	t.Helper()
	f := &fixture{logs: &lockedBuffer{}}
	f.srv = mergetest.NewTestServer(t, mergetest.WithAPIKey(testAPIKey))
	f.pack = mcptest.Mount(t, f.srv, opts...)
	c, err := mergelink.NewClient(testAPIKey, append(f.srv.ClientOptions(), mergelink.WithLogger(f.logger()))...)
	require.NoError(t, err)
	f.c = c
	u, _, err := c.AgentHandler().CreateRegisteredUser(context.Background(), agenthandler.RegisteredUserParams{OriginUserID: "agent-user-1", OriginUserName: "Ada"})
	require.NoError(t, err)
	f.userID = u.ID
	return f
}

// connect opens a session of the fixture's user, logging to f.logs, and
// closes it when the test ends.
func (f *fixture) connect(t testing.TB, opts ...agentmcp.Option) *agentmcp.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	s, err := agentmcp.Connect(ctx, f.c, f.pack.ID(), f.userID, append([]agentmcp.Option{agentmcp.WithLogger(f.logger())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// logger returns a debug logger writing text to f.logs.
func (f *fixture) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// mcpRequests returns the MCP requests the server received.
func (f *fixture) mcpRequests() []mergetest.Request {
	var out []mergetest.Request
	for _, r := range f.srv.Requests() {
		if strings.HasSuffix(r.Path, "/mcp/") {
			out = append(out, r)
		}
	}
	return out
}

// complete completes, as the user's browser would, the link of an
// authenticate answer.
func (f *fixture) complete(t testing.TB, res *agentmcp.Result) {
	t.Helper()
	require.True(t, res.NeedsAuth(), "want an authenticate answer, got %v", res)
	_, err := f.srv.CompleteAgentLink(res.Auth.MagicLinkURL)
	require.NoError(t, err)
}

// toolNames returns the names of tools.
func toolNames(s *agentmcp.Session, t *testing.T) []string {
	t.Helper()
	tools, err := s.Tools(context.Background())
	require.NoError(t, err)
	names := make([]string, len(tools))
	for i, tool := range tools {
		names[i] = tool.Name
	}
	return names
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
