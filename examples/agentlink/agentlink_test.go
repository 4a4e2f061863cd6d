package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/examples/internal/clitest"
	"github.com/mergelink/mergelink/mergetest"
)

type accepted struct {
	user string
	res  *agenthandler.CallbackResult
}

// get sends a GET and returns the answer's status and body.
func get(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// sentState returns the state of the link token request srv received.
func sentState(t *testing.T, srv *mergetest.Server) string {
	t.Helper()
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/link-token/") {
			var body struct{ State string }
			require.NoError(t, json.Unmarshal(r.Body, &body))
			return body.State
		}
	}
	t.Fatal("no link token request")
	return ""
}

func TestLinkThroughMergetest(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	got := make(chan accepted, 2)
	cb := newCallbacks(func(user string, res *agenthandler.CallbackResult) { got <- accepted{user, res} })
	app := httptest.NewServer(cb.handler())
	t.Cleanup(app.Close)

	callbackURL := callbackURL(strconv.Itoa(app.Listener.Addr().(*net.TCPAddr).Port), "user-1234")
	require.True(t, strings.HasPrefix(callbackURL, "http://localhost:"), callbackURL)
	// startLink registers the callback origin itself, idempotently: an
	// origin a previous run registered is kept and the run goes on.
	_, created, err := c.AgentHandler().RegisterCallbackOrigin(context.Background(), callbackURL)
	require.NoError(t, err)
	require.True(t, created)
	registered, magic, err := startLink(context.Background(), c,
		agenthandler.RegisteredUserParams{OriginUserID: "user-1234", OriginUserName: "Yash"},
		agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: callbackURL}, cb)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(magic, srv.URL()+mergetest.AgentLinkPath), magic)
	assert.Len(t, registered, 36, "the registered user's Agent Handler id")

	// The user connects on the magic link page; Merge sends the browser
	// back with the state it was given.
	redirect, err := srv.CompleteAgentLink(magic)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(redirect, callbackURL+"?"), "the origin was registered, so Merge redirects: %q", redirect)
	u, err := url.Parse(redirect)
	require.NoError(t, err)
	state := sentState(t, srv)
	assert.Len(t, state, 43, "a NewState state")
	assert.Equal(t, state, u.Query().Get("state"))

	status, body := get(t, redirect)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "Connected")
	a := <-got
	assert.Equal(t, "user-1234", a.user)
	assert.True(t, a.res.Succeeded())
	assert.Equal(t, state, a.res.State)

	status, body = get(t, redirect)
	assert.Equal(t, http.StatusBadRequest, status, "a replayed callback is refused")
	assert.Contains(t, body, "no link is pending")
	assert.Empty(t, got, "a replay is not accepted")
}

func TestCallbackChecksState(t *testing.T) {
	t.Parallel()
	got := make(chan accepted, 2)
	cb := newCallbacks(func(user string, res *agenthandler.CallbackResult) { got <- accepted{user, res} })
	app := httptest.NewServer(cb.handler())
	t.Cleanup(app.Close)
	cb.expect("user-1", "the-right-state")

	for _, tc := range []struct{ query, want string }{
		{"status=success&state=a-forged-state", "does not match"},
		{"status=success", "no state"},
		{"status=success&state=the-right-state&state=the-right-state", "does not match"},
	} {
		status, body := get(t, app.URL+callbackPath+"user-1?"+tc.query)
		assert.Equal(t, http.StatusBadRequest, status, tc.query)
		assert.Contains(t, body, tc.want, tc.query)
	}
	status, _ := get(t, app.URL+callbackPath+"user-2?status=success&state=the-right-state")
	assert.Equal(t, http.StatusBadRequest, status, "another user's callback")
	assert.Empty(t, got)

	// The refusals left the real callback pending.
	status, body := get(t, app.URL+callbackPath+"user-1?status=canceled&state=the-right-state")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `Not connected (status "canceled")`)
	a := <-got
	assert.False(t, a.res.Succeeded())
}

func TestRun(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	var stderr strings.Builder
	out := clitest.Start(func(stdout io.Writer) int {
		return run(context.Background(), []string{"-addr", "127.0.0.1:0", "-user-id", "user-1234", "-user-name", "Yash", "-connector", "linear"},
			clitest.EnvWithKey(srv.APIKey()), stdout, &stderr, srv.ClientOptions()...)
	})

	var magic string
	for magic == "" {
		l, ok := out.Next(t)
		if !ok {
			// The output ends after run returns: stderr is no longer
			// written, so it may be read.
			t.Fatalf("run ended early: %s\n%s", out, stderr.String())
		}
		if rest, found := strings.CutPrefix(l, magicLinkLine); found {
			magic = rest
		}
	}
	redirect, err := srv.CompleteAgentLink(magic)
	require.NoError(t, err)
	status, body := get(t, redirect)
	assert.Equal(t, http.StatusOK, status, body)

	code, lines := out.Wait(t) // run has returned: stderr may be read from here on
	assert.Equal(t, 0, code, stderr.String())
	assert.Contains(t, strings.Join(lines, "\n"), "(state verified): linear is connected for Yash")
	assert.Contains(t, strings.Join(lines, "\n"), "comes back to http://localhost:", "plain http callbacks are http://localhost:PORT")
	assert.Empty(t, stderr.String())
}

func TestRunRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  bool
		args []string
		want []string
	}{
		{"missing API key", false, []string{"-user-id", "u1", "-user-name", "Yash", "-connector", "linear"}, []string{"MERGE_API_KEY is not set"}},
		{"invalid input", true, []string{"-user-id", "u1", "-connector", "Not A Slug"},
			[]string{"nothing was sent", "\n  -user-name: required\n", "\n  -connector: must be a slug"}},
		{"invalid user id", true, []string{"-user-id", "", "-user-name", "Yash", "-connector", "linear"},
			[]string{"nothing was sent", "\n  -user-id: required\n"}},
		// 192.0.2.1 (TEST-NET) is on no interface here: were it listened on
		// before the check, run would fail with exit status 1.
		{"non-loopback address", true, []string{"-user-id", "u1", "-user-name", "Yash", "-connector", "linear", "-addr", "192.0.2.1:0"},
			[]string{`-addr: "192.0.2.1:0" is not a loopback address`}},
		{"no port", true, []string{"-user-id", "u1", "-user-name", "Yash", "-connector", "linear", "-addr", "127.0.0.1"},
			[]string{"-addr: want a loopback host and a port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mergetest.NewTestServer(t)
			key := ""
			if tc.key {
				key = srv.APIKey()
			}
			var stdout, stderr strings.Builder
			args := tc.args
			if !slices.Contains(args, "-addr") {
				// A port in use: the input must be refused before run
				// tries to listen, or it fails with exit status 1.
				busy, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { busy.Close() })
				args = append(args, "-addr", busy.Addr().String())
			}
			code := run(context.Background(), args, clitest.EnvWithKey(key), &stdout, &stderr, srv.ClientOptions()...)
			assert.Equal(t, 2, code)
			for _, w := range tc.want {
				assert.Contains(t, stderr.String(), w)
			}
			assert.Empty(t, stdout.String())
			assert.Empty(t, srv.Requests(), "nothing may be sent")
		})
	}
}

func TestHelpNamesTheEnvironment(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"-h"}, clitest.EnvWithKey(""), &stdout, &stderr)
	assert.Equal(t, 0, code)
	assert.Contains(t, stderr.String(), "usage: agentlink")
	assert.Contains(t, stderr.String(), "MERGE_API_KEY", "-h says where the API key comes from")
	assert.Contains(t, stderr.String(), "-connector")
	assert.Empty(t, stdout.String())
}
