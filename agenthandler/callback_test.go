package agenthandler_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

func TestOriginOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://MyApp.com/auth/callback?x=1": "https://myapp.com",
		"https://myapp.com:443/cb":            "https://myapp.com",
		"https://myapp.com:8443/cb":           "https://myapp.com:8443",
		"myapp:///integrations/complete":      "myapp://",
		"com.example.app://oauth/done":        "com.example.app://oauth",
		"http://localhost:8080/cb":            "http://localhost:8080",
		"http://127.0.0.1/cb":                 "http://127.0.0.1",
	} {
		got, err := agenthandler.OriginOf(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "/cb", "myapp.com/cb", "http://myapp.com/cb", "javascript:alert(1)", "data:text/html,x", "https:///cb", "mailto:a@b.c", "https://user:pw@myapp.com/"} {
		_, err := agenthandler.OriginOf(in)
		assert.Error(t, err, in)
	}
}

func TestAppendCallbackURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, magic, callback, want string
	}{
		{"keeps the query", "https://ah.merge.dev/link?token=abc&lang=en", "https://myapp.com/cb",
			"https://ah.merge.dev/link?token=abc&lang=en&callback_url=https%3A%2F%2Fmyapp.com%2Fcb"},
		{"no query yet", "https://ah.merge.dev/link/abc", "https://myapp.com/cb",
			"https://ah.merge.dev/link/abc?callback_url=https%3A%2F%2Fmyapp.com%2Fcb"},
		{"query ending in ?", "https://ah.merge.dev/link?", "https://myapp.com/cb",
			"https://ah.merge.dev/link?callback_url=https%3A%2F%2Fmyapp.com%2Fcb"},
		{"query ending in &", "https://ah.merge.dev/link?a=1&", "https://myapp.com/cb",
			"https://ah.merge.dev/link?a=1&callback_url=https%3A%2F%2Fmyapp.com%2Fcb"},
		{"callback with its own query", "https://ah.merge.dev/link?token=abc", "https://myapp.com/cb?session=1&next=/home",
			"https://ah.merge.dev/link?token=abc&callback_url=https%3A%2F%2Fmyapp.com%2Fcb%3Fsession%3D1%26next%3D%2Fhome"},
		{"custom scheme", "https://ah.merge.dev/link?token=abc", "myapp:///integrations/complete",
			"https://ah.merge.dev/link?token=abc&callback_url=myapp%3A%2F%2F%2Fintegrations%2Fcomplete"},
		{"fragment stays last", "https://ah.merge.dev/link?token=abc#/step/1", "myapp://done",
			"https://ah.merge.dev/link?token=abc&callback_url=myapp%3A%2F%2Fdone#/step/1"},
		{"odd escaping kept byte for byte", "https://ah.merge.dev/link?sig=a%2Bb%3D&x=%20y+z", "https://myapp.com/cb#frag",
			"https://ah.merge.dev/link?sig=a%2Bb%3D&x=%20y+z&callback_url=https%3A%2F%2Fmyapp.com%2Fcb%23frag"},
		{"loopback test server", "http://127.0.0.1:8080/link?t=1", "http://localhost:3000/cb",
			"http://127.0.0.1:8080/link?t=1&callback_url=http%3A%2F%2Flocalhost%3A3000%2Fcb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := agenthandler.AppendCallbackURL(tt.magic, tt.callback)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			// Whatever the escaping, a server reads back the callback and
			// the magic link's own parameters unchanged.
			u, err := url.Parse(got)
			require.NoError(t, err)
			assert.Equal(t, tt.callback, u.Query().Get("callback_url"))
			orig, err := url.Parse(tt.magic)
			require.NoError(t, err)
			for k, v := range orig.Query() {
				assert.Equal(t, v, u.Query()[k], k)
			}
			assert.Equal(t, orig.Fragment, u.Fragment)
		})
	}
}

func TestAppendCallbackURLRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, magic, callback, says string }{
		{"relative magic link", "/link?token=abc", "https://myapp.com/cb", "absolute"},
		{"http magic link", "http://ah.merge.dev/link", "https://myapp.com/cb", "https"},
		{"callback already there", "https://ah.merge.dev/link?callback_url=https%3A%2F%2Fa.com", "https://myapp.com/cb", "already has a callback_url"},
		{"malformed query", "https://ah.merge.dev/link?token=%zz", "https://myapp.com/cb", "malformed query"},
		{"http callback off loopback", "https://ah.merge.dev/link", "http://myapp.com/cb", "http"},
		{"javascript callback", "https://ah.merge.dev/link", "javascript://x/%0aalert(1)", "cannot be a callback"},
		{"relative callback", "https://ah.merge.dev/link", "/cb", "absolute"},
	} {
		got, err := agenthandler.AppendCallbackURL(tt.magic, tt.callback)
		assert.Empty(t, got, tt.name)
		if assert.Error(t, err, tt.name) {
			assert.Contains(t, err.Error(), tt.says, tt.name)
			assert.NotContains(t, err.Error(), tt.magic, "%s: the magic link carries a token", tt.name)
		}
	}
}

func TestNewState(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		s, err := agenthandler.NewState()
		require.NoError(t, err)
		assert.Len(t, s, 43)
		assert.Equal(t, s, url.QueryEscape(s), "URL-safe as it is")
		b, err := base64.RawURLEncoding.DecodeString(s)
		require.NoError(t, err)
		assert.Len(t, b, 32)
		assert.False(t, seen[s], "repeated state %s", s)
		seen[s] = true
	}
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	const want = "Jx3_state-0123456789abcdefghijklmnopqrstuv"
	ok, err := agenthandler.ParseCallback(url.Values{"status": {"success"}, "state": {want}, "session": {"9"}}, want)
	require.NoError(t, err)
	assert.Equal(t, &agenthandler.CallbackResult{Status: "success", State: want}, ok)
	assert.True(t, ok.Succeeded())

	exited, err := agenthandler.ParseCallback(url.Values{"status": {"cancelled"}, "state": {want}}, want)
	require.NoError(t, err)
	assert.False(t, exited.Succeeded())

	for _, tt := range []struct {
		name  string
		query url.Values
		want  string
		err   error
	}{
		{"no state", url.Values{"status": {"success"}}, want, agenthandler.ErrStateMissing},
		{"empty state", url.Values{"status": {"success"}, "state": {""}}, want, agenthandler.ErrStateMissing},
		{"wrong state", url.Values{"status": {"success"}, "state": {"forged"}}, want, agenthandler.ErrStateMismatch},
		{"prefix of the state", url.Values{"status": {"success"}, "state": {want[:len(want)-1]}}, want, agenthandler.ErrStateMismatch},
		{"state and more", url.Values{"status": {"success"}, "state": {want + "x"}}, want, agenthandler.ErrStateMismatch},
		{"two states", url.Values{"status": {"success"}, "state": {want, "forged"}}, want, agenthandler.ErrStateMismatch},
		{"no status", url.Values{"state": {want}}, want, agenthandler.ErrStatusMissing},
		{"success then failed", url.Values{"state": {want}, "status": {"success", "failed"}}, want, agenthandler.ErrStatusRepeated},
		{"failed then success", url.Values{"state": {want}, "status": {"failed", "success"}}, want, agenthandler.ErrStatusRepeated},
		{"success twice", url.Values{"state": {want}, "status": {"success", "success"}}, want, agenthandler.ErrStatusRepeated},
		{"empty then success", url.Values{"state": {want}, "status": {"", "success"}}, want, agenthandler.ErrStatusRepeated},
		{"two states and two statuses", url.Values{"state": {want, want}, "status": {"success", "failed"}}, want, agenthandler.ErrStateMismatch},
		{"nothing expected, nothing sent", url.Values{"status": {"success"}}, "", agenthandler.ErrNoExpectedState},
		{"nothing expected, empty sent", url.Values{"status": {"success"}, "state": {""}}, "", agenthandler.ErrNoExpectedState},
	} {
		res, err := agenthandler.ParseCallback(tt.query, tt.want)
		assert.Nil(t, res, tt.name)
		assert.ErrorIs(t, err, tt.err, tt.name)
	}
}

// pendingStates keeps the state of each flow under way on the server,
// keyed by the app's session, and drops it once a callback has used it.
type pendingStates struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *pendingStates) put(session, state string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[session] = state
}

