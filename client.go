// Package mergelink connects your users' third-party accounts through Merge:
// it creates link tokens and Magic Link URLs, exchanges and finds account
// tokens, creates Agent Handler link tokens, and verifies and parses Merge
// webhooks.
//
// A Client is made once and shared; it is safe for concurrent use:
//
//	c, err := mergelink.NewClient(os.Getenv("MERGE_API_KEY"), mergelink.WithRegion(mergelink.RegionEU))
//
// Every params type is validated before anything is sent: a call with bad
// input returns a *ValidationError naming each field and rule. A non-2xx
// answer, after the retries, is an *APIError.
package mergelink

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/core"
	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = transport.Version

// Client calls Merge's Unified API and Agent Handler. It is safe for
// concurrent use and holds no global state.
type Client struct {
	s      core.Settings
	region Region
	// linkTokenURLs holds the link token endpoint of each category, made
	// once by NewClient so that a call builds no string.
	linkTokenURLs map[Category]string

	agentOnce sync.Once
	agent     *agenthandler.Client
}

// options are the settings that Options fill in.
type options struct {
	region       Region
	baseURL      string
	agentBaseURL string
	httpClient   *http.Client
	maxRetries   int
	waitMin      time.Duration
	waitMax      time.Duration
	maxAfter     time.Duration
	logRetry     func(context.Context, string, transport.Retry)
	userAgent    string
	origins      []string
	check        *validate.Checker
}

// Option configures a Client. A wrong option makes NewClient fail with a
// *ValidationError that names it.
type Option func(*options)

// WithRegion picks the region whose hosts the client calls; RegionUS is the
// default.
func WithRegion(r Region) Option {
	return func(o *options) {
		if _, ok := regionHosts[r]; !ok {
			o.check.Add("WithRegion", "must be RegionUS, RegionEU or RegionAPAC", validate.Quote(string(r)))
			return
		}
		o.region = r
	}
}

// WithBaseURL sets the Unified API base URL, such as
// "https://api.merge.dev/api" or a mergetest server's URL. It must be https,
// or http on a loopback host.
func WithBaseURL(u string) Option {
	return func(o *options) { o.baseURL = checkBaseURL(o.check, "WithBaseURL", u) }
}

// WithAgentHandlerBaseURL sets the Agent Handler base URL, such as
// "https://ah-api.merge.dev/api/v1"; the same rules as WithBaseURL hold.
func WithAgentHandlerBaseURL(u string) Option {
	return func(o *options) { o.agentBaseURL = checkBaseURL(o.check, "WithAgentHandlerBaseURL", u) }
}

func checkBaseURL(c *validate.Checker, field, raw string) string {
	u, err := validate.BaseURL(raw)
	if err != nil {
		c.Add(field, err.Error(), validate.QuoteURL(raw))
	}
	return u
}

// WithHTTPClient sets the *http.Client requests go through, for timeouts,
// proxies or tracing. The default has a 60-second timeout. The client
// sends through a copy of hc and leaves hc unchanged: the copy never
// follows a redirect (a 3xx is an *APIError), never closes hc's idle
// connections, and applies hc's Timeout to each attempt, reading the body
// included.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc == nil {
			o.check.Add("WithHTTPClient", "must not be nil", "")
			return
		}
		o.httpClient = hc
	}
}

// WithMaxRetries sets how many times a failed request is retried (default
// 3); 0 disables retries. Only a request that cannot act twice is retried:
// GET, HEAD, OPTIONS, PUT and DELETE, and a POST or PATCH that carries an
// Idempotency-Key (every Unified API write does; Agent Handler takes none).
// NewClient fails for n below 0 or above 20.
func WithMaxRetries(n int) Option {
	return func(o *options) {
		if n < 0 || n > 20 {
			o.check.Add("WithMaxRetries", "must be between 0 and 20", fmt.Sprint(n))
			return
		}
		o.maxRetries = n
	}
}

// WithRetryWait sets the first backoff wait and the longest one (defaults
// 500ms and 8s). Tests against mergetest use small waits. A Retry-After
// sent by the server replaces the backoff, up to WithMaxRetryAfter's cap
// (default 1 minute). NewClient fails when min is not positive or max is
// below min.
func WithRetryWait(min, max time.Duration) Option {
	return func(o *options) {
		if min <= 0 || max < min {
			o.check.Add("WithRetryWait", "min must be positive and max at least min", fmt.Sprintf("%s, %s", min, max))
			return
		}
		o.waitMin, o.waitMax = min, max
	}
}

