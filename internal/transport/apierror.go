package transport

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/mergeerr"
)

// The error types and sentinels live in the public package mergeerr, so
// that users see their fields; these aliases keep the transport's names.
type (
	APIError    = mergeerr.APIError
	ErrorDetail = mergeerr.ErrorDetail
	DecodeError = mergeerr.DecodeError
)

// Sentinels that an *APIError matches with errors.Is.
var (
	ErrUnauthorized = mergeerr.ErrUnauthorized
	ErrForbidden    = mergeerr.ErrForbidden
	ErrNotFound     = mergeerr.ErrNotFound
	ErrRateLimited  = mergeerr.ErrRateLimited
	ErrServer       = mergeerr.ErrServer
)

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
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		loc := resp.Header.Get(heldLocation)
		if loc == "" { // an answer the transport did not see: NewAPIError's
			loc = resp.Header.Get("Location")
		}
		e.Location = redirectTarget(loc)
	}
	e.Errors, e.Detail, e.Code = parseProblems(body)
	return e
}

// maxLocation bounds the Location kept in an *APIError.
const maxLocation = 2048

// redirectTarget is where a Location header points, as the module shows
// every URL (secret.URL: user info, query and fragment masked), cut at
// maxLocation bytes.
func redirectTarget(loc string) string {
	loc = secret.URL(loc)
	if len(loc) > maxLocation {
		loc = strings.ToValidUTF8(loc[:maxLocation], "") + "..."
	}
	return loc
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
