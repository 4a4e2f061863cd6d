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

	"github.com/mergelink/mergelink/examples/internal/accountstore"
	"github.com/mergelink/mergelink/mergetest"
)

// envOf returns an environment holding only vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// keep returns a newServer for runOffline that hands the server it starts
// to *srv, and applies more options to it.
func keep(srv **mergetest.Server, more ...func(*mergetest.Server)) func(...mergetest.ServerOption) *mergetest.Server {
	return func(opts ...mergetest.ServerOption) *mergetest.Server {
		*srv = mergetest.NewServer(opts...)
		for _, f := range more {
			f(*srv)
		}
		return *srv
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestOfflineJourney(t *testing.T) {
	t.Parallel()
	var srv *mergetest.Server
	var out bytes.Buffer
	require.NoError(t, runOffline(context.Background(), &out, keep(&srv)))

	accounts := srv.LinkedAccounts()
	require.Len(t, accounts, 1)
	a := accounts[0]
	assert.Equal(t, "quickstart-user-1", a.EndUserOriginID)
	assert.Equal(t, "bamboohr", a.Integration, "the Connect form's integration was posted")
	assert.Equal(t, finalLine+accountstore.Mask(a.AccountToken), lastLine(out.String()))
	assert.NotContains(t, out.String(), a.AccountToken, "the full account token must never be printed")

	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 2)
	for _, d := range deliveries {
		assert.Equal(t, http.StatusOK, d.StatusCode, "the receiver verified and accepted %s", d)
		assert.Equal(t, 1, d.Attempts, "%s", d)
	}
	for _, want := range []string{"LinkedAccount.linked", "LinkedAccount.synced_initial", "refused: 401", "ListLinkedAccounts finds it: " + a.ID,
		"Account.Details: BambooHR for quickstart-user-1, status COMPLETE", "Account.SyncStatus: 5 models, 5 of them SYNCING",
		"Paginate listed 5 employees from GET hris/v1/employees, two a page: Ada Lovelace, Grace Hopper, Alan Turing, Katherine Johnson, Edsger Dijkstra"} {
		assert.Contains(t, out.String(), want)
	}

	var paths []string
	for _, r := range srv.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	assert.Equal(t, []string{"POST /api/hris/v1/link-token", "GET /api/hris/v1/linked-accounts", "GET /api/hris/v1/account-details",
		"GET /api/hris/v1/sync-status", "GET /api/hris/v1/employees", "GET /api/hris/v1/employees", "GET /api/hris/v1/employees"}, paths)
	for _, r := range srv.Requests()[2:] {
		assert.Equal(t, a.AccountToken, r.Header.Get(mergetest.AccountTokenHeader), r.Path)
	}
}

func TestOfflineJourneyFailsClearly(t *testing.T) {
	t.Parallel()
	var srv *mergetest.Server
	var out bytes.Buffer
	err := runOffline(context.Background(), &out, keep(&srv, func(s *mergetest.Server) { s.FailNext(1, http.StatusBadRequest, "") }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "creating the Magic Link")
	assert.NotContains(t, out.String(), finalLine)
}

func TestOfflineJourneyEndsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var srv *mergetest.Server
	err := runOffline(ctx, new(bytes.Buffer), keep(&srv))
	require.ErrorIs(t, err, context.Canceled)
}

// cancelAfter is an output that cancels a context once a line holding
// marker is written.
type cancelAfter struct {
	bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.marker)) {
		defer w.cancel()
	}
	return w.Buffer.Write(p)
}

func TestOfflineJourneyStopsWaitingForWebhooksWithItsContext(t *testing.T) {
	t.Parallel()
	// The journey ends only through cancel, called once the link is
	// completed; the timeout is a safety net that fails the test.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var srv *mergetest.Server
	// A server started without the receiver's options sends no webhook.
	noWebhooks := func(...mergetest.ServerOption) *mergetest.Server { srv = mergetest.NewServer(); return srv }
	out := &cancelAfter{marker: "clicked Connect", cancel: cancel}
	err := runOffline(ctx, out, noWebhooks)
	require.ErrorIs(t, err, context.Canceled, "the safety timeout ended the journey instead: %v", err)
	assert.Contains(t, err.Error(), "waiting for the LinkedAccount webhooks")
	assert.Contains(t, out.String(), "clicked Connect")
	assert.Len(t, srv.LinkedAccounts(), 1, "the link was completed")
}

func TestRunOffline(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), nil, envOf(nil), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.True(t, strings.HasPrefix(lastLine(stdout.String()), finalLine), stdout.String())
	assert.Empty(t, stderr.String())
}

func TestRunOnline(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(),
		[]string{"-email", "jane@acme.example", "-org", "Acme", "-origin-id", "acme-42", "-categories", "hris, ats", "-expiry", "60", "-region", "eu"},
		envOf(map[string]string{"MERGE_API_KEY": srv.APIKey()}), &stdout, &stderr, srv.ClientOptions()...)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "Magic Link URL: "+srv.URL()+mergetest.LinkPath)
	assert.Contains(t, stdout.String(), "(in 60 minutes)")
	assert.Contains(t, stdout.String(), "region eu")

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/hris/v1/link-token", reqs[0].Path)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, []any{"hris", "ats"}, body["categories"])
	assert.Equal(t, 60.0, body["link_expiry_mins"])
	assert.Equal(t, true, body["should_create_magic_link_url"])
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		key  bool
		want []string
	}{
		{"flags without a key", []string{"-email", "jane@acme.example"}, false, []string{"MERGE_API_KEY"}},
		{"unknown flag", []string{"-nope"}, false, []string{"-nope"}},
		{"argument", []string{"extra"}, true, []string{`unexpected argument "extra"`}},
		{"bad region", []string{"-region", "mars"}, true, []string{"-region", "mars"}},
		{"invalid input", []string{"-org", "Acme", "-categories", "hris,nope", "-expiry", "5"}, true,
			[]string{"nothing was sent", "\n  -email: required\n", "\n  -origin-id: required\n", `-categories: must be one of`, `(got "nope")`, "\n  -expiry: must be 30 to 10080"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mergetest.NewTestServer(t)
			env := map[string]string{}
			if tc.key {
				env["MERGE_API_KEY"] = srv.APIKey()
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, envOf(env), &stdout, &stderr, srv.ClientOptions()...)
			assert.Equal(t, 2, code)
			for _, w := range tc.want {
				assert.Contains(t, stderr.String(), w)
			}
			assert.Empty(t, stdout.String())
			assert.Empty(t, srv.Requests(), "nothing may be sent")
		})
	}
}
