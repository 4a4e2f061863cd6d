package transport

import (
	"net/http"
	"time"
)

// This file holds what HTTP code outside Do needs (an MCP client's, in the
// agentmcp module) to authenticate as Do does and to fail as Do fails.

// Authorize sets the Authorization header of h to the API key as a Bearer
// token, and its User-Agent, as Do does. The caller must send h only to the
// host the key is for, and never print it.
func (t *Transport) Authorize(h http.Header) {
	h.Set("Authorization", *t.auth)
	h.Set("User-Agent", t.agent)
}

// NewAPIError returns the *APIError of a non-2xx answer resp to one request
// (method, and path, which must hold no secret), whose body the caller read
// up to its limit: truncated says there was more.
func NewAPIError(method, path string, resp *http.Response, body []byte, truncated bool) *APIError {
	return newAPIError(method, path, resp, body, truncated, 1, time.Now())
}