// use checks a callback against the session's state. A good callback uses
// the state up, so a replay fails; a bad one does not, so a forged request
// cannot cancel the user's flow.
func (p *pendingStates) use(session string, q url.Values) (*agenthandler.CallbackResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res, err := agenthandler.ParseCallback(q, p.m[session])
	if err == nil {
		delete(p.m, session)
	}
	return res, err
}

// The whole flow: the app makes a state, creates a link token with it and
// a callback URL, Merge redirects the browser back with the state, and the
// app's callback handler accepts it once and refuses anything else.
func TestCallbackHandlerState(t *testing.T) {
	t.Parallel()
	pending := &pendingStates{m: map[string]string{}}
	var ah *agenthandler.Client
	app := http.NewServeMux()
	app.HandleFunc("GET /connect", func(w http.ResponseWriter, r *http.Request) {
		session := r.URL.Query().Get("session")
		state, err := agenthandler.NewState()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		pending.put(session, state)
		lt, err := ah.CreateLinkToken(r.Context(), userID, agenthandler.LinkTokenParams{
			Connector:   "linear",
			CallbackURL: "http://" + r.Host + "/callback?session=" + url.QueryEscape(session),
			State:       state,
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, lt.MagicLinkURL)
	})
	app.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		res, err := pending.use(r.URL.Query().Get("session"), r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, "connected: "+res.Status)
	})
	appSrv := httptest.NewServer(app)
	t.Cleanup(appSrv.Close)

	// Merge: the link token call records where to send the browser back.
	f := setup(t, mergelink.WithAllowedCallbackOrigins(appSrv.URL))
	var mu sync.Mutex
	redirects := map[string]string{} // magic link -> callback with status and state
	f.mux.HandleFunc("POST /api/v1/registered-users/{id}/link-token/{$}", func(w http.ResponseWriter, r *http.Request) {
		body := jsonBody(t, r)
		cb, err := url.Parse(body["callback_url"].(string))
		if !assert.NoError(t, err) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := cb.Query()
		q.Set("status", "success")
		q.Set("state", body["state"].(string))
		cb.RawQuery = q.Encode()
		mu.Lock()
		magic := "https://ah.merge.dev/link/" + r.PathValue("id") + "/" + body["state"].(string)[:8]
		redirects[magic] = cb.String()
		mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]string{"link_token": "lt", "magic_link_url": magic})
	})
	ah = f.ah

	get := func(u string) (int, string) {
		t.Helper()
		resp, err := appSrv.Client().Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	// connect starts a flow for session and returns where Merge would send
	// the browser back.
	connect := func(session string) string {
		t.Helper()
		code, magic := get(appSrv.URL + "/connect?session=" + session)
		require.Equal(t, http.StatusOK, code, magic)
		mu.Lock()
		defer mu.Unlock()
		cb, ok := redirects[magic]
		require.True(t, ok, "unknown magic link %s", magic)
		return cb
	}

	back := connect("alice")
	require.True(t, strings.HasPrefix(back, appSrv.URL+"/callback?"), back)
	u, err := url.Parse(back)
	require.NoError(t, err)
	q := u.Query()

	// Missing and wrong states are refused and do not use up the flow.
	code, body := get(appSrv.URL + "/callback?session=alice&status=success")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, agenthandler.ErrStateMissing.Error(), body)
	forged := url.Values{"session": {"alice"}, "status": {"success"}, "state": {strings.Repeat("A", 43)}}
	code, body = get(appSrv.URL + "/callback?" + forged.Encode())
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, agenthandler.ErrStateMismatch.Error(), body)
	// Another session's state does not fit alice's flow.
	bobBack, err := url.Parse(connect("bob"))
	require.NoError(t, err)
	crossed := url.Values{"session": {"alice"}, "status": {"success"}, "state": {bobBack.Query().Get("state")}}
	code, _ = get(appSrv.URL + "/callback?" + crossed.Encode())
	assert.Equal(t, http.StatusForbidden, code)

	// The right state is accepted once.
	code, body = get(back)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "connected: success", body)
	assert.Equal(t, "alice", q.Get("session"))

	// A replay of the same redirect is refused: the state is used up.
	code, body = get(back)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, agenthandler.ErrNoExpectedState.Error(), body)

	// Bob's own flow still works.
	code, _ = get(bobBack.String())
	assert.Equal(t, http.StatusOK, code)
}

