package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mergelink/mergelink/internal/secret"
)

// fuzzNow is the clock of the fuzz targets, so that HTTP dates compare
// the same way on every run.
var fuzzNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// FuzzAPIError checks the reading of an error answer, whatever its body
// and headers: the status, body and sentinels are kept, the message names
// the call and never panics; Merge's and Agent Handler's error shapes,
// built from the fuzzer's strings, come back field for field; and a
// Retry-After in seconds is read as such. Seeds are in
// testdata/fuzz/FuzzAPIError.
func FuzzAPIError(f *testing.F) {
	f.Add(uint16(29), []byte(`{"errors":[{"problem_type":"MISSING_REQUIRED_FIELD","title":"Missing","detail":"x","source":{"pointer":"/a"}}]}`), "120", "req-1", "detail", "code")
	f.Add(uint16(4), []byte(`{"error":{"type":"invalid_request","code":"user_not_found","message":"No user"}}`), "", "", "m", "c")
	f.Fuzz(func(t *testing.T, s uint16, body []byte, retryAfter, requestID, text, code string) {
		status := 400 + int(s%200)
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		resp.Header.Set("Retry-After", retryAfter)
		resp.Header.Set("X-Request-Id", requestID)
		e := newAPIError("POST", "/hris/v1/link-token", resp, body, false, 2, fuzzNow)
		msg := e.Error()
		switch {
		case e.StatusCode != status || !bytes.Equal(e.Body, body) || e.Attempts != 2:
			t.Fatalf("status, body or attempts lost: %+v", e)
		case !strings.HasPrefix(msg, fmt.Sprintf("mergelink: POST /hris/v1/link-token: %d ", status)):
			t.Fatalf("message %q does not name the call and status", msg)
		case e.RetryAfter < 0:
			t.Fatalf("negative Retry-After %s from %q", e.RetryAfter, retryAfter)
		case e.Code == "" && e.Detail == "" && len(e.Errors) == 0 && len(body) > 0 && !strings.Contains(msg, "not a Merge error"):
			t.Fatalf("message %q does not say that the body is not a Merge error", msg)
		}
		for sentinel, is := range map[error]bool{
			ErrUnauthorized: status == 401, ErrForbidden: status == 403, ErrNotFound: status == 404,
			ErrRateLimited: status == 429, ErrServer: status >= 500,
		} {
			if errors.Is(e, sentinel) != is {
				t.Fatalf("errors.Is(%d, %v) = %t", status, sentinel, !is)
			}
		}
		// RFC 9110's delay-seconds is 1*DIGIT: "+1" is none, though
		// ParseInt reads it.
		v := strings.TrimSpace(retryAfter)
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && strings.Trim(v, "0123456789") == "" {
			if want := time.Duration(min(n, 86400)) * time.Second; e.RetryAfter != want {
				t.Fatalf("Retry-After %q read as %s, want %s", retryAfter, e.RetryAfter, want)
			}
		}
		if e.RequestID != requestID {
			t.Fatalf("request id %q read as %q", requestID, e.RequestID)
		}

		// What JSON makes of the fuzzer's strings (invalid UTF-8 is replaced).
		wantText, wantCode := roundTrip(t, text), roundTrip(t, code)
		for _, tc := range []struct {
			shape            any
			detail, code     string
			title, errDetail string
		}{
			{shape: map[string]any{"detail": text}, detail: wantText},
			{shape: map[string]any{"code": code, "message": text}, detail: wantText, code: wantCode},
			{shape: map[string]any{"error": map[string]any{"type": "t", "code": code, "message": text}}, detail: wantText, code: wantCode},
			{shape: map[string]any{"errors": []any{map[string]any{"title": text, "detail": code}}}, title: wantText, errDetail: wantCode},
		} {
			b, err := json.Marshal(tc.shape)
			if err != nil {
				t.Fatal(err)
			}
			e := newAPIError("GET", "/p", resp, b, false, 1, fuzzNow)
			var title, errDetail string
			if len(e.Errors) > 0 {
				title, errDetail = e.Errors[0].Title, e.Errors[0].Detail
			}
			if e.Detail != tc.detail || e.Code != tc.code || title != tc.title || errDetail != tc.errDetail {
				t.Fatalf("body %s read as detail %q, code %q, errors %+v", b, e.Detail, e.Code, e.Errors)
			}
		}
	})
}

func roundTrip(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// FuzzRetryAfter checks that a Retry-After value, seconds or an HTTP date,
// never gives a negative wait or one over a day, that seconds are read as
// such (capped at a day, however many digits), and that the wait before a retry stays within the cap when the
// server sets one and within the backoff's bounds when it does not. Seeds
// are in testdata/fuzz/FuzzRetryAfter.
func FuzzRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Fri, 01 May 2026 12:00:30 GMT")
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, fuzzNow)
		if d < 0 || !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %s, %t", v, d, ok)
		}
		if ok && d > 24*time.Hour {
			t.Fatalf("parseRetryAfter(%q) = %s: more than a day", v, d)
		}
		if digits := strings.TrimSpace(v); digits != "" && strings.Trim(digits, "0123456789") == "" {
			want := 24 * time.Hour // for any number too large for an int64, too
			if n, err := strconv.ParseInt(digits, 10, 64); err == nil && n < 86400 {
				want = time.Duration(n) * time.Second
			}
			if !ok || d != want {
				t.Fatalf("parseRetryAfter(%q) = %s, %t; want %s", v, d, ok, want)
			}
		}
		const lo, hi, maxAfter = 100 * time.Millisecond, 2 * time.Second, time.Minute
		resp := &http.Response{Header: http.Header{"Retry-After": {v}}}
		wait := backoff(3, resp, lo, hi, maxAfter, fuzzNow)
		switch {
		case ok && (wait != min(d, maxAfter)):
			t.Fatalf("Retry-After %q (%s): waited %s, want it capped at %s", v, d, wait, maxAfter)
		case !ok && (wait < lo || wait > hi):
			t.Fatalf("unreadable Retry-After %q: waited %s, outside the backoff's %s to %s", v, wait, lo, hi)
		}
	})
}

// FuzzRedirectTarget checks that the Location kept from a redirect is what
// secret.URL shows of it (whose own fuzz target checks the rule), and
// stays bounded.
func FuzzRedirectTarget(f *testing.F) {
	f.Add("https://user:pw@other.example:8443/x?token=s#f")
	f.Add("http://u:p@[bad/x?y")
	f.Add("/relative/path")
	f.Fuzz(func(t *testing.T, loc string) {
		got := redirectTarget(loc)
		want := secret.URL(loc)
		if len(want) > maxLocation {
			want = strings.ToValidUTF8(want[:maxLocation], "") + "..."
		}
		if got != want {
			t.Fatalf("redirectTarget(%q) = %q, want what secret.URL shows: %q", loc, got, want)
		}
		if len(got) > maxLocation+len("...") {
			t.Fatalf("redirectTarget(%q) is %d bytes long", loc, len(got))
		}
	})
}
