package mergelink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/testnet"
)

// The fault suite drives the SDK's calls against loopback servers that
// misbehave in every way the wire allows. Each case states how many requests
// the server must see, what error comes back and how long the call may take,
// and checks that no goroutine outlives it. The cases run one after the
// other, since the goroutine check cannot tell parallel cases apart.

// quick bounds a call that waits for nothing but the 1-4ms backoff of
// setup's clients, with room for a loaded machine running -race.
const quick = 2 * time.Second

// faultFixture is one case's client and the loopback server it calls, with
// a connection pool of its own that counts its dials.
type faultFixture struct {
	c     *mergelink.Client
	mux   *http.ServeMux
	hits  atomic.Int32 // requests the server saw
	dials atomic.Int32 // connections the client opened
}

// newFault returns a fixture whose server answers every request, Unified
// API and Agent Handler, with answer (n counts requests from 1), and
// registers the goroutine check of the case.
func newFault(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request), opts ...mergelink.Option) *faultFixture {
	t.Helper()
	return newFaultTimeout(t, answer, 0, opts...)
}

// newFaultTimeout is newFault with an http.Client whose Timeout is timeout
// (none when zero).
func newFaultTimeout(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request), timeout time.Duration, opts ...mergelink.Option) *faultFixture {
	t.Helper()
	checkGoroutines(t)
	f := &faultFixture{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		f.dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	hc := &http.Client{Transport: tr, Timeout: timeout}
	f.c, f.mux = setup(t, append([]mergelink.Option{mergelink.WithHTTPClient(hc)}, opts...)...)
	t.Cleanup(hc.CloseIdleConnections) // runs before setup's server closes
	serve := func(w http.ResponseWriter, r *http.Request) {
		answer(int(f.hits.Add(1)), w, r)
	}
	f.mux.HandleFunc("/api/", serve)
	f.mux.HandleFunc("/ah/", serve)
	return f
}

// createLinkToken is the call most cases make: a minimal link token
// request, which goes to POST /hris/v1/link-token.
func createLinkToken(ctx context.Context, c *mergelink.Client) (string, error) {
	lt, err := c.CreateLinkToken(ctx, minimalLinkTokenParams())
	if err != nil {
		return "", err
	}
	return lt.LinkToken, nil
}

// exchangeAccountToken is the GET of the cases that need one; it returns
// the Linked Account's id.
func exchangeAccountToken(ctx context.Context, c *mergelink.Client) (string, error) {
	at, err := c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, publicToken)
	if err != nil {
		return "", err
	}
	return at.ID, nil
}

// agentLinkToken is an Agent Handler POST, which carries no
// Idempotency-Key; it returns the link token.
func agentLinkToken(ctx context.Context, c *mergelink.Client) (string, error) {
	lt, err := c.AgentHandler().CreateLinkToken(ctx, leakUserID, agenthandler.LinkTokenParams{Connector: "linear"})
	if err != nil {
		return "", err
	}
	return lt.LinkToken, nil
}

// cutBody is the head of an answer whose connection closes mid-body.
const cutBody = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n{\"link_tok"

// keys records the Idempotency-Key of each request a case's server sees.
type keys struct {
	mu   sync.Mutex
	seen []string
}

func (k *keys) add(r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen = append(k.seen, r.Header.Get("Idempotency-Key"))
}

// same asserts that n requests came, each with the same key.
func (k *keys) same(t *testing.T, n int) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	require.Len(t, k.seen, n)
	assert.Regexp(t, uuidV4, k.seen[0])
	for _, key := range k.seen {
		assert.Equal(t, k.seen[0], key, "one Idempotency-Key for every attempt of a call")
	}
}

// reply answers with status and body as JSON.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// linkTokenOK is a link token request's success.
func linkTokenOK(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		reply(w, http.StatusOK, accountTokenJSON)
		return
	}
	reply(w, http.StatusCreated, `{"link_token":"lt-ok"}`)
}

// failThenOK answers status the first times times, then succeeds.
func failThenOK(status, times int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= times {
			reply(w, status, `{"detail":"try again"}`)
			return
		}
		linkTokenOK(w, r)
	}
}

