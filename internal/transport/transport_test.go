package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/h2non/gock.v1"

	"github.com/mergelink/mergelink/internal/testnet"
)

const testKey = "sk-test-TRANSPORT-9f3a-secret"

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// logBuffer is a concurrency-safe sink for a slog text handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTransport returns a transport with tiny waits that logs into a buffer,
// and registers a check that the API key appears in no log line. Unless o
// names a client, the transport gets a connection pool of its own: every
// httptest.Server.Close empties http.DefaultTransport's idle pool, and a
// connection closed in the moment after a bodyless answer (net/http puts it
// back in the pool before it hands the answer over) breaks a request the
// server already answered, which is then rightly retried and counted twice.
func newTransport(t *testing.T, o Options) (*Transport, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	o.APIKey = testKey
	if o.HTTPClient == nil {
		pool := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(pool.CloseIdleConnections)
		o.HTTPClient = &http.Client{Timeout: DefaultTimeout, Transport: pool}
	}
	if o.LogRetry == nil {
		o.LogRetry = SlogRetries(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 4*time.Millisecond
	}
	t.Cleanup(func() { assert.NotContains(t, logs.String(), testKey, "API key in the log") })
	return New(o), logs
}

// noKey fails the test when err's text holds the API key.
func noKey(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		assert.NotContains(t, err.Error(), testKey)
		assert.NotContains(t, fmt.Sprintf("%+v", err), testKey)
	}
}

// counter answers with the statuses in turn (the last one repeats) and
// counts requests.
func counter(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(int(n.Add(1)), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetryRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		attempts int
	}{
		{408, 3}, {429, 3}, {500, 3}, {502, 3}, {503, 3}, {504, 3}, {599, 3},
		{501, 1}, {400, 1}, {401, 1}, {403, 1}, {404, 1}, {409, 1}, {422, 1},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			srv, n := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
			})
			tr, _ := newTransport(t, Options{MaxRetries: 2})
			status, err := tr.Do(context.Background(), &Request{Method: "POST", URL: srv.URL + "/x", Path: "/x", Body: map[string]int{"a": 1}, Idempotent: true}, nil)
			noKey(t, err)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.attempts, int(n.Load()), "requests sent")
			assert.Equal(t, tc.attempts, apiErr.Attempts)
		})
	}
}

// Only a request that cannot act twice is sent twice: an idempotent method,
// or a POST or PATCH with an Idempotency-Key. A POST or PATCH without one
// is sent once, whatever the failure, since its first attempt may have
// acted.
func TestRetriedOnlyWhenRepeatable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method  string
		withKey bool
		sent    int
	}{
		{"GET", false, 3}, {"HEAD", false, 3}, {"OPTIONS", false, 3}, {"PUT", false, 3}, {"DELETE", false, 3},
		{"POST", true, 3}, {"PATCH", true, 3},
		{"POST", false, 1}, {"PATCH", false, 1},
	} {
		for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
			t.Run(fmt.Sprint(tc.method, tc.withKey, status), func(t *testing.T) {
				t.Parallel()
				var keys sync.Map
				srv, n := counter(t, func(_ int, w http.ResponseWriter, r *http.Request) {
					keys.Store(r.Header.Get("Idempotency-Key"), true)
					w.WriteHeader(status)
				})
				tr, _ := newTransport(t, Options{MaxRetries: 2})
				var body any
				if tc.method != "GET" && tc.method != "HEAD" {
					body = map[string]int{"a": 1}
				}
				_, err := tr.Do(context.Background(), &Request{Method: tc.method, URL: srv.URL + "/x", Path: "/x", Body: body, Idempotent: tc.withKey}, nil)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.sent, int(n.Load()), "requests sent")
				assert.Equal(t, tc.sent, apiErr.Attempts)
				var seen []any
				keys.Range(func(k, _ any) bool { seen = append(seen, k); return true })
				require.Len(t, seen, 1, "one Idempotency-Key (or none) on every attempt")
				assert.Equal(t, tc.withKey, seen[0] != "", "an Idempotency-Key when asked for")
			})
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	srv, n := counter(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	})
	tr, logs := newTransport(t, Options{MaxRetries: 3})
	var out struct{ OK bool }
	status, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, &out)
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.True(t, out.OK)
	assert.Equal(t, int32(3), n.Load())
	assert.Equal(t, 2, strings.Count(logs.String(), "mergelink: retrying"), logs.String())
}

