// Package mcptest serves a fake Agent Handler tool pack over MCP from a
// mergetest.Server, on the MCP Go SDK's own server side, so that an agent
// built on agentmcp can be tested offline from its first tool call to a
// connected account and back.
//
//	srv := mergetest.NewTestServer(t)
//	pack := mcptest.Mount(t, srv)
//	s, err := agentmcp.Connect(ctx, c, pack.ID(), user.ID)
//
// Outside a test (a demo, an offline mode), Serve does the same and
// returns an error instead of failing a test. WithMiddleware wraps the
// fake's MCP handler, so that a test can slow it, fail it or redirect it.
//
// The tool pack Mount serves (ToolPackID unless WithToolPackID) holds
// every connector of mergetest's catalog (GET /connectors/) with its
// tools; a tool pack created on the server (CreateToolPack) is served
// too, with the connectors and tools it enables and their descriptions
// as the pack gives them (overrides included), read at each request. Tools
// are named <connector>_<tool>
// (linear_create_issue, linear_search_issues, ...). For a connector the
// registered user has not connected, the pack also lists
// authenticate_<connector>, and every tool of the connector answers, as
// Agent Handler does, with the authenticate payload {"message",
// "magic_link_url", "link_token"}: a real link token of the server, whose
// magic link page (or mergetest.Server.CompleteAgentLink) connects the
// connector. From then on the connector's tools answer with plausible
// content and its authenticate tool is no longer listed. With the query
// authenticated_only=true, the tools of unconnected connectors and every
// authenticate tool are hidden.
//
// The fake reads the registered user and the catalog, and creates link
// tokens, through the server's own API with its key, as a client would:
// those requests show in mergetest.Server.Requests beside the MCP ones.
package mcptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

// DefaultPageSize is how many tools a page of tools/list holds unless
// WithPageSize sets another: small, so that a listing spans pages.
const DefaultPageSize = 10

// Option configures Mount.
type Option func(*ToolPack)

// WithToolPackID sets the tool pack's id, a UUID; the default is a fixed
// one, ToolPackID.
func WithToolPackID(id string) Option { return func(p *ToolPack) { p.id = id } }

// WithMiddleware wraps the fake's MCP handler in mw, which sees every
// request to the tool pack before the fake does: to slow it (block until
// the test lets it go), fail it (answer 503 itself) or redirect it (answer
// 307 to another URL), as a proxy or an overloaded Agent Handler would.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(p *ToolPack) { p.middleware = append(p.middleware, mw) }
}

// WithPageSize sets how many tools a page of tools/list holds.
func WithPageSize(n int) Option {
	return func(p *ToolPack) {
		if n > 0 {
			p.pageSize = n
		}
	}
}

// ToolPackID is the id of a tool pack that Mount serves unless
// WithToolPackID sets another.
const ToolPackID = "4f9b2c1e-7d3a-4e5b-9c8d-0a1b2c3d4e5f"

// ToolPack is a fake tool pack served by a mergetest.Server. Its methods
// are safe for concurrent use.
type ToolPack struct {
	srv        *mergetest.Server
	id         string
	pageSize   int
	client     *mergelink.Client
	middleware []func(http.Handler) http.Handler
	log        *callLog // shared by every pack mounted on the server

	mu       sync.Mutex
	catalog  []agenthandler.Connector // read once, on the first request
	servers  map[string]*mcp.Server   // by what they list: see server
	sequence int
}

// callLog holds the calls answered by the packs mounted on one server, so
// that mounting again does not forget them.
type callLog struct {
	mu    sync.Mutex
	calls []Call
}

// logs maps each mergetest.Server with a pack mounted to its callLog.
var logs sync.Map

// Call is a tool call the fake answered.
type Call struct {
	Tool             string
	RegisteredUserID string
	Arguments        json.RawMessage
	// NeedsAuth reports that the fake answered with the authenticate
	// payload.
	NeedsAuth bool
}

