package mergelink

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/mergelink/mergelink/internal/validate"
)

// Do makes any other Unified API call of the account's category, through
// the Client's transport: method to path, relative to the category's API
// ("https://api.merge.dev/api/hris/v1/" for an HRIS account), with body,
// when not nil, sent as JSON, and a 2xx answer decoded into out, when not
// nil, as encoding/json does. It is the door to the rest of the Unified API
// (employees, candidates, passthrough) without a second client:
//
//	var emp struct {
//		ID        string `json:"id"`
//		FirstName string `json:"first_name"`
//	}
//	err := acct.Do(ctx, http.MethodGet, "employees/"+url.PathEscape(id), nil, &emp)
//
// path may carry a query ("employees?page_size=10"); it must be relative:
// no scheme, no host, no leading '/', no "." or ".." segment, no fragment,
// valid UTF-8. Escape an id you put in it with url.PathEscape. A write
// (POST, PUT, PATCH, DELETE) carries an Idempotency-Key, the same on every
// retry, so that a retry cannot act twice.
//
// It fails with a *ValidationError, having sent nothing, when the account,
// method, path, body or out is wrong (out must be nil or a non-nil
// pointer; GET and HEAD send no body; every string of body must be valid
// UTF-8, and every value encodable as JSON); with an *APIError when Merge
// refuses; and with a *DecodeError when a 2xx answer does not decode into
// out.
func (a *Account) Do(ctx context.Context, method, path string, body, out any) error {
	if err := a.ready("Account.Do"); err != nil {
		return err
	}
	ck := validate.New("Account.Do")
	a.validate(ck)
	switch method {
	case http.MethodGet, http.MethodHead:
		if body != nil {
			ck.Add("body", "must be nil: a "+method+" sends no body", "")
		}
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		ck.Add("method", "must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", validate.Quote(method))
	}
	rel, shown := checkUnifiedPath(ck, "path", path, true)
	if body != nil {
		ck.Strings("body", body)
	}
	if out != nil {
		if v := reflect.ValueOf(out); v.Kind() != reflect.Pointer || v.IsNil() {
			ck.Add("out", "must be nil or a non-nil pointer to decode the answer into", "")
		}
	}
	if err := ck.Err(); err != nil {
		return err
	}
	_, err := a.do(ctx, method, rel, shown, body, out)
	return err
}

// Paginate lists the items of one of Merge's cursor lists of a's category,
// such as "employees" or "candidates", decoding each item of each page's
// results into a T: a struct of your own with the fields you need, or
// map[string]any. query filters the list (page_size, modified_after,
// expand...); a cursor in it names the first page to read. The pages come
// through the same transport as every call, with the account's token.
//
//	for e, err := range mergelink.Paginate[Employee](ctx, acct, "employees", url.Values{"page_size": {"100"}}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(e.ID, e.FirstName)
//	}
//
// Paginate follows each page's next cursor to the last page. Merge sends
// next as a bare cursor, which is asked of the same endpoint: a next that
// is a URL is never followed, so nothing (nor the API key) goes to another
// host. A page already read (a cursor cycle) or more than a bound of pages
// no real list reaches ends the listing.
//
// On failure it yields one error, with a zero T, and stops: a
// *ValidationError, before any request, when a or path is wrong (path
// follows Do's rules and holds no query: put it in query); an *APIError
// when Merge refuses a page; a *DecodeError when a page cannot be read,
// its next is not a bare cursor, or the pages cycle.
func Paginate[T any](ctx context.Context, a *Account, path string, query url.Values) iter.Seq2[T, error] {
	if err := a.ready("Paginate"); err != nil {
		return failed[T](err)
	}
	ck := validate.New("Paginate")
	a.validate(ck)
	rel, shown := checkUnifiedPath(ck, "path", path, false)
	ck.Strings("query", query)
	if err := ck.Err(); err != nil {
		return failed[T](err)
	}
	base, basePath := a.base()
	return cursorList[T](ctx, a.c.s.Transport, base+rel, basePath+shown, query, http.Header{AccountTokenHeader: {*a.token}})
}

// failed returns an iterator that yields err alone.
func failed[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

// checkUnifiedPath checks path, relative to a category's API, and returns
// it as it is sent (escaped, with its query when withQuery allows one) and
// as errors show it (without the query, which may hold a secret). A
// refused path shows as validate.QuoteURL shows a URL: its user info, query
// and fragment may hold a token.
func checkUnifiedPath(ck *validate.Checker, field, path string, withQuery bool) (rel, shown string) {
	value := validate.QuoteURL(path)
	const relative = `must be relative to the category's API, such as "employees" or "employees/{id}"`
	if path == "" {
		ck.Add(field, "required: "+relative[len("must be "):], "")
		return "", ""
	}
	if !utf8.ValidString(path) {
		ck.UTF8(field, path)
		return "", ""
	}
	if strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		ck.Add(field, "must hold no control characters or backslashes", "")
		return "", ""
	}
	u, err := url.Parse(path)
	switch {
	case err != nil:
		ck.Add(field, "must be a URL path: "+relative[len("must be "):], value)
		return "", ""
	case u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || strings.HasPrefix(path, "/"):
		ck.Add(field, relative+", with no scheme, host or leading '/'", value)
		return "", ""
	case strings.Contains(path, "#"):
		ck.Add(field, "must hold no fragment ('#')", value)
		return "", ""
	case !withQuery && strings.Contains(path, "?"):
		ck.Add(field, "must hold no query: pass it in query", value)
		return "", ""
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			ck.Add(field, `must hold no "." or ".." segment, escaped or not`, value)
			return "", ""
		}
	}
	rel = u.EscapedPath()
	if u.RawQuery != "" {
		return rel + "?" + u.RawQuery, u.EscapedPath()
	}
	return rel, rel
}
