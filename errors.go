package mergelink

import (
	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// APIError is the error for a non-2xx answer, returned after the last retry:
// the status, what Merge said (errors list, detail or code), the request id,
// Retry-After and the raw body, bounded. Use errors.As to get it and
// errors.Is with ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited
// or ErrServer to test its kind.
type APIError = transport.APIError

// ErrorDetail is one entry of a Merge error body's "errors" list:
// problem_type, title, detail and source.pointer.
type ErrorDetail = transport.ErrorDetail

// DecodeError is the error for a 2xx answer whose body is not the JSON
// expected, or is larger than the 8 MiB limit.
type DecodeError = transport.DecodeError

// ValidationError lists every problem of a params value or of NewClient's
// options: field, rule and, where it is not secret, value. A call that
// returns it has sent nothing.
type ValidationError = validate.ValidationError

// ValidationProblem is one problem of a ValidationError.
type ValidationProblem = validate.Problem

// Sentinel errors that an *APIError matches with errors.Is.
var (
	// ErrUnauthorized matches a 401: the API key is wrong or revoked.
	ErrUnauthorized = transport.ErrUnauthorized
	// ErrForbidden matches a 403.
	ErrForbidden = transport.ErrForbidden
	// ErrNotFound matches a 404; Merge also answers 404 to a test key used
	// against production and the reverse.
	ErrNotFound = transport.ErrNotFound
	// ErrRateLimited matches a 429 that outlasted the retries; see
	// APIError.RetryAfter.
	ErrRateLimited = transport.ErrRateLimited
	// ErrServer matches a 5xx that outlasted the retries.
	ErrServer = transport.ErrServer
)
