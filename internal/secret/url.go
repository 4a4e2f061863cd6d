package secret

import (
	"errors"
	"net/url"
	"strings"
)

// Mask stands for what URL hides.
const Mask = "***"

// URL returns raw as the module shows a URL, in an error, a log line or a
// printed value: the one rule for every URL, whatever it is. Its user info
// (everything from the scheme's "//", or the start, to the last '@'), its
// query and its fragment each show as Mask, however malformed raw is:
// "https://user:pw@host/p?token=t#f" shows as "https://***@host/p?***#***".
// The scheme, host and path stay, so the reader can tell which URL it was;
// a URL with an '@' in its path loses a little more, and one with an '@'
// after a '?' or '#' shows only its scheme.
func URL(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return maskQuery(raw)
	}
	start := 0
	if i := strings.Index(raw[:at], "//"); i >= 0 && isSchemePrefix(raw[:i]) {
		start = i + 2
	}
	if q := strings.IndexAny(raw, "?#"); q >= 0 && q < at {
		// An '@' after a '?' or '#': the user info holds one of those, or
		// the query or fragment an '@'. What follows the '@' may be either,
		// so none of it shows.
		return raw[:start] + Mask
	}
	return raw[:start] + Mask + "@" + maskQuery(raw[at+1:])
}

// maskQuery returns s, which holds no user info, with its query and
// fragment masked.
func maskQuery(s string) string {
	i := strings.IndexAny(s, "?#")
	switch {
	case i < 0:
		return s
	case s[i] == '#':
		return s[:i] + "#" + Mask
	case strings.Contains(s[i:], "#"):
		return s[:i] + "?" + Mask + "#" + Mask
	default:
		return s[:i] + "?" + Mask
	}
}

// isSchemePrefix reports whether s is empty or a scheme and its colon,
// such as "https:".
func isSchemePrefix(s string) bool {
	if s == "" {
		return true
	}
	scheme, ok := strings.CutSuffix(s, ":")
	if !ok || scheme == "" {
		return false
	}
	for i, r := range scheme {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// URLError masks the URL that the *url.Error in err's chain quotes (the
// error of an http.Client, or of url.Parse), by URL's rule, in place, and
// returns err. Call it before wrapping err: fmt.Errorf keeps the text of
// what it wraps as it was.
func URLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = URL(ue.URL)
	}
	return err
}
