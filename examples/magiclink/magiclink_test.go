package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/examples/internal/clitest"
	"github.com/mergelink/mergelink/mergetest"
)

// runOn runs the command against srv with the given API key.
func runOn(t *testing.T, srv *mergetest.Server, apiKey string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, clitest.EnvWithKey(apiKey), &out, &errOut, srv.ClientOptions()...)
	return code, out.String(), errOut.String()
}

var jane = []string{"-email", "jane@acme.example", "-org", "Acme", "-origin-id", "acme-42"}

func TestText(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	code, stdout, stderr := runOn(t, srv, srv.APIKey(), append(jane, "-categories", "hris,ats", "-language", "de")...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	assert.Contains(t, stdout, "Magic Link URL: "+srv.URL()+mergetest.LinkPath)
	assert.Contains(t, stdout, "(in 7 days)", "the default expiry is the dashboard's 7 days")
	assert.Contains(t, stdout, "Send it to jane@acme.example only")

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "POST /api/hris/v1/link-token", reqs[0].Method+" "+reqs[0].Path)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, map[string]any{
		"end_user_email_address":       "jane@acme.example",
		"end_user_organization_name":   "Acme",
		"end_user_origin_id":           "acme-42",
		"categories":                   []any{"hris", "ats"},
		"language":                     "de",
		"link_expiry_mins":             10080.0,
		"should_create_magic_link_url": true,
	}, body)
}

func TestJSON(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	before := time.Now()
	code, stdout, stderr := runOn(t, srv, srv.APIKey(), append(jane, "-categories", "hris", "-integration", "bamboohr", "-expiry", "45", "-json")...)
	after := time.Now()
	require.Equal(t, 0, code, stderr)

	var got struct {
		URL             string    `json:"url"`
		ExpiresAt       time.Time `json:"expires_at"`
		IntegrationName string    `json:"integration_name"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&got), stdout)
	assert.True(t, strings.HasPrefix(got.URL, srv.URL()+mergetest.LinkPath), got.URL)
	assert.Equal(t, "BambooHR", got.IntegrationName)
	assert.WithinRange(t, got.ExpiresAt, before.Add(45*time.Minute).Add(-time.Second), after.Add(45*time.Minute))

	// The URL is a live Magic Link on the server.
	resp, err := http.Get(got.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	code, stdout, stderr := runOn(t, srv, srv.APIKey(),
		"-org", "Acme", "-categories", "hris,nope,hris", "-integration", "Bamboo HR", "-expiry", "20000", "-language", "fr")
	assert.Equal(t, 2, code)
	assert.Empty(t, stdout)
	assert.Empty(t, srv.Requests(), "invalid input must not reach the server")

	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	assert.Equal(t, "magiclink: nothing was sent; fix these and run again:", lines[0])
	problems := lines[1:]
	want := []string{
		"  -email: required",
		"  -origin-id: required",
		`(got "nope")`,
		`  -categories: must not repeat a category (got "hris")`,
		`  -integration: must be a slug`,
		"  -expiry: must be 30 to 10080 minutes, or 0 for the default (got 20000)",
		`  -language: must be LanguageEN ("en") or LanguageDE ("de") (got "fr")`,
	}
	require.Len(t, problems, len(want), stderr)
	for i, w := range want {
		assert.Contains(t, problems[i], w)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  string // "" for none, "srv" for the server's
		args []string
		want string
	}{
		{"missing API key", "", append(jane, "-categories", "hris"), "MERGE_API_KEY is not set"},
		{"bad region", "srv", append(jane, "-categories", "hris", "-region", "mars"), `-region: mergelink: unknown region "mars"`},
		{"unknown flag", "srv", []string{"-nope"}, "flag provided but not defined: -nope"},
		{"argument", "srv", []string{"hris"}, `unexpected argument "hris"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mergetest.NewTestServer(t)
			key := tc.key
			if key == "srv" {
				key = srv.APIKey()
			}
			code, stdout, stderr := runOn(t, srv, key, tc.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, srv.Requests())
		})
	}
}

func TestAPIError(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	const wrongKey = "sk-wrong-key-that-must-stay-secret"
	code, stdout, stderr := runOn(t, srv, wrongKey, append(jane, "-categories", "hris")...)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "401")
	assert.NotContains(t, stderr, wrongKey)
	assert.Len(t, srv.Requests(), 1, "a 401 is not retried")
}
