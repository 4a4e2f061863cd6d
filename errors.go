package mergelink

import (
	"net/http"

	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/mergeerr"
)

// The error types are defined in package mergeerr, whose documentation
// lists their fields and methods; package agenthandler exports the same
// aliases, so errors.As and errors.Is work whichever package a call is in.

// APIError is the error for a non-2xx answer, returned after the last retry:
// the status, what Merge said (errors list, detail or code), the request id,
// Retry-After and the raw body, bounded. A redirect is one too, with
// Location set: the client never follows one. Use errors.As to get it and
// errors.Is with ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited
// or ErrServer to test its kind. Its fields are documented in
// [mergeerr.APIError].
type APIError = mergeerr.APIError

// ErrorDetail is one entry of a Merge error body's "errors" list:
// problem_type, title, detail and source.pointer; see
// [mergeerr.ErrorDetail].
type ErrorDetail = mergeerr.ErrorDetail

// DecodeError is the error for a 2xx answer whose body is not the JSON
// expected, or is larger than the 8 MiB limit; see [mergeerr.DecodeError].
type DecodeError = mergeerr.DecodeError

// ValidationError lists every problem of a params value or of NewClient's
// options: field, rule and, where it is not secret, value. A call that
// returns it has sent nothing. See [mergeerr.ValidationError].
type ValidationError = mergeerr.ValidationError

// ValidationProblem is one problem of a ValidationError; see
// [mergeerr.ValidationProblem].
type ValidationProblem = mergeerr.ValidationProblem

// Sentinel errors that an *APIError matches with errors.Is.
var (
	// ErrUnauthorized matches a 401: the API key is wrong or revoked.
	ErrUnauthorized = mergeerr.ErrUnauthorized
	// ErrForbidden matches a 403.
	ErrForbidden = mergeerr.ErrForbidden
	// ErrNotFound matches a 404; Merge also answers 404 to a test key used
	// against production and the reverse.
	ErrNotFound = mergeerr.ErrNotFound
	// ErrRateLimited matches a 429 that outlasted the retries; see
	// APIError.RetryAfter.
	ErrRateLimited = mergeerr.ErrRateLimited
	// ErrServer matches a 5xx (500 to 599) that outlasted the retries.
	ErrServer = mergeerr.ErrServer
	// ErrNoClient matches the error of any call on a nil or zero Client
	// (one not made by NewClient), which sends nothing.
	ErrNoClient = mergeerr.ErrNoClient
)

// NewAPIError returns the *APIError that a call would return for resp, a
// non-2xx answer to a request sent to Merge by your own HTTP code (the
// agentmcp module's MCP client is such code): method and path, which must
// hold no secret, name the request; body is the answer's body as read up
// to a limit of yours, and truncated says there was more. It reads the
// request id, Retry-After, where a redirect (3xx) points (Location,
// masked) and what Merge said (errors, detail, code) as the client does,
// so that errors.Is with ErrUnauthorized and the other sentinels works
// the same.
func NewAPIError(method, path string, resp *http.Response, body []byte, truncated bool) *APIError {
	return transport.NewAPIError(method, path, resp, body, truncated)
}
