// Package mergetest runs an in-process fake Merge for tests and demos, in
// the manner of stripe-mock: an httptest server that speaks Merge's wire
// contract for Merge Link, as Merge's official clients see it.
//
// It serves the Unified API's link tokens (for every category, with Merge's
// validation), the account-token exchange and the linked-accounts list, and
// Agent Handler's registered users and link tokens. Its Magic Link URLs
// point at hosted pages of its own, where a browser (or CompleteLink and
// CompleteAgentLink from Go) plays the end user: completing a link creates
// or relinks a Linked Account and delivers signed webhooks to the
// configured URL, retrying deliveries that fail with a timeout or 5xx as
// Merge does (and 408 and 429), but not other 4xx; completing an Agent
// Handler link redirects to the callback URL with status and state.
//
// A server holds a production API key (APIKey) and a test-environment one
// (TestEnvironmentAPIKey): Linked Accounts and registered users made with
// the test key are test ones, and, as at Merge, a key used against the
// other environment's account token or user is answered 404, a key that is
// neither 401.
//
// A Server keeps all its state to itself, so parallel tests each start their
// own:
//
//	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(receiver.URL, key))
//	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
//
// Tests drive what Merge would do on its own: WithRateLimits enforces
// Merge's limits, FailNext fails the next requests, SetLinkedAccountStatus,
// SetTestAccount and DeleteLinkedAccount change Linked Accounts,
// RaiseIssue, ResolveIssue and MuteIssue change its issues,
// SetSyncDuration, WithClock and AdvanceClock drive its syncs and
// expiries, SetEmployeeCount its fake data, SendWebhook sends any event,
// Redeliver sends a finished delivery again byte for byte with its
// signature, SetWebhook, WithWebhookTargets and RotateWebhookKey change the
// webhook configuration (SetAgentWebhook and RotateAgentWebhookKey Agent
// Handler's), and CancelLink, CancelAgentLink and DeclineAgentLink play an
// end user who does not connect. Requests records every API request for assertions. The
// standalone server, cmd/mergetest, serves all this over HTTP for tests in
// any language: Listen starts a server on a given address, WithControlAPI
// adds the HTTP control API under ControlPath, and WithSeed makes its ids
// and tokens the same from run to run.
//
// Under URL() it serves, with the API key as a Bearer token:
//
//	POST   /api/{category}/v1/link-token                  200, or 400 with errors[]
//	GET    /api/{category}/v1/account-token/{public_token} 200, 404 once used
//	GET    /api/{category}/v1/linked-accounts             200: filters, cursor pages
//	GET    /api/{category}/v1/issues                      200: filters, cursor pages
//	GET    /api/{category}/v1/issues/{id}                 200
//	POST   /ah/api/v1/registered-users/                   201 new, 200 existing
//	GET    /ah/api/v1/registered-users/                   200: page, page_size, origin_user_id
//	GET    /ah/api/v1/registered-users/{id}/              200; PATCH 200, DELETE 200
//	POST   /ah/api/v1/registered-users/{id}/link-token/   201
//	GET    /ah/api/v1/connectors/                         200: page, page_size; next a full URL
//	GET    /ah/api/v1/connectors/{slug}/                  200, 404 for a slug not in the catalog
//	DELETE /ah/api/v1/credentials/registered-users/{id}/connectors/{slug}/
//	                                                      200, 404 when not connected
//	POST   /ah/api/v1/tool-packs/{id}/registered-users/{id}/mcp/
//	                                                      the handler HandleMCP mounts, 404 without
//	POST   /ah/api/v1/allowed-callback-origins/           201 new, 200 existing; governs redirects
//	                                                      as WithAllowedCallbackOrigins does
//
// and every other operation of Agent Handler's OpenAPI, with state: tool
// packs and their connectors (which decide what agentmcp/mcptest lists for
// a pack), tool search, application credentials, access keys, the audit
// log (which records the calls that change things), standard entity and
// custom regex rules (organization and per tool pack) and tool description
// overrides;
//
// and, with a Linked Account's token in X-Account-Token (401 without a
// token that works, 404 for another category than the account's):
//
//	GET    /api/{category}/v1/account-details             200
//	POST   /api/{category}/v1/delete-account              200 {}; sends LinkedAccount.deleted
//	POST   /api/{category}/v1/account-token/regenerate    200: a new token, the old one fails
//	GET    /api/{category}/v1/sync-status                 200: cursor pages, SYNCING then DONE
//	POST   /api/{category}/v1/sync-status/resync          200: every model SYNCING again
//	GET    /api/hris/v1/employees                         200: a few fake employees, the OpenAPI's
//	                                                      filters, cursor pages
//	GET    /api/hris/v1/employees/{id}                    200
//
// Completing an Agent Handler link adds the connector to the registered
// user's authenticated_connectors; deleting the credential removes it. With
// WithAgentWebhook, the server also sends Agent Handler's own webhooks,
// signed in X-Merge-Signature: registered_user.created, .updated and
// .deleted, credential.created and credential.deleted, retried up to
// AgentDeliveryAttempts times.
//
// Agent Handler paths are served with and without their trailing slash: the
// OpenAPI spells them with it, Merge's own plugins call them without.
//
// Link tokens are created for any path category that is among the body's
// categories, in any order. A Linked Account is the pair
// (end_user_origin_id, category linked): linking the same pair again
// relinks it (same id and account token), the same origin id in another
// category makes a second account. The linked-accounts list pages 30
// accounts by default and at most 100 (page_size), and its next and
// previous fields are bare cursors, passed back as ?cursor=.
//
// Integrations and connectors come from a small catalog of real ones (a
// few per category, such as greenhouse, lever, bamboohr, workday,
// salesforce, hubspot, jira, slack; connectors such as linear, github,
// slack, jira, notion); any other slug is refused with 400 naming the field
// (integration, connector), as Merge refuses a name it does not know.
//
// For the end user's browser, without a key, it serves plain HTML forms
// that a test may also post itself (a browser finds the select
// id="integration" and the buttons id="connect", id="cancel" and, on the
// Agent Handler page, id="decline"; each result page has an element
// id="status"):
//
//	GET  /link/{link_token}        the Magic Link page
//	POST /link/{link_token}        form fields: integration (a slug; the
//	                               token's own when it has one) and action:
//	                               "connect" (the default) or "cancel";
//	                               answers 200 with an element id="status"
//	GET  /agent-link/{link_token}  the Agent Handler page; a callback_url
//	                               query parameter is carried to its form
//	POST /agent-link/{link_token}  form fields: callback_url and action:
//	                               "connect" (the default), "cancel" or
//	                               "decline"; redirects (303) to the callback
//	                               URL with status=success and state, or
//	                               answers 200 when there is no allowed
//	                               callback URL or the user did not connect
//	                               (cancelled or declined redirect only
//	                               WithOwnCallbackStatuses)
//
// Unified errors have Merge's {"errors": [...]} or {"detail": ...} bodies,
// Agent Handler errors its {"error": {"type", "code", "message", ...}} body.
// Unlike Merge, the server refuses unknown top-level request fields, so that
// a misspelt field fails a test.
//
// Known differences from Merge, kept on purpose:
//   - It refuses unknown top-level request fields (Merge ignores them), so
//     that a misspelt field fails a test instead of being dropped.
//   - It keeps no data behind the Linked Accounts but a few HRIS
//     employees (no candidates, no other models); its syncs are timers on
//     its clock (SetSyncDuration), not real work; it serves only the
//     endpoints above.
//   - Its employees have no relations (company, manager, team, groups,
//     locations, pay group, employments): a filter on one of them, such as
//     company_id or job_title, matches no employee. The parameters that
//     shape an answer (expand, include_sensitive_fields, include_shell_data,
//     remote_fields, show_enum_origins) are accepted and change nothing.
//   - Its catalog of integrations and connectors is small; Merge's is
//     larger, and a slug it lacks is refused here as an unknown one.
//   - Every account is COMPLETE after a link; INCOMPLETE, RELINK_NEEDED and
//     test accounts exist only through the controls, and is_duplicate is
//     never true.
//   - is_test_account filters as Merge's OpenAPI says: given with any
//     value, it lists test accounts only.
//   - LinkedAccount.deleted carries an empty data object: Merge documents
//     no fields for it.
//   - Rate limits are enforced only WithRateLimits, so that tests stay
//     fast: one per-minute limit per Linked Account (Merge's depends on
//     the plan, and on the endpoint), and Merge's IP block after more than
//     MaxFailuresPerIP failures in FailureWindow, lifted as the failures
//     leave the window (Merge does not publish how long its block lasts).
//     FailNext plays any other 429.
//   - Webhook deliveries are retried three times within a second or so
//     (408 and 429 included), not on Merge's schedule, so that tests finish
//     quickly; WithMergeRetrySchedule opts into Merge's three attempts with
//     a 30-second timeout, scaled, whose waits between attempts
//     (MergeRetryWaits) are mergetest's assumption: Merge publishes none.
//   - Deliveries carry an ID (Delivery.ID) for Redeliver; Merge's carry
//     none, and a redelivery is sent only when a test asks for one.
//   - Merge posts to one webhook URL; WithWebhookTargets plays the load
//     balancer in front of a fleet, one attempt to each target in turn.
//   - An Agent Handler link that ends without a connection redirects
//     nowhere by default, since Merge documents only the status success;
//     WithOwnCallbackStatuses opts into mergetest's own cancelled and
//     declined.
//   - WithControlAPI (cmd/mergetest) adds paths Merge does not have, under
//     ControlPath, apart from Merge's own, to play the end user and the
//     dashboard.
//   - Access keys made over the API are kept and listed but do not
//     authenticate requests: only the server's API key does.
//   - Tool search matches the intent's words against tool names and
//     descriptions; custom regex rules compile with Go's regexp, not
//     Merge's (Python) syntax.
package mergetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
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
	srv     *httptest.Server
	apiKey  string
	testKey string
	clock   func() time.Time // WithClock's, or time.Now
	skew    atomic.Int64     // AdvanceClock's total, in nanoseconds
	hooks   *deliverer
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
	byIdentity   map[identity]*account
	users        []*registeredUser
	agentTokens  map[string]*agentToken
	origins      map[string]bool
	closeWait    time.Duration
	ownStatuses  bool // WithOwnCallbackStatuses
	controlAPI   bool // WithControlAPI
	ids          *idSource
	limits       limiter
	mcp          http.Handler // see HandleMCP
	ah           *agentState
	after        afterLink
}