func TestMaxRetriesZeroSendsOnce(t *testing.T) {
	t.Parallel()
	srv, n := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	tr, _ := newTransport(t, Options{MaxRetries: 0})
	_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
	require.ErrorIs(t, err, ErrServer)
	assert.Equal(t, int32(1), n.Load())
}

func TestTransportErrorRetried(t *testing.T) {
	t.Parallel()
	srv, n := counter(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // reset before any response
			}
			return
		}
		io.WriteString(w, `{}`)
	})
	tr, _ := newTransport(t, Options{MaxRetries: 2})
	_, err := tr.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Path: "/", Body: struct{}{}, Idempotent: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, int32(2), n.Load())
}

// A redirect is the answer: it is neither followed nor retried, and the
// error says where it pointed, with the query, fragment and user info
// masked.
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ location, want string }{
		{"/loop?api_key=s3cret#frag", "/loop?***#***"},
		{"https://user:s3cret@other.example:8443/x?token=s3cret", "https://***@other.example:8443/x?***"},
		{"http://user:s3cret@[bad/x", "http://***@[bad/x"},
		{"", ""},
		{"/" + strings.Repeat("é", maxLocation), "/" + strings.Repeat("é", maxLocation/2-1) + "..."},
	} {
		srv, n := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			if tc.location != "" {
				w.Header().Set("Location", tc.location)
			}
			w.WriteHeader(http.StatusFound)
		})
		tr, _ := newTransport(t, Options{MaxRetries: 2})
		_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/loop", Path: "/loop"}, nil)
		var ae *APIError
		require.ErrorAs(t, err, &ae, tc.location)
		assert.Equal(t, http.StatusFound, ae.StatusCode)
		assert.Equal(t, tc.want, ae.Location)
		assert.NotContains(t, err.Error(), "s3cret")
		assert.Contains(t, err.Error(), "not followed")
		assert.Equal(t, int32(1), n.Load(), "one request, neither followed nor retried")
	}
}

func TestConnectionRefusedRetriedThenFails(t *testing.T) {
	t.Parallel()
	addr := testnet.RefusedAddr(t)
	tr, logs := newTransport(t, Options{MaxRetries: 2})
	_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: "http://" + addr + "/x", Path: "/x"}, nil)
	require.Error(t, err)
	noKey(t, err)
	assert.Contains(t, err.Error(), "GET /x")
	assert.Equal(t, 2, strings.Count(logs.String(), "mergelink: retrying"))
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{now.Add(400 * 24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour, true},
		{"90000", 24 * time.Hour, true},
		{"99999999999999999999", 24 * time.Hour, true},
		{"-3", 0, false},
		{"+3", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	now := time.Now()
	resp := func(retryAfter string) *http.Response {
		return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {retryAfter}}}
	}
	// Retry-After wins over the exponential wait, and is capped.
	assert.Equal(t, 2*time.Second, backoff(1, resp("2"), time.Millisecond, time.Millisecond, time.Minute, now))
	assert.Equal(t, time.Minute, backoff(1, resp("3600"), time.Millisecond, time.Millisecond, time.Minute, now))
	// Exponential with jitter in the upper half, capped at max.
	for n := 1; n <= 6; n++ {
		base := min(100*time.Millisecond<<(n-1), 2*time.Second)
		for range 50 {
			d := backoff(n, nil, 100*time.Millisecond, 2*time.Second, time.Minute, now)
			assert.GreaterOrEqual(t, d, base/2, "retry %d", n)
			assert.LessOrEqual(t, d, base, "retry %d", n)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	for _, form := range []string{"seconds", "date"} {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			srv, n := counter(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					v := "1"
					if form == "date" {
						v = time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
					}
					w.Header().Set("Retry-After", v)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				io.WriteString(w, `{}`)
			})
			tr, logs := newTransport(t, Options{MaxRetries: 1})
			start := time.Now()
			_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
			require.NoError(t, err)
			assert.Equal(t, int32(2), n.Load())
			// The backoff alone is at most 4ms: waiting longer is Retry-After's doing.
			assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
			assert.Contains(t, logs.String(), "status=429")
		})
	}
}

