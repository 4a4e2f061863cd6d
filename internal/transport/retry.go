package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
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
			strings.Contains(err.Error(), "invalid header field"):
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

// canRepeat reports whether a request may be sent again after a failure
// (a transport error, 408, 429, 5xx, or a 2xx whose body was cut short):
// whether doing it twice cannot act twice. That holds for the idempotent
// methods of RFC 9110 (GET, HEAD, OPTIONS, PUT and DELETE), and for a
// request with an Idempotency-Key (withKey), which the server answers once.
// A POST or PATCH without one is sent once: its first attempt may have
// acted even when no answer came.
func canRepeat(method string, withKey bool) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return withKey
}

// maxRetryAfter bounds the Retry-After that is read, in either form.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date;
// either is capped at a day, so that a value too large for an int64 counts
// as a long wait, not as none.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > int64(maxRetryAfter/time.Second) { // only too large can fail
			return maxRetryAfter, true
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return clamp(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
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

// call is the state of one logical request: retryablehttp asks it, after
// each attempt, whether to retry, then how long to wait.
type call struct {
	// retrier sends the attempts; it is a field so that one allocation
	// holds both.
	retrier retryablehttp.Client

	t      *Transport
	method string
	path   string
	// repeatable reports that sending the request again cannot act twice
	// (see canRepeat): only then is it retried.
	repeatable bool
	attempts   int
	wait       time.Duration

	// The last attempt's body, read inside the attempt: at most the limit
	// of its status, whether there was more, and the read's error.
	body    []byte
	cut     bool
	readErr error
}

// checkRetry counts the attempt, reads the answer's body unless it is to be
// retried, and decides on a retry. It refuses one when the retries are
// spent, the context is done, or the wait would end after the context's
// deadline: the caller then gets the last answer at once.
func (c *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	c.attempts++
	c.body, c.cut, c.readErr = nil, false, nil
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	retry := c.repeatable && retryable(resp, err)
	if err == nil && success(resp) {
		// The body is the answer: read it now, so that the attempt's timeout
		// covers it and a cut can be retried when doing so is safe.
		c.read(resp)
		err = c.readErr
		retry = err != nil && c.repeatable && retryable(nil, err)
	}
	if retry && c.retryNow(ctx, resp, err) {
		return true, nil
	}
	if err == nil && !success(resp) {
		c.read(resp)
	}
	return false, nil
}

// read reads resp's body, up to the limit of its status.
func (c *call) read(resp *http.Response) {
	limit := c.t.o.MaxErrorBody
	if success(resp) {
		limit = c.t.o.MaxBody
	}
	c.body, c.cut, c.readErr = readAtMost(resp.Body, resp.ContentLength, limit)
}

// retryNow decides on the retry of an attempt that ended with resp or err,
// which is worth one, and sets the wait before it.
func (c *call) retryNow(ctx context.Context, resp *http.Response, err error) bool {
	if c.attempts > c.t.o.MaxRetries || ctx.Err() != nil {
		return false
	}
	now := time.Now()
	wait := backoff(c.attempts, resp, c.t.o.RetryWaitMin, c.t.o.RetryWaitMax, c.t.o.MaxRetryAfter, now)
	if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) {
		c.log(ctx, "mergelink: not retrying: the wait would pass the context's deadline", resp, err, wait)
		return false
	}
	c.wait = wait
	c.log(ctx, "mergelink: retrying", resp, err, wait)
	return true
}

func (c *call) backoff(time.Duration, time.Duration, int, *http.Response) time.Duration {
	return c.wait
}

func (c *call) log(ctx context.Context, msg string, resp *http.Response, err error, wait time.Duration) {
	log := c.t.o.LogRetry
	if log == nil {
		return
	}
	r := Retry{Method: c.method, Path: c.path, Attempt: c.attempts, Wait: wait}
	if resp != nil {
		r.Status = resp.StatusCode
	}
	if err != nil {
		hideURL(err, c.path)
		r.Err = err
	}
	log(ctx, msg, r)
}
