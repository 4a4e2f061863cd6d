package validate

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mergelink/mergelink/internal/secret"
)

// FuzzBaseURL checks that a base URL BaseURL accepts is one the API key may
// be sent to (https, or http on loopback; no user info), normalises to
// itself, and keeps the paths the client appends to it on its host, as
// paths. Seeds are in testdata/fuzz/FuzzBaseURL.
func FuzzBaseURL(f *testing.F) {
	f.Add("https://api.merge.dev/api")
	f.Add("http://[::1]:9/api/")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := BaseURL(raw)
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("BaseURL(%q) = %q, which does not parse: %v", raw, got, err)
		}
		switch {
		case u.Host == "" || u.User != nil:
			t.Fatalf("BaseURL(%q) = %q: no host, or user info", raw, got)
		case u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())):
			t.Fatalf("BaseURL(%q) = %q: neither https nor http on loopback", raw, got)
		case strings.HasSuffix(got, "/"):
			t.Fatalf("BaseURL(%q) = %q ends with a slash", raw, got)
		}
		if again, err := BaseURL(got); err != nil || again != got {
			t.Fatalf("BaseURL(%q) = %q, but BaseURL of that = %q, %v", raw, got, again, err)
		}
		const call = "/hris/v1/link-token"
		j, err := url.Parse(got + call)
		if err != nil || j.Scheme != u.Scheme || j.Host != u.Host || !strings.HasSuffix(j.Path, call) ||
			j.RawQuery != "" || j.ForceQuery || j.Fragment != "" {
			t.Fatalf("BaseURL(%q) = %q: appending %s gives %#v (%v), not a path on the same host", raw, got, call, j, err)
		}
	})
}

// loopbackHost is the fuzz targets' own idea of a loopback host, as
// url.URL.Hostname gives it, so as not to check IsLoopback with itself.
func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()
}

// FuzzOrigin checks that an origin Origin returns is its own origin,
// lower-case, with no path, query or user info, and allowed as a callback:
// https, a custom scheme, or http on loopback. Seeds are in
// testdata/fuzz/FuzzOrigin.
func FuzzOrigin(f *testing.F) {
	f.Add("https://MyApp.com:443/cb?x=1#y")
	f.Add("com.example.app://host/path")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Origin(raw)
		if err != nil {
			return
		}
		if again, err := Origin(got); err != nil || again != got {
			t.Fatalf("Origin(%q) = %q, but Origin of that = %q, %v", raw, got, again, err)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("Origin(%q) = %q, which does not parse: %v", raw, got, err)
		}
		switch {
		case got != strings.ToLower(got):
			t.Fatalf("Origin(%q) = %q is not lower-case", raw, got)
		case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
			t.Fatalf("Origin(%q) = %q has more than a scheme and host", raw, got)
		case got != u.Scheme+"://"+u.Host:
			t.Fatalf("Origin(%q) = %q is not scheme://host", raw, got)
		case u.Scheme == "http" && !loopbackHost(u.Hostname()), u.Scheme == "https" && u.Host == "":
			t.Fatalf("Origin(%q) = %q: http off loopback, or https without a host", raw, got)
		case u.Scheme == "javascript" || u.Scheme == "data" || u.Scheme == "file":
			t.Fatalf("Origin(%q) = %q: a scheme that cannot be a callback", raw, got)
		}
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
				t.Fatalf("Origin(%q) = %q: port %q is not 1 to 65535 without leading zeros", raw, got, p)
			}
			if u.Scheme == "https" && n == 443 || u.Scheme == "http" && n == 80 {
				t.Fatalf("Origin(%q) = %q keeps the default port", raw, got)
			}
		}
	})
}

// FuzzQueryKeys checks that QueryKeys finds every parameter that Go's
// url.ParseQuery finds in the query of a URL, so that a rule about a
// parameter (no state, no status of the callback URL's own) is never
// weaker than a server's reading, and that it never fails. Seeds are in
// testdata/fuzz/FuzzQueryKeys.
func FuzzQueryKeys(f *testing.F) {
	f.Add("https://myapp.com/cb?state=1&st%61tus=2#x")
	f.Add("myapp:///done?a=%zz;status=1")
	f.Fuzz(func(t *testing.T, raw string) {
		keys := QueryKeys(raw)
		head, _, _ := strings.Cut(raw, "#")
		_, query, _ := strings.Cut(head, "?")
		parsed, _ := url.ParseQuery(query) // what parses, even when some does not
		for k := range parsed {
			found := false
			for _, got := range keys {
				found = found || got == k
			}
			if !found {
				t.Fatalf("QueryKeys(%q) = %q misses %q", raw, keys, k)
			}
		}
	})
}

// FuzzQuoteURL checks that QuoteURL quotes what secret.URL shows (whose
// own fuzz target checks the rule), cut as Quote cuts. Seeds are in
// testdata/fuzz/FuzzQuoteURL.
func FuzzQuoteURL(f *testing.F) {
	f.Add("https://user:pw@api.merge.dev/api?k=v#f")
	f.Add("https:/user:pw@host")
	f.Fuzz(func(t *testing.T, raw string) {
		got := QuoteURL(raw)
		shown, err := strconv.Unquote(strings.TrimSuffix(got, "…"))
		if err != nil {
			t.Fatalf("QuoteURL(%q) = %s is not a quoted string: %v", raw, got, err)
		}
		masked := secret.URL(raw)
		if cut := strings.HasSuffix(got, "…"); cut && !strings.HasPrefix(string([]rune(masked)), shown) || !cut && shown != masked {
			t.Fatalf("QuoteURL(%q) = %s, not what secret.URL shows: %q", raw, got, masked)
		}
	})
}
