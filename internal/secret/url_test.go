package secret

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURLMasksUserInfoQueryAndFragment(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://api.merge.dev/api/hris/v1":                "https://api.merge.dev/api/hris/v1",
		"https://user:TOKEN@api.merge.dev/api":             "https://***@api.merge.dev/api",
		"https://api.merge.dev/api?api_key=TOKEN":          "https://api.merge.dev/api?***",
		"https://api.merge.dev/api#TOKEN":                  "https://api.merge.dev/api#***",
		"https://u:TOKEN@h/p?x=TOKEN#TOKEN":                "https://***@h/p?***#***",
		"https://h/p#frag?TOKEN":                           "https://h/p#***",
		"employees#TOKEN":                                  "employees#***",
		"user:TOKEN@host/p":                                "***@host/p",
		"http://u:p@[bad/x?TOKEN":                          "http://***@[bad/x?***",
		"https://u:pa/ss@h/p":                              "https://***@h/p",
		"postgres://app@db/x?password=TOKEN&sslmode=bogus": "postgres://***@db/x?***",
		"https://h/cb?next=a@TOKEN":                        "https://***", // '@' in the query: more hidden, never less
		"https://u:pa?ss#w@h/p?TOKEN":                      "https://***",
		"https://h/users/@me?TOKEN":                        "https://***@me?***",
		"":                                                 "",
	} {
		assert.Equal(t, want, URL(raw), "URL(%q)", raw)
	}
}

func TestURLErrorMasksTheQuotedURL(t *testing.T) {
	t.Parallel()
	_, perr := url.Parse("https://u:TOKEN@h/p?k=TOKEN" + strings.Repeat("\x7f", 1)) // a control character: it does not parse
	err := fmt.Errorf("sending: %w", URLError(perr))
	assert.NotContains(t, err.Error(), "TOKEN")
	assert.Contains(t, err.Error(), "https://***@h/p?***")
	assert.Nil(t, URLError(nil))
	plain := errors.New("no URL in here")
	assert.Same(t, plain, URLError(plain))
}

// FuzzURL checks the one rule on any string: what URL shows is a prefix of
// raw that ends at the scheme's "//" (or is empty) and holds no '@', then,
// when raw has an '@', Mask in place of the user info (and of everything
// when a '?' or '#' comes before the last '@'), then raw's host and path
// as they are, then Mask in place of a query and of a fragment. What it
// shows is shown again unchanged.
func FuzzURL(f *testing.F) {
	for _, seed := range []string{"https://user:pw@api.merge.dev/api?k=v#f", "https:/user:pw@host", "a@b@c?d#e", "#?@", "//@?"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := URL(raw)
		if again := URL(got); again != got {
			t.Fatalf("URL(%q) = %q, but URL of that is %q", raw, got, again)
		}
		visible, rest := got, raw
		if at := strings.LastIndex(raw, "@"); at >= 0 {
			prefix, after, ok := strings.Cut(got, Mask)
			if !ok || strings.Contains(prefix, "@") || !strings.HasPrefix(raw, prefix) || (prefix != "" && !strings.HasSuffix(prefix, "//")) {
				t.Fatalf("URL(%q) = %q: the user info is not masked", raw, got)
			}
			if q := strings.IndexAny(raw, "?#"); q >= 0 && q < at {
				if after != "" {
					t.Fatalf("URL(%q) = %q: an '@' after a query or fragment, yet %q shows", raw, got, after)
				}
				return
			}
			if !strings.HasPrefix(after, "@") {
				t.Fatalf("URL(%q) = %q: the host does not follow the masked user info", raw, got)
			}
			visible, rest = after[1:], raw[at+1:]
		}
		j := strings.IndexAny(rest, "?#")
		if j < 0 {
			if visible != rest {
				t.Fatalf("URL(%q) = %q: changed what holds no secret", raw, got)
			}
			return
		}
		want := "#" + Mask
		if rest[j] == '?' {
			want = "?" + Mask
			if strings.Contains(rest[j:], "#") {
				want += "#" + Mask
			}
		}
		if visible != rest[:j]+want {
			t.Fatalf("URL(%q) = %q: want %q for what follows the user info", raw, got, rest[:j]+want)
		}
	})
}

// FuzzURLError checks that the error of a URL that does not parse, once
// masked, quotes what it quoted (raw, or raw without its fragment) as URL
// shows it.
func FuzzURLError(f *testing.F) {
	f.Add("https://u:TOKEN@h/p?k=TOKEN\x7f")
	f.Add("http://[::1/x#TOKEN")
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := url.Parse(raw)
		var ue *url.Error
		if !errors.As(err, &ue) {
			return
		}
		quoted := ue.URL
		if !strings.HasPrefix(raw, quoted) {
			t.Fatalf("url.Parse(%q) quotes %q", raw, quoted)
		}
		if URLError(err); ue.URL != URL(quoted) {
			t.Fatalf("url.Parse(%q) fails quoting %q, not %q", raw, ue.URL, URL(quoted))
		}
	})
}
