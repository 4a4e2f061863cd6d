package agenthandler

import "github.com/mergelink/mergelink/mergeerr"

// The error types of Agent Handler calls are those of the root package:
// both alias the types of package mergeerr, whose documentation lists their
// fields, so a *mergelink.APIError and an *agenthandler.APIError are one
// type and errors.As finds either.

// APIError is the error for a non-2xx answer (or a redirect, never
// followed), returned after the last retry; its Code holds Agent Handler's
// error code. See [mergeerr.APIError].
type APIError = mergeerr.APIError

// ErrorDetail is one entry of a Merge error body's "errors" list; see
// [mergeerr.ErrorDetail].
type ErrorDetail = mergeerr.ErrorDetail

// DecodeError is the error for a 2xx answer that cannot be used; see
// [mergeerr.DecodeError].
type DecodeError = mergeerr.DecodeError

// ValidationError lists every problem of a params value; a call that
// returns it has sent nothing. See [mergeerr.ValidationError].
type ValidationError = mergeerr.ValidationError

// ValidationProblem is one problem of a ValidationError; see
// [mergeerr.ValidationProblem].
type ValidationProblem = mergeerr.ValidationProblem

// Sentinel errors that an *APIError matches with errors.Is; they are the
// root package's.
var (
	// ErrUnauthorized matches a 401: the API key is wrong or revoked.
	ErrUnauthorized = mergeerr.ErrUnauthorized
	// ErrForbidden matches a 403.
	ErrForbidden = mergeerr.ErrForbidden
	// ErrNotFound matches a 404, such as a registered user that does not
	// exist.
	ErrNotFound = mergeerr.ErrNotFound
	// ErrRateLimited matches a 429 that outlasted the retries.
	ErrRateLimited = mergeerr.ErrRateLimited
	// ErrServer matches a 5xx (500 to 599) that outlasted the retries.
	ErrServer = mergeerr.ErrServer
	// ErrNoClient matches the error of any call on a nil or zero Client
	// (one not got from mergelink.Client.AgentHandler), which sends
	// nothing.
	ErrNoClient = mergeerr.ErrNoClient
)