// Mount serves a fake tool pack at srv's MCP endpoint
// (mergetest.AgentPath+mergetest.MCPPath), replacing any handler mounted
// before, and returns it. The calls answered before, by a pack mounted
// earlier on srv, stay in Calls. It fails the test when an option is
// invalid.
func Mount(t testing.TB, srv *mergetest.Server, opts ...Option) *ToolPack {
	t.Helper()
	p, err := Serve(srv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Delete(srv) })
	return p
}

// Serve is Mount outside a test, for a demo or an offline mode: it fails
// when an option is invalid, such as a tool pack id that is not a UUID.
func Serve(srv *mergetest.Server, opts ...Option) (*ToolPack, error) {
	p := &ToolPack{srv: srv, id: ToolPackID, pageSize: DefaultPageSize}
	for _, opt := range opts {
		if opt != nil {
			opt(p)
		}
	}
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		return nil, fmt.Errorf("mcptest: %w", err)
	}
	p.client = c
	if _, err := c.AgentHandler().MCPURL(p.id, p.id); err != nil {
		return nil, fmt.Errorf("mcptest: the tool pack id must be a UUID: %w", err)
	}
	log, _ := logs.LoadOrStore(srv, &callLog{})
	p.log = log.(*callLog)
	mcpHandler := mcp.NewStreamableHTTPHandler(p.server, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := p.client.AgentHandler().GetRegisteredUser(r.Context(), r.PathValue("registered_user_id"))
		if err != nil {
			writeError(w, http.StatusNotFound, "registered_user_not_found", "No Registered User has this id.")
			return
		}
		var catalog []agenthandler.Connector
		if id := r.PathValue("tool_pack_id"); id == p.id {
			catalog, err = p.connectors(r.Context())
		} else {
			catalog, err = p.packConnectors(r.Context(), id)
			if errors.Is(err, agenthandler.ErrNotFound) {
				writeError(w, http.StatusNotFound, "tool_pack_not_found", "No Tool Pack has this id.")
				return
			}
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "catalog_unavailable", "mcptest: reading the connectors: "+err.Error())
			return
		}
		ctx := context.WithValue(r.Context(), stateKey{}, &state{
			user:              user,
			catalog:           catalog,
			authenticatedOnly: r.URL.Query().Get("authenticated_only") == "true",
		})
		mcpHandler.ServeHTTP(w, r.WithContext(ctx))
	})
	for _, mw := range slices.Backward(p.middleware) {
		h = mw(h)
	}
	srv.HandleMCP(h)
	return p, nil
}

// ID returns the tool pack's id.
func (p *ToolPack) ID() string { return p.id }

// Calls returns the tool calls answered so far on the pack's server, by
// this pack and any mounted there before it, in order.
func (p *ToolPack) Calls() []Call {
	p.log.mu.Lock()
	defer p.log.mu.Unlock()
	return slices.Clone(p.log.calls)
}

// state is what one MCP request's server is built from.
type state struct {
	user              *agenthandler.RegisteredUser
	catalog           []agenthandler.Connector
	authenticatedOnly bool
}

type stateKey struct{}

