package agentmcp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mergelink/mergelink"
)

// Session is an MCP session with one tool pack for one registered user.
// It keeps the last tool listing, and lists again before the next call
// whenever the user may have connected a connector: Merge asks an agent to
// list the tools again after that. Its methods are safe for concurrent use.
//
// Keep a Session across requests: it outlives the context of Connect, and
// when Agent Handler drops the MCP session under it the next call opens a
// new one on its own (see Lifetime in the package doc).
type Session struct {
	path string
	open func(context.Context) (*mcp.ClientSession, error)
	// onMerge checks that a magic link is on one of Merge's hosts.
	onMerge func(link string) error

	mu      sync.Mutex
	cs      *mcp.ClientSession
	broken  bool // cs failed: the next request opens a new one
	closed  bool
	tools   []*mcp.Tool
	listed  bool
	stale   bool
	marks   int             // how many times stale was set: see refresh
	pending map[string]bool // connectors a call was told to authenticate
}

// Tools returns the tools of the tool pack, every page of the listing. It
// lists them when the Session has not yet, or when its listing may be out
// of date (after an authenticate answer, or Invalidate); otherwise it
// returns the last listing. Refresh lists them whatever the state.
func (s *Session) Tools(ctx context.Context) ([]Tool, error) {
	s.mu.Lock()
	fresh := s.listed && !s.stale
	tools := s.tools
	s.mu.Unlock()
	if !fresh {
		var err error
		if tools, err = s.refresh(ctx); err != nil {
			return nil, err
		}
	}
	return toolsOf(tools), nil
}

// Refresh lists the tools again, every page, and keeps the listing: call
// it once the user connected a connector. Call and Tools do it on their
// own when they know the listing may be out of date.
func (s *Session) Refresh(ctx context.Context) error {
	_, err := s.refresh(ctx)
	return err
}

// refresh lists every page of tools and records the listing, clearing the
// connectors it shows as connected from those awaited.
// A mark made while the listing was under way (Invalidate, say) keeps the
// listing stale: the connection it announces may have come after the
// server answered.
func (s *Session) refresh(ctx context.Context) ([]*mcp.Tool, error) {
	s.mu.Lock()
	marks := s.marks
	s.mu.Unlock()
	tools, err := withSession(s, ctx, "tools/list", true, s.listAll)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tools, s.listed = tools, true
	for c := range s.pending {
		if c == "" || connected(c, tools) {
			delete(s.pending, c)
		}
	}
	s.stale = len(s.pending) > 0 || s.marks != marks
	return tools, nil
}

// markStale makes the next Call or Tools list again. It runs with s.mu
// held.
func (s *Session) markStale() {
	s.stale = true
	s.marks++
}

// maxPages bounds a tools/list listing: far more pages than any tool pack
// lists, so that a server whose cursors never end cannot keep the
// session listing.
const maxPages = 1000

// listAll reads every page of tools/list. It stops with an error on a
// cursor it has seen before (a cycle) and after maxPages pages.
func (s *Session) listAll(ctx context.Context, cs *mcp.ClientSession) ([]*mcp.Tool, error) {
	var tools []*mcp.Tool
	seen := map[string]bool{}
	for cursor := ""; ; {
		res, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		if err != nil {
			return nil, err
		}
		tools = append(tools, res.Tools...)
		seen[cursor] = true
		switch cursor = res.NextCursor; {
		case cursor == "":
			return tools, nil
		case seen[cursor]:
			return nil, errors.New("listing the tools: the server's next page is one already read (its pages form a cycle)")
		case len(seen) >= maxPages:
			return nil, fmt.Errorf("listing the tools: the list goes on past %d pages, more than any tool pack holds", maxPages)
		}
	}
}

// Invalidate marks the tool listing out of date, so that the next Call or
// Tools lists the tools again first. Call it when you learn that the user
// connected a connector: from the callback (agenthandler.ParseCallback) or
// the credential.created webhook. After an authenticate answer the
// Session does it on its own until a listing shows the connector
// connected.
func (s *Session) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markStale()
}

