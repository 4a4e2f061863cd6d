package mergeerr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels that an *APIError matches with errors.Is, by its status code.
var (
	// ErrUnauthorized matches a 401: the API key is wrong or revoked, or a
	// test key is used against production or the reverse.
	ErrUnauthorized = errors.New("mergelink: unauthorized: check the API key, and that a test key is not used against production or the reverse")
	// ErrForbidden matches a 403.
	ErrForbidden = errors.New("mergelink: forbidden")
	// ErrNotFound matches a 404; Merge also answers 404 to a test key used
	// against production and the reverse.
	ErrNotFound = errors.New("mergelink: not found")
	// ErrRateLimited matches a 429 that outlasted the retries; see
	// APIError.RetryAfter.
	ErrRateLimited = errors.New("mergelink: rate limited")
	// ErrServer matches a 5xx (500 to 599) that outlasted the retries.
	ErrServer = errors.New("mergelink: server error")
)

// ErrorDetail is one entry of a Merge error body's "errors" list.
type ErrorDetail struct {
	// ProblemType is Merge's problem_type, such as "MISSING_REQUIRED_FIELD".
	ProblemType string `json:"problem_type,omitempty"`
	// Title is a short summary of the problem.
	Title string `json:"title,omitempty"`
	// Detail says what is wrong.
	Detail string `json:"detail,omitempty"`
	// Source points at the request field at fault, when Merge names one.
	Source struct {
		// Pointer is a JSON pointer into the request body, such as
		// "/end_user_origin_id".
		Pointer string `json:"pointer,omitempty"`
	} `json:"source,omitempty"`
}

// String joins the problem type, title and detail, and names the field the
// source points at.
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

// APIError is the error for an answer whose status is not 2xx, returned
// after the last retry. A redirect (3xx) is one too: the SDK never follows
// one, so that the API key and the request body never reach another
// address, and Location says where it pointed. APIError matches
// ErrUnauthorized (401), ErrForbidden (403), ErrNotFound (404),
// ErrRateLimited (429) and ErrServer (500 to 599) with errors.Is.
type APIError struct {
	// Method and Path name the request; Path never holds a secret.
	Method, Path string
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
	// RetryAfter is the wait the server asked for in Retry-After, at most a
	// day, or zero.
	RetryAfter time.Duration
	// Location is where a redirect pointed: its Location header with its
	// user info, query and fragment, which may hold secrets, masked as
	// "***", as every URL the module shows. It is empty for other
	// statuses.
	Location string
	// Attempts is how many requests were sent, retries included.
	Attempts int
	// Body is the raw response body, cut at the error body limit (1 MiB).
	Body []byte
	// Truncated reports that Body was cut at the limit.
	Truncated bool
}

// Error says what was asked, what came back and what Merge said of it.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mergelink: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.StatusCode >= 300 && e.StatusCode <= 399 {
		b.WriteString(": redirect")
		if e.Location != "" {
			fmt.Fprintf(&b, " to %q", e.Location)
		}
		b.WriteString(" not followed: Merge's API does not redirect, so check the base URL")
	}
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
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}