// WithMaxRetryAfter caps the wait that a server's Retry-After (seconds or
// a date) may ask for before a retry; the default is 1 minute. A call
// made for a waiting user may want less, and a context deadline ends any
// wait: a wait that would pass it is not started. NewClient fails unless
// 0 < d <= 1h.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 || d > time.Hour {
			o.check.Add("WithMaxRetryAfter", "must be more than 0 and at most 1h", d.String())
			return
		}
		o.maxAfter = d
	}
}

// WithLogger makes the client log its retries at debug level. The client is
// silent without it; it never logs the API key, headers or bodies.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logRetry = transport.SlogRetries(l) }
}

// WithUserAgent appends ua to the SDK's User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) {
		if hasControl(ua) {
			o.check.Add("WithUserAgent", "must hold no control characters such as a newline", "")
			return
		}
		o.userAgent = strings.TrimSpace(ua)
	}
}

// WithAllowedCallbackOrigins lists the callback origins registered with
// Merge, such as "https://myapp.com" or "myapp://". Agent Handler link
// tokens whose callback URL has another origin are then refused before the
// request, since Merge would silently skip the redirect.
func WithAllowedCallbackOrigins(origins ...string) Option {
	return func(o *options) {
		for _, raw := range origins {
			origin, err := validate.Origin(raw)
			if err != nil {
				o.check.Add("WithAllowedCallbackOrigins", err.Error(), validate.QuoteURL(raw))
				continue
			}
			o.origins = append(o.origins, origin)
		}
	}
}

// hasControl reports whether s holds a byte that an HTTP header value
// cannot carry.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// NewClient returns a Client that authenticates with apiKey. It fails with a
// *ValidationError when apiKey is empty or an option is wrong.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	o := options{region: RegionUS, maxRetries: transport.DefaultMaxRetries, check: validate.New("NewClient options")}
	if strings.TrimSpace(apiKey) == "" {
		o.check.Add("apiKey", "required: pass your Merge API key (from MERGE_API_KEY, say)", "")
	} else if hasControl(apiKey) {
		o.check.Add("apiKey", "must hold no control characters such as a newline", "")
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := o.check.Err(); err != nil {
		return nil, err
	}
	s := core.Settings{
		Transport: transport.New(transport.Options{
			APIKey:        apiKey,
			HTTPClient:    o.httpClient,
			MaxRetries:    o.maxRetries,
			RetryWaitMin:  o.waitMin,
			RetryWaitMax:  o.waitMax,
			MaxRetryAfter: o.maxAfter,
			LogRetry:      o.logRetry,
			UserAgent:     o.userAgent,
		}),
		UnifiedBase:    o.region.BaseURL(),
		AllowedOrigins: o.origins,
	}
	if o.baseURL != "" {
		s.UnifiedBase = o.baseURL
	}
	s.AgentBase, s.AgentBaseErr = o.region.AgentHandlerBaseURL()
	if o.agentBaseURL != "" {
		s.AgentBase, s.AgentBaseErr = o.agentBaseURL, nil
	}
	urls := make(map[Category]string, len(categories))
	for _, c := range categories {
		urls[c] = s.UnifiedBase + linkTokenPath(c)
	}
	return &Client{s: s, region: o.region, linkTokenURLs: urls}, nil
}

// Region returns the client's region; "" for a nil Client.
func (c *Client) Region() Region {
	if c == nil {
		return ""
	}
	return c.region
}

// BaseURL returns the Unified API base URL the client calls; "" for a nil
// or zero Client.
func (c *Client) BaseURL() string {
	if c == nil {
		return ""
	}
	return c.s.UnifiedBase
}

// AgentHandler returns the client for Merge's Agent Handler API, which
// shares this client's transport and options. For a nil or zero Client it
// returns one whose every call fails with ErrNoClient.
func (c *Client) AgentHandler() *agenthandler.Client {
	if c.ready("AgentHandler") != nil {
		return &agenthandler.Client{}
	}
	c.agentOnce.Do(func() { c.agent = (*agenthandler.Client)(core.NewAgentHandler(&c.s)) })
	return c.agent
}

// ready returns an error matching ErrNoClient, naming op, when c is nil or
// was not made by NewClient: every call checks it first, so that such a
// Client fails, sending nothing, instead of panicking.
func (c *Client) ready(op string) error {
	if c == nil || c.s.Transport == nil {
		return fmt.Errorf("mergelink: %s: %w", op, ErrNoClient)
	}
	return nil
}

// String describes the client without its API key.
func (c *Client) String() string {
	if c == nil {
		return "mergelink.Client(nil)"
	}
	return fmt.Sprintf("mergelink.Client{region: %s, base: %s, API key hidden}", c.region, c.s.UnifiedBase)
}

// GoString is String, so that %#v hides the API key too.
func (c *Client) GoString() string { return c.String() }