// A callback URL the client's allowed origins do not cover is refused
// before Merge can skip the redirect silently.
func TestCallbackOriginNotAllowedNamesBoth(t *testing.T) {
	t.Parallel()
	f := setup(t, mergelink.WithAllowedCallbackOrigins("https://myapp.com", "myapp://"))
	_, err := f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "otherapp://done"})
	var ve *mergelink.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Contains(t, err.Error(), "otherapp://done")
	assert.Contains(t, err.Error(), "https://myapp.com, myapp://")
	assert.Contains(t, err.Error(), "silently skip")
	assert.Zero(t, f.requests())
}

// A callback read from a raw query with several status parameters, as a
// callback URL with a status of its own would bring, is refused whatever
// their order, as several states are.
func TestParseCallbackRefusesSeveralStatusesInARawQuery(t *testing.T) {
	t.Parallel()
	const state = "st-1"
	for _, raw := range []string{
		"status=success&state=st-1&status=failed",
		"status=failed&status=success&state=st-1",
		"state=st-1&status=success&status=",
		"state=st-1&status=success&%73tatus=failed",
	} {
		q, err := url.ParseQuery(raw)
		require.NoError(t, err)
		res, err := agenthandler.ParseCallback(q, state)
		assert.Nil(t, res, raw)
		assert.ErrorIs(t, err, agenthandler.ErrStatusRepeated, raw)
	}
}

func TestOriginOfPorts(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://myapp.com:0443/cb":                 "https://myapp.com",
		"https://myapp.com:00000000000000000443/cb": "https://myapp.com",
		"http://localhost:080/cb":                   "http://localhost",
		"https://myapp.com:08443/cb":                "https://myapp.com:8443",
		"https://myapp.com:1/cb":                    "https://myapp.com:1",
		"https://myapp.com:65535/cb":                "https://myapp.com:65535",
		"http://localhost:03000/cb":                 "http://localhost:3000",
		"myapp://host:0099/x":                       "myapp://host:99",
		"https://myapp.com:/cb":                     "https://myapp.com",
	} {
		got, err := agenthandler.OriginOf(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{
		"https://myapp.com:0/cb",
		"https://myapp.com:00/cb",
		"http://localhost:0/cb",
		"https://myapp.com:65536/cb",
		"https://myapp.com:99999/cb",
		"https://myapp.com:18446744073709551616/cb",
		"https://myapp.com:99999999999999999999/cb",
		"https://[::1]:70000/cb",
		"myapp://host:0/x",
	} {
		got, err := agenthandler.OriginOf(in)
		assert.Empty(t, got, in)
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), "port", in)
		}
	}
}

// A callback URL is used as it is written: one with a space, a control or
// an invisible character anywhere has no origin and is not appended.
func TestCallbackURLWithInvisibleRunes(t *testing.T) {
	t.Parallel()
	for _, r := range []rune{' ', '\t', '\n', '\r', '\v', '\f', 0, 0x7f, 0x85, 0xa0, 0x2028, 0x200b, 0x202e, 0xfeff} {
		for _, cb := range []string{string(r) + "https://myapp.com/cb", "https://myapp.com/cb" + string(r), "https://myapp.com/c" + string(r) + "b"} {
			_, err := agenthandler.OriginOf(cb)
			assert.Error(t, err, "%q", cb)
			got, err := agenthandler.AppendCallbackURL("https://ah.merge.dev/link/lt", cb)
			assert.Error(t, err, "%q", cb)
			assert.Empty(t, got)
		}
	}
}

// A callback URL or origin with user info is refused without showing the
// password, however the URL is written.
func TestCallbackURLErrorsHideUserInfo(t *testing.T) {
	t.Parallel()
	f := setup(t, mergelink.WithAllowedCallbackOrigins("https://myapp.com"))
	for _, raw := range []string{
		"https://user:hunter2@myapp.com/cb",
		"http://user:hunter2@evil.example/cb",
		"https:/user:hunter2@myapp.com/cb",
		"javascript://user:hunter2@x",
	} {
		_, err := agenthandler.OriginOf(raw)
		errs := []error{err}
		_, err = f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: raw, State: "s"})
		errs = append(errs, err)
		for _, err := range errs {
			require.Error(t, err, raw)
			assert.NotContains(t, err.Error(), "hunter2", raw)
			assert.Contains(t, err.Error(), "***@", raw)
		}
	}
	assert.Zero(t, f.requests())
}
