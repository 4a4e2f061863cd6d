package agenthandler_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/mergelink/mergelink/agenthandler"
)

// FuzzAppendCallbackURL checks that AppendCallbackURL succeeds only for a
// callback URL with an origin, that its result parses, carries that URL as
// its one callback_url parameter and is otherwise the magic link URL
// (scheme, host, path, other parameters and fragment), and that its errors
// never show the magic link URL, which holds a link token. OriginOf's
// result must be its own origin. Seeds are in
// testdata/fuzz/FuzzAppendCallbackURL.
func FuzzAppendCallbackURL(f *testing.F) {
	f.Add("https://ah.merge.dev/link/lt-1?x=1#frag", "https://myapp.com/cb?a=b&c=d")
	f.Add("http://127.0.0.1:8080/link?", "myapp:///done")
	f.Fuzz(func(t *testing.T, magic, callback string) {
		origin, originErr := agenthandler.OriginOf(callback)
		if originErr == nil {
			if again, err := agenthandler.OriginOf(origin); err != nil || again != origin {
				t.Fatalf("OriginOf(%q) = %q, but OriginOf of that = %q, %v", callback, origin, again, err)
			}
		}
		got, err := agenthandler.AppendCallbackURL(magic, callback)
		if err != nil {
			if len(magic) >= 8 && !strings.Contains(callback, magic) && strings.Contains(err.Error(), magic) && !inErrorOfCallback(callback, magic) {
				t.Fatalf("error %q shows the magic link URL", err)
			}
			return
		}
		if originErr != nil {
			t.Fatalf("AppendCallbackURL accepted %q, which has no origin: %v", callback, originErr)
		}
		m, err := url.Parse(magic)
		if err != nil {
			t.Fatalf("accepted a magic link URL that does not parse: %v", err)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("AppendCallbackURL(%q, %q) = %q, which does not parse: %v", magic, callback, got, err)
		}
		if u.Scheme != m.Scheme || u.Host != m.Host || u.EscapedPath() != m.EscapedPath() || u.EscapedFragment() != m.EscapedFragment() {
			t.Fatalf("AppendCallbackURL(%q, %q) = %q changed the URL around the query", magic, callback, got)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("AppendCallbackURL(%q, %q) = %q has a malformed query: %v", magic, callback, got, err)
		}
		if cb := q["callback_url"]; len(cb) != 1 || cb[0] != callback {
			t.Fatalf("AppendCallbackURL(%q, %q) = %q: callback_url is %q", magic, callback, got, cb)
		}
		q.Del("callback_url")
		if mq, _ := url.ParseQuery(m.RawQuery); !reflect.DeepEqual(q, mq) {
			t.Fatalf("AppendCallbackURL(%q, %q) = %q: the other parameters are %v, not %v", magic, callback, got, q, mq)
		}
		if head, _, _ := strings.Cut(magic, "#"); !strings.HasPrefix(got, head) {
			t.Fatalf("AppendCallbackURL(%q, %q) = %q does not keep the URL byte for byte", magic, callback, got)
		}
	})
}

// inErrorOfCallback reports whether text is in the error that callback
// meets with another magic link URL: then it comes from the callback's
// error, whose advice quotes examples (magic "https://m" is in
// "https://myapp.com"), not from the magic link URL.
func inErrorOfCallback(callback, text string) bool {
	_, err := agenthandler.AppendCallbackURL("https://ah-api.merge.invalid/magic-link/lt", callback)
	return err != nil && strings.Contains(err.Error(), text)
}

// FuzzParseCallback checks ParseCallback against its documented rules on
// any query: no expected state, no state, another or several states, no
// status, each with its error, and otherwise the state and status; and
// that its errors never show a state. Seeds are in
// testdata/fuzz/FuzzParseCallback.
func FuzzParseCallback(f *testing.F) {
	f.Add("status=success&state=s1", "s1")
	f.Add("state=s1&state=s1&status=success", "s1")
	f.Add("status=success&state=s1&status=failed", "s1")
	f.Fuzz(func(t *testing.T, rawQuery, want string) {
		q, _ := url.ParseQuery(rawQuery) // what parses of a malformed query
		res, err := agenthandler.ParseCallback(q, want)
		states := q["state"]
		var wantErr error
		switch {
		case want == "":
			wantErr = agenthandler.ErrNoExpectedState
		case len(states) == 0 || states[0] == "":
			wantErr = agenthandler.ErrStateMissing
		case len(states) > 1 || states[0] != want:
			wantErr = agenthandler.ErrStateMismatch
		case len(q["status"]) > 1:
			wantErr = agenthandler.ErrStatusRepeated
		case q.Get("status") == "":
			wantErr = agenthandler.ErrStatusMissing
		}
		if wantErr != nil {
			if !errors.Is(err, wantErr) || res != nil {
				t.Fatalf("ParseCallback(%q, %q) = %v, %v; want %v", rawQuery, want, res, err, wantErr)
			}
			for _, s := range append(states, want) {
				if len(s) >= 4 && strings.Contains(err.Error(), s) && !strings.Contains(wantErr.Error(), s) {
					t.Fatalf("error %q shows the state %q", err, s)
				}
			}
			return
		}
		status := q.Get("status")
		if err != nil || res.State != want || res.Status != status || res.Succeeded() != (status == agenthandler.StatusSuccess) {
			t.Fatalf("ParseCallback(%q, %q) = %+v, %v; want state %q and status %q", rawQuery, want, res, err, want, status)
		}
	})
}

// FuzzParseAuthenticateResult checks that a result it accepts has a magic
// link URL that is absolute, with a host, and https (http only on
// loopback), and that its errors never show the URL or link token. Seeds
// are in testdata/fuzz/FuzzParseAuthenticateResult.
func FuzzParseAuthenticateResult(f *testing.F) {
	f.Add([]byte(`{"message":"Open this link","magic_link_url":"https://ah.merge.dev/link/lt-1","link_token":"lt-1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := agenthandler.ParseAuthenticateResult(data)
		if err != nil {
			var m map[string]any
			if json.Unmarshal(data, &m) == nil {
				for _, k := range []string{"magic_link_url", "link_token"} {
					// Only values that hold "://" cannot be part of the message itself.
					if s, ok := m[k].(string); ok && strings.Contains(s, "://") && strings.Contains(err.Error(), s) {
						t.Fatalf("error %q shows the %s", err, k)
					}
				}
			}
			return
		}
		u, err := url.Parse(r.MagicLinkURL)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "":
			t.Fatalf("accepted magic link URL %q is not absolute with a host (%v)", r.MagicLinkURL, err)
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			t.Fatalf("accepted magic link URL %q is neither https nor http on loopback", r.MagicLinkURL)
		}
	})
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()
}