func TestRetryAfterCapped(t *testing.T) {
	t.Parallel()
	srv, n := counter(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{}`)
	})
	tr, logs := newTransport(t, Options{MaxRetries: 1, MaxRetryAfter: 5 * time.Millisecond})
	start := time.Now()
	_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
	require.NoError(t, err)
	assert.Equal(t, int32(2), n.Load())
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, logs.String(), "wait=5ms")
}

func TestWaitPastDeadlineNotStarted(t *testing.T) {
	t.Parallel()
	srv, n := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"detail":"slow down"}`)
	})
	tr, logs := newTransport(t, Options{MaxRetries: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := tr.Do(ctx, &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
	elapsed := time.Since(start)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, errors.Is(err, ErrRateLimited))
	assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "slow down", apiErr.Detail)
	assert.Equal(t, int32(1), n.Load())
	assert.Less(t, elapsed, 2*time.Second, "the call must return at once, not wait for the deadline")
	assert.Contains(t, logs.String(), "would pass the context's deadline")
}

func TestCancelEndsWait(t *testing.T) {
	t.Parallel()
	answered := make(chan struct{}, 1)
	srv, n := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		answered <- struct{}{}
	})
	tr, _ := newTransport(t, Options{MaxRetries: 3})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-answered
		cancel()
	}()
	start := time.Now()
	_, err := tr.Do(ctx, &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, int32(1), n.Load())
}

