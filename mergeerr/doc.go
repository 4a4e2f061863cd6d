// Package mergeerr defines the errors that every package of mergelink
// returns: *APIError for a non-2xx answer (or a redirect, which the SDK
// never follows), *DecodeError for a 2xx answer it cannot use, and
// *ValidationError for bad input that was never sent.
//
// The root package mergelink and package agenthandler export the same types
// under the same names (as aliases), so code may use either: errors.As with
// a *mergelink.APIError matches an error from an agenthandler call, and
// errors.Is with mergelink.ErrNotFound matches mergeerr.ErrNotFound.
//
// It imports nothing of the module, so that any package may use it.
package mergeerr