// mergeError is a Merge error body.
const mergeError = `{"errors":[{"problem_type":"INVALID","title":"Invalid","detail":"end_user_origin_id is taken","source":{"pointer":"/end_user_origin_id"}}],"warnings":[]}`

// hijack takes the connection of w and writes raw to it, then closes it:
// a response cut short.
func hijack(t *testing.T, w http.ResponseWriter, raw string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	buf.WriteString(raw)
	if err := buf.Flush(); err != nil {
		t.Errorf("writing the cut response: %v", err)
	}
}

// bigBody writes status and a JSON string value of 20 MiB.
func bigBody(status int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"link_token":"`)
		// The client stops reading at its limit and closes the connection,
		// which ends this copy with an error.
		io.Copy(w, io.LimitReader(repeatByte('a'), 20<<20))
		io.WriteString(w, `"}`)
	}
}

// repeatByte is an endless reader of one byte.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// apiError returns err as an *APIError, failing t if it is not one.
func apiError(t *testing.T, err error) *mergelink.APIError {
	t.Helper()
	var e *mergelink.APIError
	require.ErrorAs(t, err, &e)
	return e
}

// decodeError returns err as a *DecodeError, failing t if it is not one.
func decodeError(t *testing.T, err error) *mergelink.DecodeError {
	t.Helper()
	var e *mergelink.DecodeError
	require.ErrorAs(t, err, &e)
	return e
}

// notAnAnswer checks that err is no *APIError or *DecodeError: the call
// failed before it had an answer to judge.
func notAnAnswer(t *testing.T, err error) {
	t.Helper()
	var ae *mergelink.APIError
	var de *mergelink.DecodeError
	assert.False(t, errors.As(err, &ae), "unexpected *APIError: %v", err)
	assert.False(t, errors.As(err, &de), "unexpected *DecodeError: %v", err)
}

