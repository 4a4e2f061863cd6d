// Package transport is the one HTTP path of the module: it builds JSON
// requests, authenticates them, retries them through go-retryablehttp, reads
// bounded bodies and turns failures into *APIError.
package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK's version, sent in the User-Agent.
const Version = "0.1.0"

// Defaults of Options left zero.
const (
	DefaultTimeout       = 60 * time.Second
	DefaultMaxRetries    = 3
	DefaultRetryWaitMin  = 500 * time.Millisecond
	DefaultRetryWaitMax  = 8 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	DefaultMaxBody       = 8 << 20
	DefaultMaxErrorBody  = 1 << 20
)

// Options configure a Transport. Zero fields take the defaults above, except
// MaxRetries, whose zero means no retry (callers set the default).
type Options struct {
	APIKey        string
	HTTPClient    *http.Client
	MaxRetries    int
	RetryWaitMin  time.Duration
	RetryWaitMax  time.Duration
	MaxRetryAfter time.Duration
	MaxBody       int64
	MaxErrorBody  int64
	// LogRetry, when set, is told of each retry and of each one the
	// context's deadline stops (see SlogRetries).
	LogRetry func(ctx context.Context, msg string, r Retry)
	// UserAgent is appended to the SDK's own User-Agent.
	UserAgent string
}

// Transport sends requests. It is safe for concurrent use.
type Transport struct {
	o     Options
	auth  *string
	agent string
	// client is o.HTTPClient as go-retryablehttp gets it (see sendingClient).
	client *http.Client
}

// New returns a Transport for o.
func New(o Options) *Transport {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = DefaultRetryWaitMin
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = DefaultRetryWaitMax
	}
	if o.RetryWaitMax < o.RetryWaitMin {
		o.RetryWaitMax = o.RetryWaitMin
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxErrorBody <= 0 {
		o.MaxErrorBody = DefaultMaxErrorBody
	}
	agent := "mergelink-go/" + Version + " " + runtime.Version()
	if o.UserAgent != "" {
		agent += " " + o.UserAgent
	}
	auth := "Bearer " + o.APIKey
	o.APIKey = "" // kept only in auth, behind a pointer that fmt does not follow
	return &Transport{o: o, auth: &auth, agent: agent, client: sendingClient(o.HTTPClient)}
}

// sendingClient returns the copy of hc that the transport sends through.
// It never follows a redirect (see holdRedirect and noRedirect): Go's
// policy would resend the Authorization header to another scheme or port
// of the same host, and the body and Idempotency-Key to any host, so a 3xx
// becomes an *APIError instead. Its
// transport cannot be told to close its idle connections: go-retryablehttp
// closes them after every failed call, which would empty the pool of a
// client the caller shares, or of http.DefaultTransport, for every other
// user in the process. And it has no Timeout of its own: hc's Timeout is
// enforced per attempt through the request's context (see attempt), since
// net/http falls back to a slower path, with a goroutine and a timer, for
// a client with a Timeout whose transport it does not know. hc itself is
// left unchanged.
func sendingClient(hc *http.Client) *http.Client {
	c := *hc
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	a := &attempt{rt: rt, timeout: hc.Timeout}
	if a.timeout > 0 {
		a.cause = &timeoutError{a.timeout}
	}
	c.Transport = a
	c.Timeout = 0
	c.CheckRedirect = noRedirect
	return &c
}

// noRedirect makes an http.Client return a redirect as its answer; it is
// a second guard, since holdRedirect already hides the Location to follow.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// attempt sends one attempt of a call through rt, the caller's transport,
// within timeout, the caller's http.Client.Timeout (none when zero). The
// timeout covers reading the body, which ends when the body is closed. It
// hides every method of rt but RoundTrip.
type attempt struct {
	rt      http.RoundTripper
	timeout time.Duration
	cause   error // the context's cause when the timeout passes
}

func (a *attempt) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.timeout <= 0 {
		return holdRedirect(a.rt.RoundTrip(req))
	}
	ctx, cancel := context.WithTimeoutCause(req.Context(), a.timeout, a.cause)
	resp, err := holdRedirect(a.rt.RoundTrip(req.WithContext(ctx)))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// heldLocation is the header that holds a redirect's Location away from
// the http.Client.
const heldLocation = "X-Mergelink-Held-Location"

// holdRedirect moves a redirect's Location header out of the http.Client's
// sight: the client parses it before it asks CheckRedirect, and fails with
// an error that quotes it, secrets and all, when it does not parse.
// newAPIError reads it back.
func holdRedirect(resp *http.Response, err error) (*http.Response, error) {
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return resp, err
	}
	if loc, ok := resp.Header["Location"]; ok {
		resp.Header = resp.Header.Clone()
		delete(resp.Header, "Location")
		resp.Header[heldLocation] = loc
	}
	return resp, nil
}

