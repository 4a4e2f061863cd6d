package mergelink_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	c, err := mergelink.NewClient(testAPIKey)
	require.NoError(t, err)
	assert.Equal(t, mergelink.RegionUS, c.Region())
	assert.Equal(t, "https://api.merge.dev/api", c.BaseURL())
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		assert.NotContains(t, s, testAPIKey)
	}
}

func TestNewClientOptionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		key   string
		opts  []mergelink.Option
		field string
		rule  string
	}{
		{"empty key", "", nil, "apiKey", "required"},
		{"blank key", "  ", nil, "apiKey", "required"},
		{"key with newline", "a\nb", nil, "apiKey", "no control characters"},
		{"key with NUL", "sk-test\x00", nil, "apiKey", "no control characters"},
		{"key with DEL", "sk-test\x7f", nil, "apiKey", "no control characters"},
		{"relative base", testAPIKey, []mergelink.Option{mergelink.WithBaseURL("/api")}, "WithBaseURL", "absolute"},
		{"http base off loopback", testAPIKey, []mergelink.Option{mergelink.WithBaseURL("http://api.merge.dev/api")}, "WithBaseURL", "only on loopback"},
		{"http agent base off loopback", testAPIKey, []mergelink.Option{mergelink.WithAgentHandlerBaseURL("http://192.168.1.5/api/v1")}, "WithAgentHandlerBaseURL", "only on loopback"},
		{"unknown region", testAPIKey, []mergelink.Option{mergelink.WithRegion("mars")}, "WithRegion", "RegionUS"},
		{"nil http client", testAPIKey, []mergelink.Option{mergelink.WithHTTPClient(nil)}, "WithHTTPClient", "nil"},
		{"negative retries", testAPIKey, []mergelink.Option{mergelink.WithMaxRetries(-1)}, "WithMaxRetries", "between 0 and 20"},
		{"retry wait", testAPIKey, []mergelink.Option{mergelink.WithRetryWait(time.Second, time.Millisecond)}, "WithRetryWait", "max at least min"},
		{"zero Retry-After cap", testAPIKey, []mergelink.Option{mergelink.WithMaxRetryAfter(0)}, "WithMaxRetryAfter", "more than 0 and at most 1h"},
		{"negative Retry-After cap", testAPIKey, []mergelink.Option{mergelink.WithMaxRetryAfter(-time.Second)}, "WithMaxRetryAfter", "more than 0 and at most 1h"},
		{"Retry-After cap over an hour", testAPIKey, []mergelink.Option{mergelink.WithMaxRetryAfter(time.Hour + time.Nanosecond)}, "WithMaxRetryAfter", "more than 0 and at most 1h"},
		{"user agent", testAPIKey, []mergelink.Option{mergelink.WithUserAgent("a\r\nX-Evil: 1")}, "WithUserAgent", "no control characters"},
		{"callback origin", testAPIKey, []mergelink.Option{mergelink.WithAllowedCallbackOrigins("https://ok.example", "http://myapp.com")}, "WithAllowedCallbackOrigins", "https or a custom scheme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := mergelink.NewClient(tc.key, tc.opts...)
			require.Nil(t, c)
			var ve *mergelink.ValidationError
			require.True(t, errors.As(err, &ve), "got %v", err)
			require.Len(t, ve.Problems, 1, err.Error())
			assert.Equal(t, tc.field, ve.Problems[0].Field)
			assert.Contains(t, ve.Problems[0].Rule, tc.rule)
			assert.NotContains(t, err.Error(), testAPIKey)
		})
	}
}

func TestNewClientReportsEveryBadOption(t *testing.T) {
	t.Parallel()
	_, err := mergelink.NewClient("", mergelink.WithBaseURL("http://example.com"), mergelink.WithMaxRetries(99))
	var ve *mergelink.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.True(t, ve.Has("apiKey"))
	assert.True(t, ve.Has("WithBaseURL"))
	assert.True(t, ve.Has("WithMaxRetries"))
}