func TestFaults(t *testing.T) {
	type faultCase struct {
		name     string
		answer   func(n int, w http.ResponseWriter, r *http.Request)
		opts     []mergelink.Option
		call     func(context.Context, *mergelink.Client) (string, error) // createLinkToken if nil
		timeout  time.Duration                                            // of the call's context, if set
		attempts int                                                      // requests the server must see
		atLeast  time.Duration                                            // the call's shortest duration
		atMost   time.Duration                                            // and its longest
		check    func(t *testing.T, got string, err error)
	}
	var midBodyKeys keys
	cases := []faultCase{
		{
			name: "429 with Retry-After in seconds, then success",
			answer: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					reply(w, http.StatusTooManyRequests, `{"detail":"slow down"}`)
					return
				}
				linkTokenOK(w, r)
			},
			attempts: 2,
			atLeast:  time.Second, // the backoff alone is at most 4ms
			atMost:   time.Second + quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			name: "429 with Retry-After as an HTTP date, until the retries are spent",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				// The date has whole seconds: the wait is 0.5s to 1.5s.
				w.Header().Set("Retry-After", time.Now().Add(1500*time.Millisecond).UTC().Format(http.TimeFormat))
				reply(w, http.StatusTooManyRequests, `{"detail":"slow down"}`)
			},
			opts:     []mergelink.Option{mergelink.WithMaxRetries(1)},
			attempts: 2,
			atLeast:  400 * time.Millisecond,
			atMost:   1500*time.Millisecond + quick,
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.ErrorIs(t, err, mergelink.ErrRateLimited)
				assert.Equal(t, http.StatusTooManyRequests, e.StatusCode)
				assert.Equal(t, 2, e.Attempts)
				assert.Equal(t, "slow down", e.Detail)
				assert.Greater(t, e.RetryAfter, time.Duration(0), "the date is still ahead")
				assert.LessOrEqual(t, e.RetryAfter, 1500*time.Millisecond)
				assert.Contains(t, err.Error(), "after 2 attempts")
			},
		},
		{
			name: "Retry-After longer than the deadline returns at once",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "30")
				reply(w, http.StatusTooManyRequests, `{"detail":"slow down"}`)
			},
			timeout:  5 * time.Second,
			attempts: 1,
			atMost:   quick,
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.ErrorIs(t, err, mergelink.ErrRateLimited)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "the last answer, not the deadline")
				assert.Equal(t, 30*time.Second, e.RetryAfter)
				assert.Equal(t, 1, e.Attempts)
			},
		},
		{
			// A number too large for an int64 is a very long wait, not
			// none: capped at a day in RetryAfter, and at the client's cap
			// (a minute) for the wait, which the deadline does not allow.
			name: "Retry-After of 20 digits is a long wait, not none",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "99999999999999999999")
				reply(w, http.StatusServiceUnavailable, `{"detail":"down"}`)
			},
			timeout:  5 * time.Second,
			attempts: 1, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.Equal(t, 24*time.Hour, e.RetryAfter)
				assert.Equal(t, 1, e.Attempts)
			},
		},
		{
			name: "Retry-After as a date years ahead is capped like seconds",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")
				reply(w, http.StatusTooManyRequests, `{"detail":"slow down"}`)
			},
			timeout:  5 * time.Second,
			attempts: 1, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.Equal(t, 24*time.Hour, e.RetryAfter)
				assert.Equal(t, 1, e.Attempts)
			},
		},
		{
			name: "WithMaxRetryAfter caps the wait a server asks for",
			answer: func(n int, w http.ResponseWriter, r *http.Request) {
				if n <= 2 {
					w.Header().Set("Retry-After", []string{"30", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}[n-1])
					reply(w, http.StatusTooManyRequests, `{"detail":"slow down"}`)
					return
				}
				linkTokenOK(w, r)
			},
			opts:     []mergelink.Option{mergelink.WithMaxRetryAfter(20 * time.Millisecond)},
			timeout:  10 * time.Second, // shorter than either Retry-After: only the cap lets the call retry
			attempts: 3,
			atLeast:  40 * time.Millisecond,
			atMost:   quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			name:     "500 twice then success",
			answer:   failThenOK(500, 2),
			attempts: 3, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			name:     "502 twice then success",
			answer:   failThenOK(502, 2),
			attempts: 3, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			name:     "503 twice then success",
			answer:   failThenOK(503, 2),
			attempts: 3, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			name:     "504 twice then success",
			answer:   failThenOK(504, 2),
			attempts: 3, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			name:     "503 then success on a GET",
			answer:   failThenOK(503, 1),
			call:     exchangeAccountToken,
			attempts: 2, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "0496d4c2-42e6-4072-80b3-7b69bfdc76fd", got)
			},
		},
		{
			name:     "500 until the retries are spent",
			answer:   failThenOK(500, 1000),
			opts:     []mergelink.Option{mergelink.WithMaxRetries(2)},
			attempts: 3, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.ErrorIs(t, err, mergelink.ErrServer)
				assert.Equal(t, 500, e.StatusCode)
				assert.Equal(t, 3, e.Attempts)
				assert.Equal(t, "try again", e.Detail)
				assert.Contains(t, err.Error(), "after 3 attempts")
			},
		},
	}
	// Statuses that no retry can help: sent once, answered with the
	// sentinel that matches.
	for _, tc := range []struct {
		status   int
		sentinel error
	}{
		{501, mergelink.ErrServer}, {400, nil}, {401, mergelink.ErrUnauthorized}, {403, mergelink.ErrForbidden},
		{404, mergelink.ErrNotFound}, {409, nil}, {422, nil},
		{600, nil}, {799, nil}, {999, nil}, // not 5xx, so not ErrServer
	} {
		cases = append(cases, faultCase{
			name: fmt.Sprintf("%d is not retried", tc.status),
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-Request-Id", "req-77")
				reply(w, tc.status, mergeError)
			},
			attempts: 1, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.Equal(t, tc.status, e.StatusCode)
				assert.Equal(t, 1, e.Attempts)
				assert.Equal(t, http.MethodPost, e.Method)
				assert.Equal(t, "/hris/v1/link-token", e.Path)
				assert.Equal(t, "req-77", e.RequestID)
				assert.Equal(t, mergeError, string(e.Body))
				assert.False(t, e.Truncated)
				require.Len(t, e.Errors, 1)
				assert.Equal(t, "end_user_origin_id is taken", e.Errors[0].Detail)
				assert.Equal(t, "/end_user_origin_id", e.Errors[0].Source.Pointer)
				if tc.sentinel != nil {
					assert.ErrorIs(t, err, tc.sentinel)
				}
				for _, other := range []error{mergelink.ErrServer, mergelink.ErrUnauthorized, mergelink.ErrForbidden, mergelink.ErrNotFound, mergelink.ErrRateLimited} {
					if other != tc.sentinel {
						assert.NotErrorIs(t, err, other)
					}
				}
			},
		})
	}
	cases = append(cases, []faultCase{
		{
			name: "connection closed mid-headers, every time",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				hijack(t, w, "HTTP/1.1 201 Created\r\nContent-Type: appl")
			},
			opts:     []mergelink.Option{mergelink.WithMaxRetries(2)},
			attempts: 3, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				notAnAnswer(t, err)
				var ue *url.Error
				require.ErrorAs(t, err, &ue)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.Contains(t, err.Error(), "POST /hris/v1/link-token")
			},
		},
		{
			name: "connection closed mid-headers, then success",
			answer: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					hijack(t, w, "HTTP/1.1 201 Created\r\nContent-Type: appl")
					return
				}
				linkTokenOK(w, r)
			},
			attempts: 2, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			// A POST with an Idempotency-Key cannot create twice, so a
			// body cut short is retried, with the same key.
			name: "connection closed mid-body on a Unified POST, every time",
			answer: func(_ int, w http.ResponseWriter, r *http.Request) {
				midBodyKeys.add(r)
				hijack(t, w, cutBody)
			},
			opts:     []mergelink.Option{mergelink.WithMaxRetries(2)},
			attempts: 3, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				notAnAnswer(t, err)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.Contains(t, err.Error(), "POST /hris/v1/link-token: reading the 201 response")
				midBodyKeys.same(t, 3)
			},
		},
		{
			name: "connection closed mid-body on a Unified POST, then success",
			answer: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					hijack(t, w, cutBody)
					return
				}
				linkTokenOK(w, r)
			},
			attempts: 2, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "lt-ok", got)
			},
		},
		{
			name: "connection closed mid-body on a GET, then success",
			answer: func(n int, w http.ResponseWriter, r *http.Request) {
				if n <= 2 {
					hijack(t, w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"account_tok")
					return
				}
				linkTokenOK(w, r)
			},
			call:     exchangeAccountToken,
			attempts: 3, atMost: quick,
			check: func(t *testing.T, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, "0496d4c2-42e6-4072-80b3-7b69bfdc76fd", got)
			},
		},
		{
			// An Agent Handler POST has no Idempotency-Key: its status and
			// headers arrived, so it was answered, and sending it again
			// could act twice. The cut body is an error of its own.
			name: "connection closed mid-body on an Agent Handler POST",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				hijack(t, w, cutBody)
			},
			call:     agentLinkToken,
			attempts: 1, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				notAnAnswer(t, err)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.Contains(t, err.Error(), "reading the 201 response")
			},
		},
		{
			name: "headers, then silence until the deadline",
			answer: func(_ int, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, `{"account_tok`)
				w.(http.Flusher).Flush()
				<-r.Context().Done() // the client hangs up at its deadline
			},
			call:     exchangeAccountToken,
			timeout:  300 * time.Millisecond,
			attempts: 1,
			atLeast:  300 * time.Millisecond,
			atMost:   time.Second,
			check: func(t *testing.T, _ string, err error) {
				notAnAnswer(t, err)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Contains(t, err.Error(), "GET /hris/v1/account-token/{public_token}: reading the 200 response")
				assert.NotContains(t, err.Error(), publicToken)
			},
		},
		{
			name: "truncated JSON",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				reply(w, http.StatusCreated, `{"link_token":"lt-`)
			},
			attempts: 1, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				e := decodeError(t, err)
				assert.Equal(t, http.StatusCreated, e.StatusCode)
				assert.False(t, e.Truncated)
				var syntax *json.SyntaxError
				assert.ErrorAs(t, err, &syntax)
				assert.Contains(t, err.Error(), "POST /hris/v1/link-token: decoding 201 response")
			},
		},
		{
			name: "2xx with a body that is not JSON",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				reply(w, http.StatusOK, `link_token=lt-1`)
			},
			attempts: 1, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				e := decodeError(t, err)
				assert.Equal(t, http.StatusOK, e.StatusCode)
				var syntax *json.SyntaxError
				assert.ErrorAs(t, err, &syntax)
			},
		},
		{
			name: "2xx with JSON of the wrong shape",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				reply(w, http.StatusCreated, `{"link_token":42}`)
			},
			attempts: 1, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				decodeError(t, err)
				var typ *json.UnmarshalTypeError
				assert.ErrorAs(t, err, &typ)
			},
		},
		{
			name: "HTML error page from a proxy",
			answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				io.WriteString(w, htmlPage)
			},
			opts:     []mergelink.Option{mergelink.WithMaxRetries(1)},
			attempts: 2, atMost: quick,
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.ErrorIs(t, err, mergelink.ErrServer)
				assert.Equal(t, http.StatusBadGateway, e.StatusCode)
				assert.Equal(t, 2, e.Attempts)
				assert.Equal(t, htmlPage, string(e.Body))
				assert.Empty(t, e.Errors)
				assert.Empty(t, e.Detail)
				assert.Contains(t, err.Error(), fmt.Sprintf("%d-byte body that is not a Merge error", len(htmlPage)))
				assert.NotContains(t, err.Error(), "<html>", "the page stays in Body, out of the message")
			},
		},
		{
			name:     "20 MiB success body is cut at the 8 MiB bound",
			answer:   bigBody(http.StatusCreated),
			attempts: 1, atMost: 10 * time.Second, // 2s alone under -race; room for a loaded machine
			check: func(t *testing.T, _ string, err error) {
				e := decodeError(t, err)
				assert.True(t, e.Truncated)
				assert.Equal(t, int64(8<<20), e.Limit)
				assert.Equal(t, http.StatusCreated, e.StatusCode)
				assert.NoError(t, e.Err, "nothing was decoded")
				assert.Contains(t, err.Error(), "larger than 8388608 bytes; it was cut there and not decoded")
			},
		},
		{
			name:     "20 MiB error body is cut at the 1 MiB bound",
			answer:   bigBody(http.StatusBadRequest),
			attempts: 1, atMost: 10 * time.Second, // 2s alone under -race; room for a loaded machine
			check: func(t *testing.T, _ string, err error) {
				e := apiError(t, err)
				assert.True(t, e.Truncated)
				assert.Len(t, e.Body, 1<<20)
				assert.True(t, strings.HasPrefix(string(e.Body), `{"link_token":"aaaa`))
				assert.Equal(t, http.StatusBadRequest, e.StatusCode)
				assert.Contains(t, err.Error(), "(body cut at 1048576 bytes)")
			},
		},
	}...)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFault(t, tc.answer, tc.opts...)
			start := time.Now() // before any deadline is set, so elapsed cannot fall short of it
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			call := tc.call
			if call == nil {
				call = createLinkToken
			}
			got, err := call(ctx, f.c)
			elapsed := time.Since(start)

			tc.check(t, got, err)
			if err != nil {
				assert.NotContains(t, fmt.Sprintf("%+v", err), testAPIKey)
			}
			assert.Equal(t, tc.attempts, int(f.hits.Load()), "requests the server saw")
			assert.GreaterOrEqual(t, elapsed, tc.atLeast)
			assert.LessOrEqual(t, elapsed, tc.atMost)
		})
	}
}

