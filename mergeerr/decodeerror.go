package mergeerr

import "fmt"

// DecodeError is the error for a 2xx answer that cannot be used: its body
// is not the JSON expected, or is larger than the limit (8 MiB by default).
type DecodeError struct {
	// Method and Path name the request; Path never holds a secret.
	Method, Path string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Truncated reports that the body was larger than the limit and was not
	// decoded.
	Truncated bool
	// Limit is the body limit in bytes.
	Limit int64
	// Err is the JSON error, if any.
	Err error
}

// Error says which answer could not be used and why.
func (e *DecodeError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("mergelink: %s %s: %d response body is larger than %d bytes; it was cut there and not decoded", e.Method, e.Path, e.StatusCode, e.Limit)
	}
	return fmt.Sprintf("mergelink: %s %s: decoding %d response: %v", e.Method, e.Path, e.StatusCode, e.Err)
}

// Unwrap returns Err, so that errors.As finds a *json.SyntaxError, say.
func (e *DecodeError) Unwrap() error { return e.Err }
