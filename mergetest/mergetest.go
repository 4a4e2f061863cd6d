// Package mergetest runs an in-process fake Merge for tests and demos, in
// the manner of stripe-mock: an httptest server that speaks Merge's wire
// contract for Merge Link.
//
// It serves the Unified API's link tokens (for every category, with Merge's
// validation), the account-token exchange and the linked-accounts list, and
// Agent Handler's registered users, link tokens and allowed callback
// origins. Its Magic Link URLs point at hosted pages of its own, where a
// browser (or CompleteLink and CompleteAgentLink from Go) plays the end user:
// completing a link creates a Linked Account and delivers signed webhooks to
// the configured URL, retrying deliveries that fail with a timeout or 5xx as
// Merge does (and 408 and 429), but not other 4xx; completing an
// Agent Handler link redirects to the callback URL with status and state.
//
// A Server keeps all its state to itself, so parallel tests each start their
// own:
//
//	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(receiver.URL, key))
//	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
//
// It can fail the next requests on purpose (FailNext) and records every API
// request (Requests) for assertions.
//
// Under URL() it serves, with the API key as a Bearer token:
//
//	POST   /api/{category}/v1/link-token                  201, or 400 with errors[]
//	GET    /api/{category}/v1/account-token/{public_token}
//	GET    /api/{category}/v1/linked-accounts             filters, cursor pages
//	POST   /ah/api/v1/registered-users/                   201 new, 200 existing
//	GET    /ah/api/v1/registered-users/                   page, page_size, origin_user_id
//	GET    /ah/api/v1/registered-users/{id}/              also PATCH, and DELETE (204)
//	POST   /ah/api/v1/registered-users/{id}/link-token/   201
//	POST   /ah/api/v1/allowed-callback-origins/           201 new, 200 existing
//
// and, for the end user's browser, without a key:
//
//	GET, POST /link/{link_token}        the Magic Link page and its Connect button
//	GET, POST /agent-link/{link_token}  the Agent Handler page; POST redirects (303)
//
// Unified errors have Merge's {"errors": [...]} or {"detail": ...} bodies,
// Agent Handler errors its {"error": {"type", "code", "message", ...}} body.
// Unlike Merge, the server refuses unknown top-level request fields, so that
// a misspelt field fails a test.
package mergetest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/secret"
)

// TestAPIKey is the API key a Server accepts unless WithAPIKey sets another.
const TestAPIKey = "mergetest-sk-test-key"

// Paths under the server's URL at which the two APIs and the hosted pages
// are served.
const (
	UnifiedPath   = "/api"         // Unified API base
	AgentPath     = "/ah/api/v1"   // Agent Handler base
	LinkPath      = "/link/"       // hosted Magic Link page, followed by the link token
	AgentLinkPath = "/agent-link/" // hosted Agent Handler page, followed by the link token
)

// maxBody caps a request body; a larger one is answered 413.
const maxBody = 1 << 20

// Server is a fake Merge. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	apiKey string
	now    func() time.Time
	hooks  *deliverer
	// agentHooks sends Agent Handler's webhooks; its URL is "" until one
	// is set.
	agentHooks *deliverer
	closeOnce  sync.Once

	mu           sync.Mutex
	closed       bool
	requests     []Request
	fail         fault
	idempotency  map[string]idempotentReply
	linkTokens   map[string]*linkToken
	publicTokens map[string]*account
	accounts     []*account
	byOrigin     map[string]*account
	users        []*registeredUser
	agentTokens  map[string]*agentToken
	origins      map[string]bool
	mcp          http.Handler // see HandleMCP
}

// ServerOption configures a Server.
type ServerOption func(*config)

type config struct {
	apiKey     string
	webhookURL string
	webhookKey string
	// agentWebhookURL and agentWebhookKey configure Agent Handler's
	// webhooks (WithAgentWebhook).
	agentWebhookURL, agentWebhookKey string
	retryWait                        time.Duration
	now                              func() time.Time
	problems                         []string
}

// WithAPIKey sets the only API key the server accepts; any other, or none,
// is answered 401 as Merge does. The default is TestAPIKey.
func WithAPIKey(key string) ServerOption {
	return func(c *config) {
		if key == "" || strings.ContainsAny(key, "\r\n ") {
			c.problems = append(c.problems, "WithAPIKey: the key must be non-empty and hold no spaces or line breaks")
			return
		}
		c.apiKey = key
	}
}