// htmlPage is what a load balancer answers when Merge is out of reach.
const htmlPage = `<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>`

// A refused connection is retried like any transport error, and then
// reported as what it is, naming the call.
func TestFaultConnectionRefused(t *testing.T) {
	closed := "http://" + testnet.RefusedAddr(t)

	for _, tc := range []struct {
		name string
		call func(context.Context, *mergelink.Client) (string, error)
		says string
	}{
		{"POST", createLinkToken, "POST /hris/v1/link-token"},
		{"GET", exchangeAccountToken, "GET /hris/v1/account-token/{public_token}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFault(t, func(int, http.ResponseWriter, *http.Request) {
				t.Error("the server was reached")
			}, mergelink.WithBaseURL(closed+"/api"), mergelink.WithMaxRetries(2))
			start := time.Now()
			_, err := tc.call(context.Background(), f.c)
			elapsed := time.Since(start)

			notAnAnswer(t, err)
			assert.ErrorIs(t, err, syscall.ECONNREFUSED)
			var op *net.OpError
			assert.ErrorAs(t, err, &op)
			assert.Contains(t, err.Error(), tc.says)
			assert.NotContains(t, err.Error(), publicToken)
			assert.Equal(t, 3, int(f.dials.Load()), "connection attempts")
			assert.Zero(t, f.hits.Load())
			assert.Less(t, elapsed, quick)
		})
	}
}

