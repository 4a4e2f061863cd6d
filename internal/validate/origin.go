package validate

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/mergelink/mergelink/internal/secret"
)

// IsLoopback reports whether host (without port, IPv6 in brackets or not)
// names this machine: localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		if host, ok = strings.CutSuffix(inner, "]"); !ok {
			return false
		}
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL checks a base URL an API key will be sent to: absolute, https, or
// http on a loopback host only, with no user info, query or fragment. It
// returns the URL without a trailing slash.
func BaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return "", errors.New("must be an absolute URL such as https://api.merge.dev/api")
	}
	switch {
	case !u.IsAbs() || u.Host == "":
		return "", errors.New("must be an absolute URL such as https://api.merge.dev/api")
	case u.User != nil:
		return "", errors.New("must not carry user info")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#"):
		return "", errors.New("must have no query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return "", errors.New("must use https: plain http is allowed only on loopback (localhost, 127.0.0.0/8, ::1), since the API key must not cross a network in clear text")
	default:
		return "", fmt.Errorf("must use https, not %q", u.Scheme)
	}
	return strings.TrimRight(raw, "/"), nil
}

// Origin returns the origin of a callback URL or origin: scheme and host
// (and a port other than the scheme's default), lower-cased. The scheme is
// https, a custom one such as myapp (origin "myapp://"), or http on a
// loopback host only. The origin is its own origin: a host that would not
// survive being written back (an IPv6 zone, say) is refused, and so is a
// URL that holds a space, a control or an invisible character anywhere
// (an error matching ErrNotPlain).
func Origin(raw string) (string, error) {
	o, err := origin(raw)
	if err != nil {
		return "", err
	}
	if again, err := origin(o); err != nil || again != o {
		return "", errors.New("must have a valid host, such as myapp.com")
	}
	return o, nil
}

func origin(raw string) (string, error) {
	// The URL is checked as it is written, as it will be sent: a space
	// trimmed here would still reach Merge.
	if err := plainURL(raw); err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "", errors.New("must be an absolute URL with a scheme, such as https://myapp.com or myapp://")
	}
	if u.Opaque != "" {
		return "", errors.New("must have the form scheme://host, such as https://myapp.com or myapp://")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	switch scheme {
	case "https", "http":
		if host == "" {
			return "", fmt.Errorf("%s URL needs a host", scheme)
		}
		if scheme == "http" && !IsLoopback(host) {
			return "", errors.New("must use https or a custom scheme: plain http is allowed only on localhost and loopback addresses")
		}
	case "javascript", "data", "file", "vbscript", "blob", "ftp", "ws", "wss":
		return "", fmt.Errorf("scheme %q cannot be a callback", scheme)
	}
	if u.User != nil {
		return "", errors.New("must not carry user info")
	}
	if port != "" {
		// A port is 1 to 65535; leading zeros do not make another port,
		// as browsers read them: https://host:0443 is https://host.
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return "", fmt.Errorf("must have a port from 1 to 65535, not %q", port)
		}
		port = strconv.FormatUint(n, 10)
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		}
	}
	if strings.Contains(host, ":") {
		// Only an IPv6 address has colons in its host; Go before 1.26
		// parses other such hosts, which later versions refuse.
		if net.ParseIP(host) == nil {
			return "", errors.New("must have a valid host, such as myapp.com")
		}
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// QuoteURL is Quote for a URL: it quotes what secret.URL shows, the one
// rule by which the module shows a URL, with its user info, query and
// fragment masked as "***", however malformed the URL.
func QuoteURL(raw string) string { return Quote(secret.URL(raw)) }