func TestBaseURLUserInfoNotShown(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"https://admin:hunter2@api.merge.dev/api",
		"https://admin:hunter2@api.merge.dev:port/api",
		"https://admin:hunt/er2@api.merge.dev/api",
		"https:/admin:hunter2@api.merge.dev/api",
		"http://admin:hunter2@evil.example",
	} {
		for _, opt := range []mergelink.Option{
			mergelink.WithBaseURL(raw), mergelink.WithAgentHandlerBaseURL(raw), mergelink.WithAllowedCallbackOrigins(raw),
		} {
			_, err := mergelink.NewClient(testAPIKey, opt)
			require.Error(t, err, raw)
			assert.NotContains(t, err.Error(), "hunt", raw)
			assert.Contains(t, err.Error(), "***@", raw)
		}
	}
}

// A refused URL shows with its query values and fragment masked, like its
// user info, since a key may ride in them.
func TestBaseURLQueryNotShown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, shown string }{
		{"https://api.merge.dev/api?api_key=hunter2", `"https://api.merge.dev/api?***"`},
		{"https://api.merge.dev/api?a=1&token=hunter2&hunter2", `"https://api.merge.dev/api?***"`},
		{"https://api.merge.dev/api?x=hunter2#hunter2", `"https://api.merge.dev/api?***#***"`},
		{"https://api.merge.dev/api#access_token=hunter2", `"https://api.merge.dev/api#***"`},
		{"https://api.merge.dev/api?email=me@hunter2.example", `"https://***"`},
		{"https://admin:hunter2@api.merge.dev/api?key=hunter2", `"https://***@api.merge.dev/api?***"`},
		{"http://api.merge.dev/api?key=hunter2", `"http://api.merge.dev/api?***"`},
	} {
		for _, opt := range []mergelink.Option{mergelink.WithBaseURL(tc.raw), mergelink.WithAgentHandlerBaseURL(tc.raw)} {
			_, err := mergelink.NewClient(testAPIKey, opt)
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve, tc.raw)
			require.Len(t, ve.Problems, 1)
			assert.Equal(t, tc.shown, ve.Problems[0].Value, tc.raw)
			assert.NotContains(t, err.Error(), "hunter2", tc.raw)
		}
	}
}

func TestBaseURLLoopbackAllowed(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:8080/api", "http://localhost:9/api/", "http://[::1]:1/x", "http://127.1.2.3/api", "https://example.com/api"} {
		c, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL(u), mergelink.WithAgentHandlerBaseURL(u))
		require.NoError(t, err, u)
		assert.NotEqual(t, '/', c.BaseURL()[len(c.BaseURL())-1], "trailing slash trimmed")
	}
}

func TestRegions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		region  mergelink.Region
		unified string
		agent   string
	}{
		{mergelink.RegionUS, "https://api.merge.dev/api", "https://ah-api.merge.dev/api/v1"},
		{mergelink.RegionEU, "https://api-eu.merge.dev/api", "https://ah-api-eu.merge.dev/api/v1"},
		{mergelink.RegionAPAC, "https://api-ap.merge.dev/api", ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.unified, tc.region.BaseURL())
		agent, err := tc.region.AgentHandlerBaseURL()
		if tc.agent == "" {
			require.ErrorIs(t, err, mergelink.ErrNoAgentHandlerHost)
			assert.Contains(t, err.Error(), "WithAgentHandlerBaseURL", "says how to set one")
		} else {
			require.NoError(t, err)
			assert.Equal(t, tc.agent, agent)
		}
		c, err := mergelink.NewClient(testAPIKey, mergelink.WithRegion(tc.region))
		require.NoError(t, err)
		assert.Equal(t, tc.unified, c.BaseURL())
		assert.Equal(t, tc.region, c.Region())

		r, err := mergelink.ParseRegion(" " + string(tc.region) + " ")
		require.NoError(t, err)
		assert.Equal(t, tc.region, r)
	}
	_, err := mergelink.ParseRegion("sandbox")
	assert.ErrorContains(t, err, "use us, eu or apac")
	_, err = mergelink.Region("mars").AgentHandlerBaseURL()
	assert.ErrorContains(t, err, "unknown region")
	assert.Empty(t, mergelink.Region("mars").BaseURL())
}

func TestBaseURLOverridesRegion(t *testing.T) {
	t.Parallel()
	c, err := mergelink.NewClient(testAPIKey, mergelink.WithRegion(mergelink.RegionEU), mergelink.WithBaseURL("http://127.0.0.1:1/api"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/api", c.BaseURL())
	assert.Equal(t, mergelink.RegionEU, c.Region())
}