// WithWebhook makes the server deliver webhooks to url, signed with
// signingKey as Merge signs them. Without it no webhook is sent.
func WithWebhook(url, signingKey string) ServerOption {
	return func(c *config) {
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			c.problems = append(c.problems, fmt.Sprintf("WithWebhook: the URL must be http or https, got %q", url))
		}
		if signingKey == "" {
			c.problems = append(c.problems, "WithWebhook: the signing key must not be empty")
		}
		c.webhookURL, c.webhookKey = url, signingKey
	}
}

// WithWebhookRetryWait sets the wait before the first retry of a failed
// delivery; each further retry waits twice as long. The default is 50ms;
// tests may set a millisecond.
func WithWebhookRetryWait(d time.Duration) ServerOption {
	return func(c *config) {
		if d <= 0 {
			c.problems = append(c.problems, fmt.Sprintf("WithWebhookRetryWait: the wait must be positive, got %s", d))
			return
		}
		c.retryWait = d
	}
}

// WithClock makes the server read the time from now, so that tests can let
// link tokens expire without waiting.
func WithClock(now func() time.Time) ServerOption {
	return func(c *config) {
		if now == nil {
			c.problems = append(c.problems, "WithClock: the clock must not be nil")
			return
		}
		c.now = now
	}
}

// NewServer starts a Server on a loopback port. Call Close when done. It
// panics when an option is invalid, as httptest.NewServer does when it
// cannot listen.
func NewServer(opts ...ServerOption) *Server {
	c := config{apiKey: TestAPIKey, retryWait: 50 * time.Millisecond, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	if len(c.problems) > 0 {
		panic("mergetest: " + strings.Join(c.problems, "; "))
	}
	s := &Server{
		apiKey:       c.apiKey,
		now:          c.now,
		idempotency:  map[string]idempotentReply{},
		linkTokens:   map[string]*linkToken{},
		publicTokens: map[string]*account{},
		byOrigin:     map[string]*account{},
		agentTokens:  map[string]*agentToken{},
		origins:      map[string]bool{},
		agentHooks:   newAgentDeliverer(c.agentWebhookURL, c.agentWebhookKey, c.retryWait),
	}
	if c.webhookURL != "" {
		s.hooks = newDeliverer(c.webhookURL, c.webhookKey, c.retryWait)
	}
	s.srv = httptest.NewServer(s.routes())
	return s
}

// NewTestServer is NewServer for a test: it fails the test instead of
// panicking on a bad option, and closes the server when the test ends.
func NewTestServer(t testing.TB, opts ...ServerOption) *Server {
	t.Helper()
	var s *Server
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatal(p)
			}
		}()
		s = NewServer(opts...)
	}()
	t.Cleanup(s.Close)
	return s
}

// URL returns the server's base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// APIKey returns the API key the server accepts.
func (s *Server) APIKey() string { return s.apiKey }

// ClientOptions returns the options that point a mergelink.Client at the
// server, with tiny retry waits:
//
//	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
func (s *Server) ClientOptions() []mergelink.Option {
	return []mergelink.Option{
		mergelink.WithBaseURL(s.URL() + UnifiedPath),
		mergelink.WithAgentHandlerBaseURL(s.URL() + AgentPath),
		mergelink.WithRetryWait(time.Millisecond, 10*time.Millisecond),
	}
}

// Close stops the server, then waits for the webhooks already queued to be
// delivered or given up. Completing a link after Close fails with ErrClosed.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.srv.Close()
		if s.hooks != nil {
			s.hooks.drain()
		}
		s.agentHooks.drain()
	})
}

// Request is an API request as the server received it.
type Request struct {
	Method string
	// Path is the URL path, such as "/api/hris/v1/link-token".
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// String describes the request without its Authorization header.
func (r Request) String() string {
	return fmt.Sprintf("%s %s?%s (%d-byte body)", r.Method, r.Path, r.Query.Encode(), len(r.Body))
}

// GoString is String, so that %#v hides the API key too.
func (r Request) GoString() string { return r.String() }

// Format prints String for every verb, so that no verb, %d or %t
// included, prints the Authorization header.
func (r Request) Format(f fmt.State, verb rune) { secret.Format(f, verb, r.String(), r.GoString()) }

// MarshalJSON encodes r without its Authorization header, so that a JSON
// log of requests (a slog JSON handler's, say) does not show the API key.
func (r Request) MarshalJSON() ([]byte, error) {
	type fields Request // without this method
	f := fields(r)
	f.Header = r.Header.Clone()
	f.Header.Del("Authorization")
	return json.Marshal(f)
}

// Requests returns a copy of the API requests received so far (those under
// UnifiedPath and AgentPath, including the ones FailNext answered), in the
// order they arrived.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Query = cloneValues(r.Query)
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

func cloneValues(v url.Values) url.Values { return url.Values(http.Header(v).Clone()) }

// fault is what FailNext set.
type fault struct {
	left       int
	status     int
	retryAfter string
}

// FailNext makes the next n API requests answer status with a JSON error
// body, and a Retry-After header when retryAfter is not empty, before the
// API key is even checked, as a proxy or an overloaded Merge would. It
// replaces any failure still pending; n = 0 cancels it. It panics when
// status is not 400 to 599.
func (s *Server) FailNext(n, status int, retryAfter string) {
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("mergetest: FailNext: status must be 400 to 599, got %d", status))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fault{left: n, status: status, retryAfter: retryAfter}
}

