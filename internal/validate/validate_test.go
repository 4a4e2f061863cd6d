package validate

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckerReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := New("ThingParams")
	require.NoError(t, c.Err())
	c.Length("Name", "", 1, 10)
	c.Length("Org", strings.Repeat("é", 11), 1, 10)
	c.Length("Fine", "ok", 1, 10)
	c.UUID("ID", "not-a-uuid")
	c.UUID("Empty", "")
	c.Slug("Integration", "Green House")
	c.Required("Secret", "")
	err := c.Err()
	var ve *ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, "ThingParams", ve.Params)
	fields := []string{}
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"Name", "Org", "ID", "Integration", "Secret"}, fields)
	assert.True(t, ve.Has("Org"))
	assert.False(t, ve.Has("Fine"))
	msg := err.Error()
	assert.Contains(t, msg, "mergelink: invalid ThingParams: Name: required")
	assert.Contains(t, msg, "Org: must be 1 to 10 characters long (got 11 characters)")
	assert.Contains(t, msg, `ID: must be a UUID`)
	assert.Contains(t, msg, `(got "not-a-uuid")`)
	assert.Contains(t, msg, "Secret: required")
}

func TestQuoteCutsLongValues(t *testing.T) {
	t.Parallel()
	q := Quote(strings.Repeat("a", 500))
	assert.Less(t, len(q), 80)
	assert.True(t, strings.HasSuffix(q, "…"))
	assert.Equal(t, `"x\n"`, Quote("x\n"))
}

func TestIsUUIDAndSlug(t *testing.T) {
	t.Parallel()
	assert.True(t, IsUUID("41f11808-5387-4be5-9af2-852a372d61e3"))
	assert.True(t, IsUUID("41F11808-5387-4BE5-9AF2-852A372D61E3"))
	for _, s := range []string{"", "41f11808538742be59af2852a372d61e3", "41f11808-5387-4be5-9af2-852a372d61e", "{41f11808-5387-4be5-9af2-852a372d61e3}"} {
		assert.False(t, IsUUID(s), s)
	}
	for _, s := range []string{"greenhouse", "bamboohr", "google_drive", "microsoft-teams", "x"} {
		assert.True(t, IsSlug(s), s)
	}
	for _, s := range []string{"", "Greenhouse", "green house", "-x", "a/b", strings.Repeat("a", 101)} {
		assert.False(t, IsSlug(s), s)
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"localhost", "LocalHost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"} {
		assert.True(t, IsLoopback(h), h)
	}
	for _, h := range []string{"", "example.com", "10.0.0.1", "192.168.1.1", "localhost.example.com", "128.0.0.1", "::2",
		"::1]", "[::1", "[[::1]]", "]::1["} { // what url.URL.Hostname makes of malformed hosts such as "::1]:0"
		assert.False(t, IsLoopback(h), h)
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"https://api.merge.dev/api":  "https://api.merge.dev/api",
		"https://api.merge.dev/api/": "https://api.merge.dev/api",
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080",
		"http://localhost:1/base":    "http://localhost:1/base",
		"http://[::1]:9/api":         "http://[::1]:9/api",
	}
	for in, want := range ok {
		got, err := BaseURL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	bad := map[string]string{
		"":                                 "absolute",
		"api.merge.dev/api":                "absolute",
		"/api":                             "absolute",
		"http://api.merge.dev/api":         "only on loopback",
		"http://10.0.0.8/api":              "only on loopback",
		"ftp://api.merge.dev":              "must use https",
		"https://user:pw@api.merge.dev":    "user info",
		"https://api.merge.dev/api?x=1":    "no query",
		"https://api.merge.dev/api#frag":   "no query or fragment",
		"https://api.merge.dev/api#":       "no query or fragment", // paths appended would go into the fragment
		"https://api.merge.dev/api?":       "no query or fragment",
		"http://localhost.evil.example/ap": "only on loopback",
		// Refused either way: as not loopback where url.Parse reads a host
		// "::1]", as not a URL where it refuses the host (Go 1.26.8).
		"http://::1]:8080/api": "",
	}
	for in, want := range bad {
		_, err := BaseURL(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"https://myapp.com":                    "https://myapp.com",
		"https://MyApp.com/cb?x=1#y":           "https://myapp.com",
		"https://myapp.com:443/cb":             "https://myapp.com",
		"https://myapp.com:8443/cb":            "https://myapp.com:8443",
		"myapp://":                             "myapp://",
		"MyApp:///integrations/complete":       "myapp://",
		"com.example.app://host/path":          "com.example.app://host",
		"http://localhost:3000/cb":             "http://localhost:3000",
		"http://127.0.0.1/cb":                  "http://127.0.0.1",
		"http://[::1]:8080/x":                  "http://[::1]:8080",
		"https://myapp.com:443":                "https://myapp.com",
		"http://localhost:80/":                 "http://localhost",
		"https://sub.myapp.com/a/b/c?state=no": "https://sub.myapp.com",
	}
	for in, want := range ok {
		got, err := Origin(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "/cb", "myapp.com", "http://myapp.com/cb", "https:///cb", "javascript:alert(1)", "javascript://x", "data://x", "mailto:a@b.c", "https://u:p@myapp.com",
		"a://::", "https://[fe80::1%25en0]/cb", // hosts that do not survive being written back
		"  https://myapp.com/with-space  ", "https://myapp.com/\n", "\u200bhttps://myapp.com"} { // not the URL a reader sees
		_, err := Origin(in)
		assert.Error(t, err, in)
	}
}

// QuoteURL hides user info, query and fragment however the URL is written,
// since an error about a malformed URL is where a password would otherwise
// show.
func TestQuoteURLHidesUserInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, want string }{
		{"https://api.merge.dev/api", `"https://api.merge.dev/api"`},
		{"https://user:s3cret@api.merge.dev/api", `"https://***@api.merge.dev/api"`},
		{"https://s3cret@api.merge.dev", `"https://***@api.merge.dev"`},
		{"myapp://user:s3cret@callback", `"myapp://***@callback"`},
		{"https://user:s3cret@api.merge.dev:port/api?q=1", `"https://***@api.merge.dev:port/api?***"`},
		{"https://user:s3/cr?e#t@api.merge.dev/api", `"https://***"`},
		{"https://user:s3cret@x@api.merge.dev", `"https://***@api.merge.dev"`},
		{"https:/user:s3cret@api.merge.dev", `"***@api.merge.dev"`},
		{"https:user:s3cret@api.merge.dev", `"***@api.merge.dev"`},
		{"//user:s3cret@api.merge.dev", `"//***@api.merge.dev"`},
		{"user:s3cret@api.merge.dev", `"***@api.merge.dev"`},
		{"https:/user:s3//cret@api.merge.dev", `"***@api.merge.dev"`},
		{"https://api.merge.dev/users/@me", `"https://***@me"`},
		{"https://api.merge.dev/api?key=s3cret#s3cret", `"https://api.merge.dev/api?***#***"`},
		{"employees#s3cret", `"employees#***"`},
	} {
		got := QuoteURL(tc.raw)
		assert.Equal(t, tc.want, got, tc.raw)
		assert.NotContains(t, got, "s3", tc.raw)
	}
}