// A server that never answers cannot hold a call past its context's
// deadline, and the call does not try again once the deadline has passed.
func TestFaultServerNeverAnswers(t *testing.T) {
	const deadline = 300 * time.Millisecond
	const slack = 700 * time.Millisecond
	for _, tc := range []struct {
		name string
		call func(context.Context, *mergelink.Client) (string, error)
	}{
		{"POST", createLinkToken},
		{"GET", exchangeAccountToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			f := newFault(t, func(int, http.ResponseWriter, *http.Request) {
				<-release
			})
			t.Cleanup(func() { close(release) }) // before the server closes, which waits for its handlers

			start := time.Now() // before the deadline is set, so elapsed cannot fall short of it
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			_, err := tc.call(ctx, f.c)
			elapsed := time.Since(start)

			notAnAnswer(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.NotContains(t, err.Error(), publicToken)
			assert.Equal(t, 1, int(f.hits.Load()), "requests the server saw")
			assert.GreaterOrEqual(t, elapsed, deadline)
			assert.Less(t, elapsed, deadline+slack, "the deadline was not kept")
		})
	}
}

// The Timeout of the caller's http.Client bounds each attempt, reading the
// body included, and an attempt that outlasts it is retried when sending
// again cannot act twice.
func TestFaultClientTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	// The handlers read the request body first: the server notices that a
	// client hung up only once it has.
	silent := func(_ int, _ http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}
	silentBody := func(_ int, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"account_tok`)
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client hangs up when its timeout passes
	}
	for _, tc := range []struct {
		name     string
		answer   func(int, http.ResponseWriter, *http.Request)
		call     func(context.Context, *mergelink.Client) (string, error)
		attempts int
		says     string
	}{
		{"no headers, GET", silent, exchangeAccountToken, 2, "GET /hris/v1/account-token/{public_token}: "},
		{"no headers, Unified POST", silent, createLinkToken, 2, "POST /hris/v1/link-token: "},
		{"headers, then a silent body, GET", silentBody, exchangeAccountToken, 2, "reading the 200 response"},
		{"headers, then a silent body, Unified POST", silentBody, createLinkToken, 2, "reading the 200 response"},
		{"headers, then a silent body, Agent Handler POST", silentBody, agentLinkToken, 1, "reading the 200 response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultTimeout(t, tc.answer, timeout, mergelink.WithMaxRetries(1))
			start := time.Now()
			_, err := tc.call(context.Background(), f.c)
			elapsed := time.Since(start)

			notAnAnswer(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			var ne net.Error
			if assert.ErrorAs(t, err, &ne) {
				assert.True(t, ne.Timeout())
			}
			assert.Contains(t, err.Error(), tc.says)
			assert.Contains(t, err.Error(), "Timeout of 300ms passed")
			assert.NotContains(t, err.Error(), publicToken)
			assert.Equal(t, tc.attempts, int(f.hits.Load()), "requests the server saw")
			assert.GreaterOrEqual(t, elapsed, time.Duration(tc.attempts)*timeout)
			assert.Less(t, elapsed, time.Duration(tc.attempts)*timeout+quick)
		})
	}
}