// routes builds the server's handler.
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	u := UnifiedPath + "/{category}/v1"
	api.HandleFunc("POST "+u+"/link-token", s.unified(s.createLinkToken, true))
	api.HandleFunc("GET "+u+"/account-token/{public_token}", s.unified(s.exchangeAccountToken, false))
	api.HandleFunc("GET "+u+"/linked-accounts", s.unified(s.listLinkedAccounts, false))
	api.HandleFunc(UnifiedPath+"/", s.unified(notFound, false))

	a := AgentPath
	api.HandleFunc("POST "+a+"/registered-users/{$}", s.agent(s.createUser))
	api.HandleFunc("GET "+a+"/registered-users/{$}", s.agent(s.listUsers))
	api.HandleFunc("GET "+a+"/registered-users/{id}/{$}", s.agent(s.getUser))
	api.HandleFunc("PATCH "+a+"/registered-users/{id}/{$}", s.agent(s.patchUser))
	api.HandleFunc("DELETE "+a+"/registered-users/{id}/{$}", s.agent(s.deleteUser))
	api.HandleFunc("POST "+a+"/registered-users/{id}/link-token/{$}", s.agent(s.createAgentLinkToken))
	api.HandleFunc("POST "+a+"/allowed-callback-origins/{$}", s.agent(s.addCallbackOrigin))
	api.HandleFunc("GET "+a+"/connectors/{$}", s.agent(s.listConnectors))
	api.HandleFunc("GET "+a+"/connectors/{slug}/{$}", s.agent(s.getConnector))
	api.HandleFunc("DELETE "+a+"/credentials/registered-users/{id}/connectors/{slug}/{$}", s.agent(s.deleteCredential))
	api.HandleFunc(a+"/", s.agent(agentNotFound))
	s.routeMCP(api)
	// A path missing its trailing slash is answered 404, so that the client
	// bug shows; ServeMux would redirect it, and a client would follow a
	// POST's redirect with a GET.
	for _, p := range []string{"/registered-users", "/registered-users/{id}", "/registered-users/{id}/link-token", "/allowed-callback-origins"} {
		api.HandleFunc(a+p, s.agent(agentNotFound))
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+LinkPath+"{token}", s.linkPage)
	mux.HandleFunc("POST "+LinkPath+"{token}", s.linkConnect)
	mux.HandleFunc("GET "+AgentLinkPath+"{token}", s.agentLinkPage)
	mux.HandleFunc("POST "+AgentLinkPath+"{token}", s.agentLinkConnect)
	mux.Handle(UnifiedPath+"/", s.gate(api, unifiedAPI))
	mux.Handle(AgentPath+"/", s.gate(api, agentAPI))
	return mux
}

// apiKind tells the two APIs apart, since their error bodies differ.
type apiKind int

const (
	unifiedAPI apiKind = iota
	agentAPI
)

// gate records an API request, answers it with an injected fault or a 401
// when it should, and passes it on otherwise.
func (s *Server) gate(next http.Handler, kind apiKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, kind, http.StatusRequestEntityTooLarge, "request_too_large", fmt.Sprintf("The request body is larger than %d bytes.", maxBody))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method,
			Path:   r.URL.Path,
			Query:  r.URL.Query(),
			Header: r.Header.Clone(),
			Body:   body,
		})
		f := s.fail
		if s.fail.left > 0 {
			s.fail.left--
		}
		s.mu.Unlock()

		if f.left > 0 {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			text := http.StatusText(f.status)
			writeError(w, kind, f.status, strings.ReplaceAll(strings.ToLower(text), " ", "_"), "mergetest: injected "+fmt.Sprint(f.status)+" "+text+".")
			return
		}
		if !s.authorized(r) {
			if r.Header.Get("Authorization") == "" {
				writeError(w, kind, http.StatusUnauthorized, "missing_api_key", "Authentication credentials were not provided.")
			} else {
				writeError(w, kind, http.StatusUnauthorized, "invalid_api_key", "Invalid token.")
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized reports whether r carries the server's API key as a Bearer
// token, comparing in constant time.
func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.apiKey)) == 1
}
