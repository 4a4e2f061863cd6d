package mergetest

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"
)

// IP block: as WIRE.md says of Merge, more than MaxFailuresPerIP failing
// requests (status 400 or more, but not 429) from one IP within
// FailureWindow block it.
const (
	MaxFailuresPerIP = 20
	FailureWindow    = 10 * time.Second
)

// WithRateLimits makes the server enforce Merge's limits, off by default so
// that tests stay fast and permissive:
//   - per Linked Account (the X-Account-Token a request carries), at most
//     perMinute requests in any minute; the next ones are answered 429 with
//     Retry-After, the seconds until one is allowed again (Merge allows
//     100, 400 or 600 a minute by plan);
//   - per client IP, once more than MaxFailuresPerIP requests have failed
//     (status 400 or more, but not 429) within FailureWindow, every request
//     is answered 429 with Retry-After until the failures of the last
//     FailureWindow are MaxFailuresPerIP or fewer again.
//
// Time is the server's clock (WithClock), so a test can pass a minute
// without waiting. Requests FailNext answers count as failures.
func WithRateLimits(perMinute int) ServerOption {
	return func(c *config) {
		if perMinute <= 0 {
			c.problems = append(c.problems, fmt.Sprintf("WithRateLimits: the limit must be positive, got %d", perMinute))
			return
		}
		c.perMinute = perMinute
	}
}

// limiter holds the rate-limit state; it is guarded by the server's mu.
type limiter struct {
	perMinute int                               // 0: no limits
	requests  map[[sha256.Size]byte][]time.Time // per account token hash, within the last minute
	failures  map[string][]time.Time            // per IP, within FailureWindow
}

// since returns the times of ts after from.
func since(ts []time.Time, from time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(from) {
		i++
	}
	return ts[i:]
}

// retryAfter is the whole seconds from now to at, at least one.
func retryAfter(now, at time.Time) string {
	return fmt.Sprint(max(1, int(math.Ceil(at.Sub(now).Seconds()))))
}

// limited returns the Retry-After of a request that the limits refuse, or
// "" to let it through, counting it against its account. It runs with s.mu
// held.
func (s *Server) limited(r *http.Request) string {
	l := &s.limits
	if l.perMinute == 0 {
		return ""
	}
	now := s.now()
	ip := clientIP(r)
	fails := since(l.failures[ip], now.Add(-FailureWindow))
	l.failures[ip] = fails
	if len(fails) > MaxFailuresPerIP {
		return retryAfter(now, fails[len(fails)-MaxFailuresPerIP-1].Add(FailureWindow))
	}
	token := r.Header.Get(AccountTokenHeader)
	if token == "" {
		return ""
	}
	key := sha256.Sum256([]byte(token))
	reqs := since(l.requests[key], now.Add(-time.Minute))
	if len(reqs) >= l.perMinute {
		l.requests[key] = reqs
		return retryAfter(now, reqs[len(reqs)-l.perMinute].Add(time.Minute))
	}
	l.requests[key] = append(reqs, now)
	return ""
}

// answered notes the status a request was answered with, counting a
// failure against its IP. It runs with s.mu held.
func (s *Server) answered(r *http.Request, status int) {
	l := &s.limits
	if l.perMinute == 0 || status < 400 || status == http.StatusTooManyRequests {
		return
	}
	ip := clientIP(r)
	l.failures[ip] = append(l.failures[ip], s.now())
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// statusRecorder keeps the status a handler answers.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's own writer,
// for a handler (an MCP server, say) that flushes or hijacks.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
