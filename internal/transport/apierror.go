package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels that an *APIError matches with errors.Is.
var (
	ErrUnauthorized = errors.New("mergelink: unauthorized: check the API key, and that a test key is not used against production or the reverse")
	ErrForbidden    = errors.New("mergelink: forbidden")
	ErrNotFound     = errors.New("mergelink: not found")
	ErrRateLimited  = errors.New("mergelink: rate limited")
	ErrServer       = errors.New("mergelink: server error")
)

// ErrorDetail is one entry of a Merge error body's "errors" list.
type ErrorDetail struct {
	ProblemType string `json:"problem_type,omitempty"`
	Title       string `json:"title,omitempty"`
	Detail      string `json:"detail,omitempty"`
	Source      struct {
		Pointer string `json:"pointer,omitempty"`
	} `json:"source,omitempty"`
}

func (d ErrorDetail) String() string {
	var parts []string
	for _, s := range []string{d.ProblemType, d.Title, d.Detail} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	s := strings.Join(parts, ": ")
	if d.Source.Pointer != "" {
		s += " (at " + d.Source.Pointer + ")"
	}
	return s
}

// APIError is the error for a response whose status is not 2xx, returned
// after the last retry. It matches ErrUnauthorized (401), ErrForbidden (403),
// ErrNotFound (404), ErrRateLimited (429) and ErrServer (5xx) with errors.Is.
type APIError struct {
	// Method and Path name the request; Path never holds a secret.
	Method string
	Path   string
	// StatusCode is the HTTP status of the last response.
	StatusCode int
	// Errors holds the parsed "errors" list of a Merge error body.
	Errors []ErrorDetail
	// Detail is a body's "detail" or "message" field.
	Detail string
	// Code is the stable "code" field of an Agent Handler error body.
	Code string
	// RequestID is the request id the server sent in a response header.
	RequestID string
	// RetryAfter is the wait the server asked for in Retry-After, or zero.
	RetryAfter time.Duration
	// Attempts is how many requests were sent, retries included.
	Attempts int
	// Body is the raw response body, cut at the error body limit.
	Body []byte
	// Truncated reports that Body was cut at the limit.
	Truncated bool
}

// Error says what was asked, what came back and what Merge said of it.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mergelink: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	var said []string
	if e.Code != "" {
		said = append(said, e.Code)
	}
	if e.Detail != "" {
		said = append(said, e.Detail)
	}
	for _, d := range e.Errors {
		said = append(said, d.String())
	}
	if len(said) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(said, "; "))
	} else if len(e.Body) > 0 {
		fmt.Fprintf(&b, ": %d-byte body that is not a Merge error (see Body)", len(e.Body))
	}
	if e.Truncated {
		fmt.Fprintf(&b, " (body cut at %d bytes)", len(e.Body))
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	return b.String()
}

// Is matches the sentinel errors by status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// requestIDHeaders are the response headers that may carry a request id.
var requestIDHeaders = []string{"X-Request-Id", "X-Merge-Request-Id", "Request-Id"}

// newAPIError builds an *APIError from a response and its bounded body.
func newAPIError(method, path string, resp *http.Response, body []byte, truncated bool, attempts int, now time.Time) *APIError {
	e := &APIError{
		Method:     method,
		Path:       path,
		StatusCode: resp.StatusCode,
		Attempts:   attempts,
		Body:       body,
		Truncated:  truncated,
	}
	for _, h := range requestIDHeaders {
		if v := resp.Header.Get(h); v != "" {
			e.RequestID = v
			break
		}
	}
	e.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	e.Errors, e.Detail, e.Code = parseProblems(body)
	return e
}

// parseProblems reads what a JSON error body says. Unified API errors carry
// "errors" (objects, or plain strings from a proxy) or "detail"; Agent
// Handler errors a "code" and "message", at the top level or inside an
// "error" object, which may also be a plain string. Each member is read on
// its own, so one of an unexpected type does not hide the others.
func parseProblems(body []byte) (errs []ErrorDetail, detail, code string) {
	var top struct {
		Errors  json.RawMessage `json:"errors"`
		Detail  any             `json:"detail"`
		Message any             `json:"message"`
		Code    any             `json:"code"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &top) != nil {
		return nil, "", ""
	}
	if json.Unmarshal(top.Errors, &errs) != nil {
		errs = nil
		var texts []string
		if json.Unmarshal(top.Errors, &texts) == nil {
			for _, t := range texts {
				errs = append(errs, ErrorDetail{Detail: t})
			}
		}
	}
	var nested struct {
		Message any `json:"message"`
		Code    any `json:"code"`
	}
	var text string
	switch {
	case json.Unmarshal(top.Error, &text) == nil:
		nested.Message = text
	case json.Unmarshal(top.Error, &nested) != nil:
		nested.Message, nested.Code = nil, nil
	}
	detail = firstText(top.Detail, top.Message, nested.Message)
	code = firstText(top.Code, nested.Code)
	return errs, detail, code
}

// firstText returns the text of the first value that has some.
func firstText(vs ...any) string {
	for _, v := range vs {
		if t := textOf(v); t != "" {
			return t
		}
	}
	return ""
}

// textOf renders a JSON value that is usually a string.
func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// DecodeError is returned when a 2xx response cannot be used: its body is
// not the JSON expected, or is larger than the limit.
type DecodeError struct {
	Method     string
	Path       string
	StatusCode int
	// Truncated reports that the body was larger than the limit and was not
	// decoded.
	Truncated bool
	// Limit is the body limit in bytes.
	Limit int64
	// Err is the JSON error, if any.
	Err error
}

func (e *DecodeError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("mergelink: %s %s: %d response body is larger than %d bytes; it was cut there and not decoded", e.Method, e.Path, e.StatusCode, e.Limit)
	}
	return fmt.Sprintf("mergelink: %s %s: decoding %d response: %v", e.Method, e.Path, e.StatusCode, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