// connectors returns the server's connector catalog, read once.
func (p *ToolPack) connectors(ctx context.Context) ([]agenthandler.Connector, error) {
	p.mu.Lock()
	catalog := p.catalog
	p.mu.Unlock()
	if catalog != nil {
		return catalog, nil
	}
	for k, err := range p.client.AgentHandler().ListConnectors(ctx, agenthandler.ListConnectorsParams{}) {
		if err != nil {
			return nil, err
		}
		catalog = append(catalog, k)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.catalog = catalog
	return catalog, nil
}

// packConnectors returns the connectors of a tool pack created on the
// server (CreateToolPack), with the tools the pack enables on each, as the
// pack describes them (tool description overrides included). It is read
// on every request, so that a change to the pack shows at once.
func (p *ToolPack) packConnectors(ctx context.Context, id string) ([]agenthandler.Connector, error) {
	pack, err := p.client.AgentHandler().GetToolPack(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []agenthandler.Connector
	for _, k := range pack.Connectors {
		c := agenthandler.Connector{Slug: k.Slug, Name: k.Name, SourceURL: k.SourceURL}
		for _, t := range k.Tools {
			c.Tools = append(c.Tools, agenthandler.ConnectorTool{Name: t.Name, Description: t.Description, CreditType: t.CreditType})
		}
		out = append(out, c)
	}
	return out, nil
}

// server returns the MCP server of one request, which lists the tools the
// registered user sees now. A server is built once for each user, set of
// connected connectors, tool list and authenticated_only, since building one costs
// far more than a request.
func (p *ToolPack) server(r *http.Request) *mcp.Server {
	st := r.Context().Value(stateKey{}).(*state)
	connected := slices.Sorted(slices.Values(st.user.AuthenticatedConnectors))
	var tools []string
	for _, k := range st.catalog {
		for _, t := range k.Tools {
			tools = append(tools, k.Slug+"_"+t.Name+"="+t.Description)
		}
	}
	key := fmt.Sprintf("%s %t %s %q", st.user.ID, st.authenticatedOnly, strings.Join(connected, ","), tools)
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.servers[key]; ok {
		return s
	}
	s := p.build(st)
	if p.servers == nil {
		p.servers = map[string]*mcp.Server{}
	}
	p.servers[key] = s
	return s
}

// build builds the MCP server that lists the tools st's user sees.
func (p *ToolPack) build(st *state) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mergetest-agent-handler", Version: mergelink.Version}, &mcp.ServerOptions{PageSize: p.pageSize})
	for _, k := range st.catalog {
		connected := slices.Contains(st.user.AuthenticatedConnectors, k.Slug)
		if !connected && st.authenticatedOnly {
			continue
		}
		if !connected {
			s.AddTool(&mcp.Tool{
				Name:        "authenticate_" + k.Slug,
				Description: fmt.Sprintf("Connect %s for this user: answers a link for the user to open.", k.Name),
				InputSchema: map[string]any{"type": "object", "properties": map[string]any{}},
			}, p.authenticate(st.user.ID, k))
		}
		for _, t := range k.Tools {
			tool := &mcp.Tool{Name: k.Slug + "_" + t.Name, Description: t.Description, InputSchema: inputSchema(t.Name)}
			if connected {
				s.AddTool(tool, p.work(st.user.ID, k, t.Name))
			} else {
				s.AddTool(tool, p.authenticate(st.user.ID, k))
			}
		}
	}
	return s
}

// authenticate answers with the authenticate payload for connector k: a
// new link token of the server for the user.
func (p *ToolPack) authenticate(userID string, k agenthandler.Connector) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		p.record(req, userID, true)
		lt, err := p.client.CreateAgentLinkToken(ctx, userID, agenthandler.LinkTokenParams{Connector: k.Slug})
		if err != nil {
			return nil, fmt.Errorf("mcptest: creating a link token: %w", err)
		}
		payload := map[string]string{
			"message":        fmt.Sprintf("%s is not connected for this user. Ask the user to open the link and connect %s, then try again.", k.Name, k.Name),
			"magic_link_url": lt.MagicLinkURL,
			"link_token":     lt.LinkToken,
		}
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}, nil
	}
}

// record notes a call.
func (p *ToolPack) record(req *mcp.CallToolRequest, userID string, needsAuth bool) {
	args := slices.Clone(req.Params.Arguments)
	p.log.mu.Lock()
	defer p.log.mu.Unlock()
	p.log.calls = append(p.log.calls, Call{Tool: req.Params.Name, RegisteredUserID: userID, Arguments: args, NeedsAuth: needsAuth})
}

// writeError answers status with Agent Handler's error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"type": strings.ToLower(http.StatusText(status)), "code": code, "message": message}})
}