// ServerOption configures a Server.
type ServerOption func(*config)

type config struct {
	apiKey     string
	testKey    string
	webhookURL string
	webhookKey string
	// agentWebhookURL and agentWebhookKey configure Agent Handler's
	// webhooks (WithAgentWebhook).
	agentWebhookURL, agentWebhookKey string
	retryWait                        time.Duration
	closeWait                        time.Duration
	origins                          []string
	now                              func() time.Time
	problems                         []string
	ownStatuses                      bool
	perMinute                        int
	moreTargets, moreAgentTargets    []string
	control                          bool
	seed                             *uint64
	retryFactor                      float64
}

// WithAPIKey sets the server's production API key. The default is
// TestAPIKey. A request with neither it nor the test-environment key
// (WithTestEnvironmentAPIKey), or with none, is answered 401 as Merge does.
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
// link tokens expire without waiting. Agent Handler webhooks carry its time
// as created_at, which agenthandler's receivers check against the real
// clock (agenthandler.WithWebhookTolerance).
func WithClock(now func() time.Time) ServerOption {
	return func(c *config) {
		if now == nil {
			c.problems = append(c.problems, "WithClock: the clock must not be nil")
			return
		}
		c.now = now
	}
}

// WithAllowedCallbackOrigins sets the Agent Handler callback origins the
// server allows, as the Merge dashboard holds them (Settings, API Keys,
// Allowed callback origins; Merge documents no API for them). A redirect to
// a callback URL of another origin is skipped, as Merge skips it silently.
// Each origin is a scheme and host (and port), such as
// "https://myapp.com", "myapp://" or "http://localhost:3000": https, a
// custom scheme, or plain http on localhost only, with no path, query or
// fragment. ClientOptions passes them to mergelink.WithAllowedCallbackOrigins.
func WithAllowedCallbackOrigins(origins ...string) ServerOption {
	return func(c *config) {
		for _, raw := range origins {
			o, err := allowedOrigin(raw)
			if err != nil {
				c.problems = append(c.problems, "WithAllowedCallbackOrigins: "+err.Error())
				continue
			}
			c.origins = append(c.origins, o)
		}
	}
}