func TestAPIErrorBodies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		check  func(t *testing.T, e *APIError)
	}{
		{"merge errors", 400, "application/json",
			`{"errors":[{"source":{"pointer":"/end_user_email_address"},"title":"Missing Required Field","detail":"end_user_email_address is required","problem_type":"MISSING_REQUIRED_FIELD"}],"warnings":[]}`,
			func(t *testing.T, e *APIError) {
				require.Len(t, e.Errors, 1)
				d := e.Errors[0]
				assert.Equal(t, "MISSING_REQUIRED_FIELD", d.ProblemType)
				assert.Equal(t, "Missing Required Field", d.Title)
				assert.Equal(t, "end_user_email_address is required", d.Detail)
				assert.Equal(t, "/end_user_email_address", d.Source.Pointer)
				assert.Contains(t, e.Error(), "end_user_email_address is required")
				assert.Contains(t, e.Error(), "/end_user_email_address")
			}},
		{"detail", 401, "application/json", `{"detail":"Invalid token."}`,
			func(t *testing.T, e *APIError) {
				assert.Equal(t, "Invalid token.", e.Detail)
				assert.ErrorIs(t, e, ErrUnauthorized)
				assert.NotErrorIs(t, e, ErrNotFound)
			}},
		{"agent handler code", 404, "application/json", `{"code":"registered_user_not_found","message":"No such registered user"}`,
			func(t *testing.T, e *APIError) {
				assert.Equal(t, "registered_user_not_found", e.Code)
				assert.Equal(t, "No such registered user", e.Detail)
				assert.ErrorIs(t, e, ErrNotFound)
				assert.Contains(t, e.Error(), "registered_user_not_found")
			}},
		{"agent handler nested error", 400, "application/json", `{"error":{"type":"invalid_request","code":"callback_url_has_state","message":"callback_url must not carry state","documentation_url":"https://docs.merge.dev"}}`,
			func(t *testing.T, e *APIError) {
				assert.Equal(t, "callback_url_has_state", e.Code)
				assert.Equal(t, "callback_url must not carry state", e.Detail)
				assert.Contains(t, e.Error(), "callback_url_has_state")
			}},
		{"detail beside an error of another type", 404, "application/json", `{"detail":"Not found.","error":7}`,
			func(t *testing.T, e *APIError) {
				assert.Equal(t, "Not found.", e.Detail)
			}},
		{"error as a string", 401, "application/json", `{"error":"Invalid API key"}`,
			func(t *testing.T, e *APIError) {
				assert.Equal(t, "Invalid API key", e.Detail)
				assert.Contains(t, e.Error(), "Invalid API key")
			}},
		{"errors as strings", 400, "application/json", `{"errors":["Email is required","Categories is required"]}`,
			func(t *testing.T, e *APIError) {
				require.Len(t, e.Errors, 2)
				assert.Equal(t, "Email is required", e.Errors[0].Detail)
				assert.Equal(t, "Categories is required", e.Errors[1].Detail)
			}},
		{"html", 502, "text/html", `<html><body><h1>502 Bad Gateway</h1></body></html>`,
			func(t *testing.T, e *APIError) {
				assert.Empty(t, e.Errors)
				assert.Empty(t, e.Detail)
				assert.Contains(t, string(e.Body), "502 Bad Gateway")
				assert.Contains(t, e.Error(), "not a Merge error")
				assert.ErrorIs(t, e, ErrServer)
			}},
		{"empty", 403, "", ``,
			func(t *testing.T, e *APIError) {
				assert.Empty(t, e.Body)
				assert.Equal(t, "mergelink: GET /thing: 403 Forbidden [request id req-123]", e.Error())
				assert.ErrorIs(t, e, ErrForbidden)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.Header().Set("X-Request-Id", "req-123")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			tr, _ := newTransport(t, Options{MaxRetries: 0})
			_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/thing", Path: "/thing"}, nil)
			noKey(t, err)
			var e *APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, "req-123", e.RequestID)
			assert.Equal(t, "GET", e.Method)
			assert.Equal(t, "/thing", e.Path)
			tc.check(t, e)
		})
	}
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 4096)
	t.Run("error body cut", func(t *testing.T) {
		t.Parallel()
		srv, _ := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, big)
		})
		tr, _ := newTransport(t, Options{MaxErrorBody: 1000})
		_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
		var e *APIError
		require.ErrorAs(t, err, &e)
		assert.True(t, e.Truncated)
		assert.Len(t, e.Body, 1000)
		assert.Contains(t, e.Error(), "body cut at 1000 bytes")
	})
	t.Run("success body over the limit", func(t *testing.T) {
		t.Parallel()
		srv, _ := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"a":"`+big+`"}`)
		})
		tr, _ := newTransport(t, Options{MaxBody: 1000})
		var out map[string]string
		_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, &out)
		var e *DecodeError
		require.ErrorAs(t, err, &e)
		assert.True(t, e.Truncated)
		assert.Nil(t, out)
		assert.Contains(t, e.Error(), "larger than 1000 bytes")
	})
	t.Run("2xx with invalid JSON", func(t *testing.T) {
		t.Parallel()
		srv, _ := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"link_token": "abc"`)
		})
		tr, _ := newTransport(t, Options{})
		var out map[string]string
		_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, &out)
		var e *DecodeError
		require.ErrorAs(t, err, &e)
		assert.False(t, e.Truncated)
		assert.Equal(t, 200, e.StatusCode)
		var syntax *json.SyntaxError
		assert.True(t, errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF), "unwraps to the JSON error: %v", e.Err)
	})
}

func TestHeadersAndIdempotencyKey(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []http.Header
	var bodies []string
	srv, _ := counter(t, func(n int, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		bodies = append(bodies, string(b))
		mu.Unlock()
		if n%2 == 1 { // every call fails once, then succeeds
			w.WriteHeader(500)
			return
		}
		io.WriteString(w, `{}`)
	})
	tr, _ := newTransport(t, Options{MaxRetries: 1, UserAgent: "acme-app/2.0"})
	for range 2 {
		_, err := tr.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Path: "/", Body: map[string]string{"k": "v"}, Idempotent: true}, nil)
		require.NoError(t, err)
	}
	_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
	require.NoError(t, err)

	require.Len(t, seen, 6)
	for i, h := range seen[:4] {
		assert.Equal(t, "Bearer "+testKey, h.Get("Authorization"))
		assert.Equal(t, "application/json", h.Get("Accept"))
		assert.Equal(t, "application/json", h.Get("Content-Type"))
		assert.Regexp(t, `^mergelink-go/`+regexp.QuoteMeta(Version)+` go\S+ acme-app/2\.0$`, h.Get("User-Agent"))
		assert.Regexp(t, uuidV4, h.Get("Idempotency-Key"), "request %d", i)
		assert.JSONEq(t, `{"k":"v"}`, bodies[i])
	}
	assert.Equal(t, seen[0].Get("Idempotency-Key"), seen[1].Get("Idempotency-Key"), "same key on the retry")
	assert.Equal(t, seen[2].Get("Idempotency-Key"), seen[3].Get("Idempotency-Key"), "same key on the retry")
	assert.NotEqual(t, seen[0].Get("Idempotency-Key"), seen[2].Get("Idempotency-Key"), "a new key per call")
	assert.Empty(t, seen[4].Get("Idempotency-Key"), "no key when not asked for")
	assert.Empty(t, seen[4].Get("Content-Type"), "no content type without a body")
	assert.Empty(t, bodies[4])
}

