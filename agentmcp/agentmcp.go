// Package agentmcp lets a Go agent use the tools of a Merge Agent Handler
// tool pack over MCP, on the official MCP Go SDK: it connects to the tool
// pack's MCP server for one registered user with a mergelink.Client's key
// and region, lists the tools, calls them, and tells a tool's answer from
// an authenticate answer, the one that asks the user to connect a
// connector first.
//
//	s, err := agentmcp.Connect(ctx, c, toolPackID, registeredUserID)
//	...
//	defer s.Close()
//	res, err := s.Call(ctx, "linear_create_issue", map[string]any{"title": "Fix the login page"})
//	if res.NeedsAuth() {
//		// Send the user to res.Auth.MagicLinkURL (agenthandler.AppendCallbackURL
//		// brings the browser back), then call again: the Session lists the
//		// tools again first, as Merge asks of an agent once a user connected.
//	}
//
// # Lifetime
//
// Connect's ctx covers the setup only (the initialize handshake); each
// call has its own. A Session is meant to be kept, across the requests of
// your app, for as long as the user talks to the agent: one per tool pack
// and registered user, shared by goroutines. Agent Handler may drop or
// expire the MCP session under it (a 404 for its Mcp-Session-Id): the
// next call initializes a new one and is sent on it, with no error. A
// connection closed before an answer came fails only that call, unless it
// was a listing, which is sent again; the next call goes through.
//
// # Learning of a new credential
//
// The Session lists the tools again, to see a connector connected, after
// an authenticate answer of its own and after Invalidate. On the replica
// whose Session got the authenticate answer nothing else is needed. A
// Session elsewhere (another replica, another process) does not know that
// the user connected: tell it with Invalidate from your handler of Agent
// Handler's credential.created webhook (agenthandler.WebhookHandler), which
// reaches one replica of yours with the registered user's id and the
// connector, whichever received the callback: pass it on to the replicas
// holding a Session of that user, or let each handle it. Refresh lists at
// once; use it where no webhook arrives (no webhook endpoint, or a test),
// before a call that needs the connector. The callback redirect is no
// signal for other replicas: only one receives it, and Merge skips it when
// the origin is not allowed.
//
// # Redirects
//
// A session follows no redirect, as mergelink.Client follows none: a 3xx
// is a *mergelink.APIError whose Location says where it pointed, so the
// API key never reaches another address.
//
// The module is apart from github.com/mergelink/mergelink so that the MCP
// SDK enters only the programs that use it. Its fake MCP server for tests is
// in the mcptest package.
package agentmcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mergelink/mergelink"
)

// Option configures Connect.
type Option func(*options)

type options struct {
	authenticatedOnly bool
	httpClient        *http.Client
	logger            *slog.Logger
	magicLinkHosts    []string
}

// WithAuthenticatedOnly asks the server to list only the tools of the
// connectors the registered user has connected, and none of the
// authenticate_* tools (Agent Handler's authenticated_only query
// parameter). By default every tool of the tool pack is listed, and a tool
// of a connector the user has not connected answers with an authenticate
// payload (see Result.Auth).
func WithAuthenticatedOnly(on bool) Option {
	return func(o *options) { o.authenticatedOnly = on }
}

// WithMagicLinkHosts adds hosts (host, or host:port, as a URL writes them)
// on which an authenticate answer's magic link is trusted, beside the
// client's region's Agent Handler host
// (agenthandler.Client.MagicLinkHosts): for a host Merge uses that the SDK
// does not know yet. A link on any other host is never an authenticate
// answer (see Result.Auth).
func WithMagicLinkHosts(hosts ...string) Option {
	return func(o *options) { o.magicLinkHosts = append(o.magicLinkHosts, hosts...) }
}

// WithHTTPClient sets the *http.Client the MCP requests go through, for
// timeouts, proxies or tracing; its Transport is wrapped to add the API
// key, and its CheckRedirect replaced: the session follows no redirect,
// whatever hc's policy (a 3xx is a *mergelink.APIError). hc itself is left
// unchanged. The default is a client with no timeout of its own (a tool
// call lasts as long as its context allows) on http.DefaultTransport. A
// nil client is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc != nil {
			o.httpClient = hc
		}
	}
}

// WithLogger makes the session log each MCP request (method, path and
// status, at debug level) and the MCP SDK's own client activity to l. The
// session is silent without it; it never logs the API key, headers or
// bodies.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// protocolVersion is the MCP version the session asks for. Merge's OpenAPI
// lists initialize, tools/list and tools/call as its MCP methods: the
// initialize handshake's latest version, rather than the SDK's newer
// default, whose first request (server/discover) Merge does not list.
const protocolVersion = "2025-11-25"

// Connect opens an MCP session with the tool pack toolPackID for the
// registered user registeredUserID, at c's region's Agent Handler MCP
// endpoint (POST /tool-packs/{tool_pack_id}/registered-users/{registered_user_id}/mcp/),
// with c's API key on every request, and initializes it. ctx bounds that
// setup only: the Session outlives it, and is meant to be kept across
// requests (see Lifetime in the package doc). Close the Session when
// done.
//
// It fails, sending nothing, with a *mergelink.ValidationError when an id
// is not a UUID, and with an error matching mergelink.ErrNoAgentHandlerHost
// in RegionAPAC unless c was given an Agent Handler base URL. A non-2xx
// answer is a *mergelink.APIError (errors.Is(err, mergelink.ErrUnauthorized)
// for a wrong key). No error, log line or printed value holds the key.
func Connect(ctx context.Context, c *mergelink.Client, toolPackID, registeredUserID string, opts ...Option) (*Session, error) {
	if c == nil {
		return nil, errors.New("agentmcp: Connect: the mergelink.Client is nil: make one with mergelink.NewClient")
	}
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	ah := c.AgentHandler()
	endpoint, err := ah.MCPURL(toolPackID, registeredUserID)
	if err != nil {
		return nil, fmt.Errorf("agentmcp: Connect: %w", err)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("agentmcp: Connect: the MCP URL does not parse: %w", err)
	}
	path := u.EscapedPath() // for errors: ids only, no secret
	if o.authenticatedOnly {
		q := u.Query()
		q.Set("authenticated_only", "true")
		u.RawQuery = q.Encode()
	}
	hc := &http.Client{}
	if o.httpClient != nil {
		copied := *o.httpClient
		hc = &copied
	}
	hc.Transport = &authTransport{auth: ah.Authorize, base: hc.Transport, path: path, logger: o.logger}
	hc.CheckRedirect = noRedirect

	client := mcp.NewClient(&mcp.Implementation{Name: "mergelink-agentmcp", Version: mergelink.Version}, &mcp.ClientOptions{Logger: o.logger})
	transport := &mcp.StreamableClientTransport{
		Endpoint:   u.String(),
		HTTPClient: hc,
		// Agent Handler's endpoint answers POSTs only: there is no stream
		// for the server to open, nor one to resume.
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}
	extra := o.magicLinkHosts
	s := &Session{path: path, pending: map[string]bool{}, onMerge: func(link string) error { return ah.CheckMagicLinkURL(link, extra...) }}
	s.open = func(ctx context.Context) (*mcp.ClientSession, error) {
		return client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: protocolVersion})
	}
	cs, err := call(ctx, "initialize", path, s.open)
	if err != nil {
		return nil, err
	}
	s.cs = cs
	return s, nil
}