// Awaiting returns the connectors that a call was told to authenticate and
// that no listing has shown connected since, sorted.
func (s *Session) Awaiting() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c := range s.pending {
		if c != "" {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// Call calls the tool name with args (a value that encodes to a JSON
// object, such as a map or a struct; nil for none). First, when the
// listing may be out of date or does not name the tool, it lists the
// tools again (Result.Refreshed).
//
// An authenticate answer (see Result.Auth for when an answer is one)
// gives a Result whose Auth is set, and no error; any other answer,
// however it looks, gives the tool's content unchanged. A tool that fails
// on its own gives a Result with IsError. Call fails with a
// *mergelink.APIError for a non-2xx HTTP answer, and with the server's
// JSON-RPC error (*jsonrpc.Error) for a request it refuses, an unknown
// tool say.
func (s *Session) Call(ctx context.Context, name string, args any) (*Result, error) {
	if name == "" {
		return nil, errors.New("agentmcp: Call: the tool name is empty")
	}
	s.mu.Lock()
	relist := !s.listed || s.stale || !slices.ContainsFunc(s.tools, func(t *mcp.Tool) bool { return t.Name == name })
	s.mu.Unlock()
	r := &Result{Tool: name}
	if relist {
		if _, err := s.refresh(ctx); err != nil {
			return nil, err
		}
		r.Refreshed = true
	}
	res, err := withSession(s, ctx, "tools/call "+name, false, func(ctx context.Context, cs *mcp.ClientSession) (*mcp.CallToolResult, error) {
		return cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	tools := s.tools
	s.mu.Unlock()
	auth, connector := classify(name, res, tools, s.onMerge)
	if auth == nil {
		r.Content, r.StructuredContent, r.IsError = res.Content, res.StructuredContent, res.IsError
		return r, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Auth, r.Connector = auth, connector
	s.pending[r.Connector] = true
	s.markStale()
	return r, nil
}

// ErrClosed is returned by the calls of a Session after Close.
var ErrClosed = errors.New("agentmcp: the session is closed")

// Close ends the session. Later calls fail with ErrClosed.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.cs.Close()
}

// session returns the MCP session to send on, opening a new one (an
// initialize request) when the last one failed.
func (s *Session) session(ctx context.Context) (*mcp.ClientSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case !s.broken:
		return s.cs, nil
	}
	cs, err := call(ctx, "initialize", s.path, s.open)
	if err != nil {
		return nil, err
	}
	s.cs.Close()
	s.cs, s.broken = cs, false
	return cs, nil
}

// fail notes that cs failed with err. The SDK closes a connection after
// most non-2xx answers, and one that is closed stays so: the next request
// opens a new session. A refusal of the server's own (a JSON-RPC error,
// such as an unknown tool) leaves it open.
func (s *Session) fail(cs *mcp.ClientSession, err error) {
	var apiErr *mergelink.APIError
	if !errors.As(err, &apiErr) && !errors.Is(err, mcp.ErrConnectionClosed) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cs == cs {
		s.broken = true
	}
}

// withSession runs one request, method, through fn on the current MCP
// session, and sends it once more on a new session (an initialize
// request first) when the server forgot the one it was sent on: a 404 for
// its Mcp-Session-Id, which says the request did not run, so that even a
// tool call is safe to resend. A request that got no answer at all (the
// connection closed, or already closed on our side) is sent once more only
// when idempotent (a listing, not a tool call, which may have run).
func withSession[T any](s *Session, ctx context.Context, method string, idempotent bool, fn func(context.Context, *mcp.ClientSession) (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		cs, err := s.session(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		var sdkErr error // fn's own error, before call reduces it
		v, err := call(ctx, method, s.path, func(ctx context.Context) (T, error) {
			v, err := fn(ctx, cs)
			sdkErr = err
			return v, err
		})
		if err == nil {
			return v, nil
		}
		s.fail(cs, err)
		if attempt == 1 && ctx.Err() == nil && (errors.Is(sdkErr, mcp.ErrSessionMissing) || idempotent && unanswered(err)) {
			continue
		}
		return v, err
	}
}

// unanswered reports whether err says that a request got no answer: its
// connection closed before one came, or was closed already.
func unanswered(err error) bool {
	var apiErr *mergelink.APIError
	var urlErr *url.Error
	return !errors.As(err, &apiErr) && (errors.Is(err, mcp.ErrConnectionClosed) || errors.As(err, &urlErr))
}

// String describes the session without the key it sends.
func (s *Session) String() string {
	return "agentmcp.Session{" + s.path + ", API key hidden}"
}

// GoString is String, so that %#v shows no more.
func (s *Session) GoString() string { return s.String() }