func TestNewUUID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		u, err := NewUUID()
		require.NoError(t, err)
		require.Regexp(t, uuidV4, u)
		require.False(t, seen[u])
		seen[u] = true
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	t.Parallel()
	tr := New(Options{APIKey: testKey})
	assert.NotSame(t, http.DefaultClient, tr.o.HTTPClient)
	assert.Equal(t, DefaultTimeout, tr.o.HTTPClient.Timeout)
	assert.Zero(t, tr.client.Timeout, "the timeout is the attempt's, through its context")
	assert.Equal(t, DefaultTimeout, tr.client.Transport.(*attempt).timeout)
	assert.Nil(t, tr.o.LogRetry, "silent unless given a logger")
	for _, s := range []string{fmt.Sprint(tr), fmt.Sprintf("%+v", tr), fmt.Sprintf("%#v", tr), fmt.Sprintf("%+v", *tr)} {
		assert.NotContains(t, s, testKey)
	}
}

// idleCounter is a RoundTripper that counts calls to CloseIdleConnections.
type idleCounter struct {
	http.RoundTripper
	closes atomic.Int32
}

func (c *idleCounter) CloseIdleConnections() { c.closes.Add(1) }

// TestFailuresKeepTheCallersIdleConnections checks that failed calls, which
// make go-retryablehttp close the client's idle connections, leave the
// pool of a client the caller shares alone.
func TestFailuresKeepTheCallersIdleConnections(t *testing.T) {
	t.Parallel()
	srv, _ := counter(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	refused := "http://" + testnet.RefusedAddr(t)
	rt := &idleCounter{RoundTripper: http.DefaultTransport}
	tr, _ := newTransport(t, Options{MaxRetries: 1, HTTPClient: &http.Client{Transport: rt}})
	_, err := tr.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
	require.ErrorIs(t, err, ErrServer)
	_, err = tr.Do(context.Background(), &Request{Method: "GET", URL: refused, Path: "/"}, nil)
	require.Error(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = tr.Do(ctx, &Request{Method: "GET", URL: srv.URL, Path: "/"}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, rt.closes.Load(), "the caller's idle connections were closed")
}

// TestGockExchange stubs the real Unified API host, which tests can never
// reach, and checks that the transport sends exactly what gock expects.
func TestGockExchange(t *testing.T) {
	hc := &http.Client{}
	gock.InterceptClient(hc)
	t.Cleanup(gock.Off)
	gock.New("https://api.merge.dev").
		Post("/api/hris/v1/link-token").
		MatchHeader("Authorization", "^Bearer "+testKey+"$").
		MatchHeader("Idempotency-Key", uuidV4.String()).
		JSON(map[string]any{"end_user_origin_id": "42"}).
		Reply(201).
		JSON(map[string]string{"link_token": "lt-1"})
	tr, _ := newTransport(t, Options{HTTPClient: hc})
	var out struct {
		LinkToken string `json:"link_token"`
	}
	status, err := tr.Do(context.Background(), &Request{Method: "POST", URL: "https://api.merge.dev/api/hris/v1/link-token", Path: "/hris/v1/link-token", Body: map[string]any{"end_user_origin_id": "42"}, Idempotent: true}, &out)
	require.NoError(t, err)
	assert.Equal(t, 201, status)
	assert.Equal(t, "lt-1", out.LinkToken)
	assert.True(t, gock.IsDone(), "the stubbed exchange happened")
}