// allowedOrigin checks an allowed callback origin and returns its
// canonical form.
func allowedOrigin(raw string) (string, error) {
	origin, err := validate.Origin(raw)
	if u, perr := url.Parse(raw); err == nil && (perr != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil) {
		err = errors.New("an origin is a scheme and host (and port) only: drop the path, query and fragment")
	}
	if err != nil {
		return "", fmt.Errorf("origin %s is not valid: %v", validate.QuoteURL(raw), err)
	}
	return origin, nil
}

// AllowCallbackOrigins adds origins to those WithAllowedCallbackOrigins
// set, for an app whose URL is known only after the server started. It
// fails, adding none, when one is not an origin.
func (s *Server) AllowCallbackOrigins(origins ...string) error {
	var c config
	WithAllowedCallbackOrigins(origins...)(&c)
	if len(c.problems) > 0 {
		return errors.New("mergetest: " + strings.Join(c.problems, "; "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range c.origins {
		s.origins[o] = true
	}
	return nil
}

// MaxClientRetryWait is the longest backoff of a client made with
// ClientOptions, and the longest it waits for a Retry-After (such as one
// FailNext sends).
const MaxClientRetryWait = 10 * time.Millisecond

// DefaultCloseWait is how long Close waits for queued webhook deliveries
// unless WithCloseWait sets another bound.
const DefaultCloseWait = 5 * time.Second

// WithCloseWait bounds how long Close waits for the webhook deliveries
// still queued (default DefaultCloseWait): a receiver that hangs would
// otherwise hold Close for every attempt's 10-second timeout and the waits
// between them.
func WithCloseWait(d time.Duration) ServerOption {
	return func(c *config) {
		if d <= 0 {
			c.problems = append(c.problems, fmt.Sprintf("WithCloseWait: the wait must be positive, got %s", d))
			return
		}
		c.closeWait = d
	}
}

// NewServer starts a Server on a loopback port. Call Close when done. It
// panics when an option is invalid, as httptest.NewServer does when it
// cannot listen.
func NewServer(opts ...ServerOption) *Server {
	s, err := newServer(opts)
	if err != nil {
		panic(err.Error())
	}
	s.srv = httptest.NewServer(s.routes())
	return s
}

// newServer builds a Server from opts without starting it. It fails when
// an option is invalid.
func newServer(opts []ServerOption) (*Server, error) {
	c := config{apiKey: TestAPIKey, testKey: TestEnvironmentAPIKey, retryWait: 50 * time.Millisecond, closeWait: DefaultCloseWait, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	if c.apiKey == c.testKey {
		c.problems = append(c.problems, "WithAPIKey, WithTestEnvironmentAPIKey: the production and test-environment keys must differ")
	}
	if len(c.problems) > 0 {
		return nil, errors.New("mergetest: " + strings.Join(c.problems, "; "))
	}
	ids := &idSource{}
	if c.seed != nil {
		ids.seeded = mrand.NewChaCha8(seedBytes(*c.seed))
	}
	s := &Server{
		ids:          ids,
		apiKey:       c.apiKey,
		testKey:      c.testKey,
		clock:        c.now,
		idempotency:  map[string]idempotentReply{},
		linkTokens:   map[string]*linkToken{},
		publicTokens: map[string]*account{},
		byIdentity:   map[identity]*account{},
		agentTokens:  map[string]*agentToken{},
		origins:      map[string]bool{},
		ah:           newAgentState(),
		closeWait:    c.closeWait,
		ownStatuses:  c.ownStatuses,
		controlAPI:   c.control,
		limits:       limiter{perMinute: c.perMinute, requests: map[[sha256.Size]byte][]time.Time{}, failures: map[string][]time.Time{}},
		hooks:        newDeliverer(c.webhookURL, c.webhookKey, c.retryWait, ids),
		agentHooks:   newAgentDeliverer(c.agentWebhookURL, c.agentWebhookKey, c.retryWait, ids),
	}
	for _, o := range c.origins {
		s.origins[o] = true
	}
	s.hooks.more = c.moreTargets
	s.agentHooks.more = c.moreAgentTargets
	if c.retryFactor > 0 {
		s.hooks.mergeSchedule(c.retryFactor)
	}
	return s, nil
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
// server, with retry waits, Retry-After included, of at most
// MaxClientRetryWait, and the allowed callback origins the server holds:
//
//	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
//
// The client sends through the server's own connection pool
// (httptest.Server.Client's, which Close closes), not through
// http.DefaultTransport: every httptest.Server.Close in a parallel test
// closes that pool's idle connections, which can break a request in the
// moment after a bodyless answer (a 204 to a delete, say).
//
// Options appended after them win, such as a longer mergelink.WithRetryWait
// for a test that means to wait, or mergelink.WithHTTPClient.
func (s *Server) ClientOptions() []mergelink.Option {
	opts := []mergelink.Option{
		mergelink.WithHTTPClient(s.srv.Client()),
		mergelink.WithBaseURL(s.URL() + UnifiedPath),
		mergelink.WithAgentHandlerBaseURL(s.URL() + AgentPath),
		mergelink.WithRetryWait(time.Millisecond, MaxClientRetryWait),
		mergelink.WithMaxRetryAfter(MaxClientRetryWait),
	}
	origins := locked(s, func() []string { return sortedKeys(s.origins) })
	if len(origins) > 0 {
		opts = append(opts, mergelink.WithAllowedCallbackOrigins(origins...))
	}
	return opts
}

// Close stops the server, then waits for the webhooks already queued to be
// delivered or given up, for at most DefaultCloseWait (WithCloseWait sets
// another bound): after that, it ends the attempts in flight and gives up
// the deliveries left, whose Err then matches ErrClosed. Completing a link
// after Close fails with ErrClosed.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.closed = true
		}()
		s.srv.Close()
		s.hooks.close(s.closeWait)
		s.agentHooks.close(s.closeWait)
	})
}

// String describes the server by its URL, without its API key, link
// tokens, account tokens or public tokens.
func (s *Server) String() string {
	if s == nil || s.srv == nil {
		return "mergetest.Server(nil)"
	}
	return "mergetest.Server{URL: " + s.srv.URL + ", API key and tokens hidden}"
}

// GoString is String, so that %#v hides the secrets too.
func (s *Server) GoString() string { return s.String() }

// Format prints String for every verb, so that no verb, %d or %+v
// included, prints the server's fields, which hold its API key and tokens.
func (s *Server) Format(f fmt.State, verb rune) { secret.Format(f, verb, s.String(), s.GoString()) }

// Request is an API request as the server received it.
type Request struct {
	Method string
	// Path is the URL path, such as "/api/hris/v1/link-token".
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// String describes the request without its Authorization and
// X-Account-Token headers, and with an account_token query value hidden.
func (r Request) String() string {
	q := r.Query
	if q.Has("account_token") {
		q = cloneValues(q)
		q.Set("account_token", secret.Hidden)
	}
	return fmt.Sprintf("%s %s?%s (%d-byte body)", r.Method, r.Path, q.Encode(), len(r.Body))
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
	f.Header.Del(AccountTokenHeader)
	if f.Query.Has("account_token") {
		f.Query = cloneValues(f.Query)
		f.Query.Set("account_token", secret.Hidden)
	}
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
//
// The header is sent as given, so a test can check that the client reads
// it (APIError.RetryAfter). A client made with ClientOptions waits for it at
// most MaxClientRetryWait, so that a test does not wait seconds unless it
// asks to: mergelink.WithMaxRetryAfter after ClientOptions raises the cap
// (a mergelink client's default is one minute).
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
	s.afterLinkRoutes(api, u)
	api.HandleFunc(UnifiedPath+"/", s.unified(notFound, false))

	// Agent Handler paths are served with and without their trailing
	// slash: the OpenAPI spells them with it, Merge's plugins call them
	// without. Handling both explicitly keeps ServeMux from redirecting,
	// which a client would follow for a POST with a GET.
	agent := func(method, path string, h handler) {
		api.HandleFunc(method+" "+AgentPath+path+"/{$}", s.agent(h))
		api.HandleFunc(method+" "+AgentPath+path, s.agent(h))
	}
	agent("POST", "/registered-users", s.createUser)
	agent("GET", "/registered-users", s.listUsers)
	agent("GET", "/registered-users/{id}", s.getUser)
	agent("PATCH", "/registered-users/{id}", s.patchUser)
	agent("DELETE", "/registered-users/{id}", s.deleteUser)
	agent("POST", "/registered-users/{id}/link-token", s.createAgentLinkToken)
	agent("GET", "/connectors", s.listConnectors)
	agent("GET", "/connectors/{slug}", s.getConnector)
	agent("DELETE", "/credentials/registered-users/{id}/connectors/{slug}", s.deleteCredential)
	s.agentRoutes(agent)
	api.HandleFunc(AgentPath+"/", s.agent(agentNotFound))
	s.routeMCP(api)

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+LinkPath+"{token}", s.linkPage)
	mux.HandleFunc("POST "+LinkPath+"{token}", s.linkConnect)
	mux.HandleFunc("GET "+AgentLinkPath+"{token}", s.agentLinkPage)
	mux.HandleFunc("POST "+AgentLinkPath+"{token}", s.agentLinkConnect)
	mux.Handle(UnifiedPath+"/", s.gate(api, unifiedAPI))
	mux.Handle(AgentPath+"/", s.gate(api, agentAPI))
	if s.controlAPI {
		s.controlRoutes(mux)
	}
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
		rec := &statusRecorder{ResponseWriter: w}
		w = rec
		defer func() { locked(s, func() struct{} { s.answered(r, rec.status); return struct{}{} }) }()

		var wait string
		f := locked(s, func() fault {
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
				return f
			}
			wait = s.limited(r)
			return f
		})
		if wait != "" {
			w.Header().Set("Retry-After", wait)
			writeError(w, kind, http.StatusTooManyRequests, "rate_limited", "Request was throttled. Expected available in "+wait+" seconds.")
			return
		}

		if f.left > 0 {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			text := http.StatusText(f.status)
			writeError(w, kind, f.status, strings.ReplaceAll(strings.ToLower(text), " ", "_"), "mergetest: injected "+fmt.Sprint(f.status)+" "+text+".")
			return
		}
		test, ok := s.environment(r)
		if !ok {
			if r.Header.Get("Authorization") == "" {
				writeError(w, kind, http.StatusUnauthorized, "missing_api_key", "Authentication credentials were not provided.")
			} else {
				writeError(w, kind, http.StatusUnauthorized, "invalid_api_key", "Invalid token.")
			}
			return
		}
		next.ServeHTTP(w, withEnvironment(r, test))
	})
}
