package agentmcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/mergelink/mergelink"
)

// maxErrorBody caps what is kept of a non-2xx answer's body.
const maxErrorBody = 1 << 20

// authTransport is the http.RoundTripper of every MCP request: it adds the
// API key, through agenthandler.Client.Authorize (which refuses any host
// but Agent Handler's), to a copy of the request, and notes a non-2xx
// answer as a *mergelink.APIError for the call that sent it. It holds no
// key itself, and prints none.
type authTransport struct {
	auth   func(*http.Request) error
	base   http.RoundTripper
	path   string
	logger *slog.Logger // nil: silent
}

// RoundTrip sends a copy of req with the API key: a RoundTripper must not
// change the request it is given.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if err := t.auth(r); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		t.log(req.Context(), slog.LevelDebug, "agentmcp: request failed", req.Method, slog.String("error", err.Error()))
		return nil, err
	}
	t.log(req.Context(), slog.LevelDebug, "agentmcp: request", req.Method, slog.Int("status", resp.StatusCode))
	if resp.StatusCode < 300 {
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	resp.Body.Close()
	if rerr != nil {
		return nil, fmt.Errorf("agentmcp: reading the %d answer: %w", resp.StatusCode, rerr)
	}
	cut := len(body) > maxErrorBody
	if cut {
		body = body[:maxErrorBody]
	}
	if f, ok := req.Context().Value(failureKey{}).(*failure); ok {
		f.set(mergelink.NewAPIError(req.Method, t.path, resp, bytes.Clone(body), cut))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.StatusCode <= 399 {
		// A redirect is an answer, never followed: the http.Client would
		// resend the key to another port or scheme of the host. Without
		// its Location the client neither follows it nor quotes it, secrets
		// and all, when it does not parse.
		resp.Header = resp.Header.Clone()
		resp.Header.Del("Location")
	}
	return resp, nil
}

// noRedirect makes an http.Client return a redirect as its answer; it is
// a second guard, since authTransport already hides the Location to
// follow.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// log logs one request by its method and path, which hold no secret.
func (t *authTransport) log(ctx context.Context, level slog.Level, msg, method string, attr slog.Attr) {
	if t.logger != nil {
		t.logger.LogAttrs(ctx, level, msg, slog.String("method", method), slog.String("path", t.path), attr)
	}
}

// String names the transport without the key it adds.
func (t *authTransport) String() string { return "agentmcp transport (API key hidden)" }

// GoString is String, so that %#v shows no more.
func (t *authTransport) GoString() string { return t.String() }

// failure holds the last non-2xx answer to one call's requests.
type failure struct {
	mu  sync.Mutex
	err *mergelink.APIError
}

type failureKey struct{}

func (f *failure) set(err *mergelink.APIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *failure) get() *mergelink.APIError {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// call runs one MCP request, method (for errors), through fn with a
// context in which the transport notes a non-2xx answer; when fn fails
// after one, the error is that *mergelink.APIError, which the SDK's error
// would have reduced to a status text.
func call[T any](ctx context.Context, method, path string, fn func(context.Context) (T, error)) (T, error) {
	f := &failure{}
	v, err := fn(context.WithValue(ctx, failureKey{}, f))
	if err == nil {
		return v, nil
	}
	if apiErr := f.get(); apiErr != nil {
		return v, fmt.Errorf("agentmcp: %s: %w", method, apiErr)
	}
	var zero T
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return zero, fmt.Errorf("agentmcp: %s %s: %w", method, path, err)
}
