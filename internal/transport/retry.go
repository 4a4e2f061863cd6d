package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryable reports whether an attempt that ended with resp or err is worth
// another: transport errors, 408, 429 and 5xx other than 501. Other 4xx are
// never retried, since failing requests count towards Merge's IP limit.
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		var certErr *tls.CertificateVerificationError
		var authErr x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		switch {
		case errors.As(err, &certErr), errors.As(err, &authErr), errors.As(err, &hostErr):
			return false
		case strings.Contains(err.Error(), "unsupported protocol scheme"),
			strings.Contains(err.Error(), "invalid header field"),
			strings.Contains(err.Error(), "stopped after"): // too many redirects
			// Sending again would fail the same way.
			return false
		}
		return true
	}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true
	case c == http.StatusNotImplemented:
		return false
	default:
		return c >= 500 && c <= 599
	}
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// backoff is the wait before retry n (1 for the first retry): Retry-After
// when the server sent one, capped at maxAfter; otherwise min doubled n-1
// times, capped at max, with the upper half jittered.
func backoff(n int, resp *http.Response, min, max, maxAfter time.Duration, now time.Time) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return clamp(d, maxAfter)
		}
	}
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = clamp(d, max)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return d
}

func clamp(d, max time.Duration) time.Duration {
	if d > max {
		return max
	}
	return d
}

// call is the retry state of one logical request: retryablehttp asks it
// whether to retry, then how long to wait.
type call struct {
	t        *Transport
	method   string
	path     string
	attempts int
	wait     time.Duration
}

// checkRetry counts the attempt and decides on a retry. It refuses one when
// the retries are spent, the context is done, or the wait would end after
// the context's deadline: the caller then gets the last answer at once.
func (c *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	c.attempts++
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	if !retryable(resp, err) || c.attempts > c.t.o.MaxRetries {
		return false, nil
	}
	now := time.Now()
	wait := backoff(c.attempts, resp, c.t.o.RetryWaitMin, c.t.o.RetryWaitMax, c.t.o.MaxRetryAfter, now)
	if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) {
		c.log(ctx, "mergelink: not retrying: the wait would pass the context's deadline", resp, err, wait)
		return false, nil
	}
	c.wait = wait
	c.log(ctx, "mergelink: retrying", resp, err, wait)
	return true, nil
}

func (c *call) backoff(time.Duration, time.Duration, int, *http.Response) time.Duration {
	return c.wait
}

func (c *call) log(ctx context.Context, msg string, resp *http.Response, err error, wait time.Duration) {
	l := c.t.o.Logger
	if l == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", c.method),
		slog.String("path", c.path),
		slog.Int("attempt", c.attempts),
		slog.Duration("wait", wait),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if err != nil {
		hideURL(err, c.path)
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}