// cancelOnClose is a response body that ends its attempt's context when
// it is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// timeoutError is the error of an attempt that outlasted the http.Client's
// Timeout. Like net/http's own, it is a net.Error whose Timeout is true and
// it matches context.DeadlineExceeded.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("the http.Client's Timeout of %s passed before the answer was read", e.d)
}
func (e *timeoutError) Timeout() bool        { return true }
func (e *timeoutError) Temporary() bool      { return true }
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// String shows the transport without its API key.
func (t Transport) String() string { return "mergelink transport (API key hidden)" }

// GoString is String, so that %#v hides the key too.
func (t Transport) GoString() string { return t.String() }

// Request is one logical call: it may be sent several times.
type Request struct {
	Method string
	// URL is absolute, query included.
	URL string
	// Path names the call in errors and logs; it must hold no secret.
	Path string
	// Body, when not nil, is sent as JSON.
	Body any
	// Idempotent asks for an Idempotency-Key header, one per call, the same
	// on every retry. Only such a request, or one whose method is idempotent
	// (see canRepeat), is ever sent twice.
	Idempotent bool
	// Header holds headers of the call's own, such as X-Account-Token;
	// their values are treated as secrets and never shown.
	Header http.Header
}

// Do sends r, retrying as the options allow, and decodes a 2xx body into
// out when out is not nil. It returns the final status code. A non-2xx
// answer, a redirect included, is an *APIError; a 2xx body that cannot be
// decoded a *DecodeError; a body cut short an error that wraps the read's.
func (t *Transport) Do(ctx context.Context, r *Request, out any) (int, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = json.Marshal(r.Body); err != nil {
			return 0, fmt.Errorf("mergelink: %s %s: encoding the request: %w", r.Method, r.Path, err)
		}
	}
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, r.URL, raw)
	if err != nil {
		return 0, fmt.Errorf("mergelink: %s %s: %w", r.Method, r.Path, err)
	}
	h := req.Header
	for k, v := range r.Header {
		h[k] = v
	}
	h.Set("Authorization", *t.auth)
	h.Set("Accept", "application/json")
	h.Set("User-Agent", t.agent)
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	if r.Idempotent {
		key, err := NewUUID()
		if err != nil {
			return 0, err
		}
		h.Set("Idempotency-Key", key)
	}

	c := &call{t: t, method: r.Method, path: r.Path, repeatable: canRepeat(r.Method, r.Idempotent)}
	c.retrier = retryablehttp.Client{
		HTTPClient:   t.client,
		RetryMax:     t.o.MaxRetries,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, err := c.retrier.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		hideURL(err, r.Path)
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return 0, fmt.Errorf("mergelink: %s %s: %w", r.Method, r.Path, err)
	}
	resp.Body.Close()

	// checkRetry read the last answer's body, inside its attempt.
	if err := c.readErr; err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return resp.StatusCode, fmt.Errorf("mergelink: %s %s: reading the %d response: %w", r.Method, r.Path, resp.StatusCode, err)
	}
	if !success(resp) {
		return resp.StatusCode, newAPIError(r.Method, r.Path, resp, c.body, c.cut, c.attempts, time.Now())
	}
	if c.cut {
		return resp.StatusCode, &DecodeError{Method: r.Method, Path: r.Path, StatusCode: resp.StatusCode, Truncated: true, Limit: t.o.MaxBody}
	}
	if out != nil {
		if err := json.Unmarshal(c.body, out); err != nil {
			return resp.StatusCode, &DecodeError{Method: r.Method, Path: r.Path, StatusCode: resp.StatusCode, Limit: t.o.MaxBody, Err: err}
		}
	}
	return resp.StatusCode, nil
}

// success reports whether resp has a 2xx status.
func success(resp *http.Response) bool { return resp.StatusCode >= 200 && resp.StatusCode <= 299 }

// hideURL puts path in place of the URL that net/http writes into its
// errors, since the URL may hold what Path leaves out (a public token in the
// path, say).
func hideURL(err error, path string) {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = path
	}
}

// readAtMost reads up to limit bytes of r and reports whether there was
// more, which it drains no further. size, the answer's Content-Length (-1
// when unknown), sizes the first buffer, so that a body that says its
// length is read with one allocation; a wrong length changes nothing but
// that.
func readAtMost(r io.Reader, size, limit int64) ([]byte, bool, error) {
	n := int64(512)
	if size >= 0 {
		n = size + 1 // room to see the end of the body without growing
	}
	buf := make([]byte, 0, min(n, limit+1))
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(cap(buf)), limit+1-int64(cap(buf)))))
		}
		end := min(int64(cap(buf)), limit+1)
		m, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	return buf[:limit], true, nil
}

// NewUUID returns a random (version 4) UUID from crypto/rand.
func NewUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mergelink: reading crypto/rand: %w", err)
	}
	return FormatUUID(b), nil
}

// FormatUUID returns the version 4 UUID made of the random bytes b.
func FormatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
