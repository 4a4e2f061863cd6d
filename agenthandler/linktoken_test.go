package agenthandler_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/validate/validatetest"
)

func TestCreateLinkTokenWire(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/api/v1/registered-users/"+userID+"/link-token/", r.URL.Path)
		assert.Empty(t, r.URL.RawQuery)
		checkHeaders(t, r, true)
		assert.Equal(t, map[string]any{
			"connector":    "linear",
			"external_id":  "acme-corp",
			"callback_url": "https://your-app.com/auth/callback?tab=1",
			"state":        "random-csrf-token",
		}, jsonBody(t, r))
		writeJSON(w, http.StatusCreated, map[string]string{
			"link_token":     "lt-123",
			"magic_link_url": "https://ah.merge.dev/link/abc?x=1",
		})
	})
	lt, err := f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{
		Connector:   "linear",
		ExternalID:  "acme-corp",
		CallbackURL: "https://your-app.com/auth/callback?tab=1",
		State:       "random-csrf-token",
	})
	require.NoError(t, err)
	assert.Equal(t, &agenthandler.LinkToken{LinkToken: "lt-123", MagicLinkURL: "https://ah.merge.dev/link/abc?x=1"}, lt)
	assert.Equal(t, int64(1), f.requests())
}

func TestCreateLinkTokenSendsOnlyWhatIsSet(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("POST /api/v1/registered-users/{id}/link-token/{$}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, map[string]any{"connector": "github"}, jsonBody(t, r))
		writeJSON(w, http.StatusCreated, map[string]string{"link_token": "lt", "magic_link_url": "https://x.test/m"})
	})
	_, err := f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "github"})
	require.NoError(t, err)
}

// The callback URLs Merge accepts are accepted, and the allowed origins
// match whatever the case, default port or path.
func TestCreateLinkTokenAcceptedCallbacks(t *testing.T) {
	t.Parallel()
	for _, cb := range []string{
		"https://MyApp.com:443/auth/callback",
		"myapp:///integrations/complete",
		"http://localhost:8080/cb",
		"http://127.0.0.1:9000/cb",
		"https://myapp.com/cb?state=ok-without-State-field",
	} {
		t.Run(cb, func(t *testing.T) {
			t.Parallel()
			f := setup(t, mergelink.WithAllowedCallbackOrigins("https://myapp.com", "myapp://", "http://localhost:8080", "http://127.0.0.1:9000"))
			f.mux.HandleFunc("POST /api/v1/registered-users/{id}/link-token/{$}", func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, cb, jsonBody(t, r)["callback_url"])
				writeJSON(w, http.StatusCreated, map[string]string{"link_token": "lt", "magic_link_url": "https://x.test/m"})
			})
			_, err := f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: cb})
			require.NoError(t, err)
			assert.Equal(t, int64(1), f.requests())
		})
	}
}

func TestCreateLinkTokenValidation(t *testing.T) {
	t.Parallel()
	ok := agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "https://myapp.com/cb", State: "s"}
	tests := []struct {
		name    string
		id      string
		p       func(p *agenthandler.LinkTokenParams)
		origins []string
		// want maps each field expected to have a problem to a piece of
		// its rule.
		want map[string]string
	}{
		{name: "no registered user id", id: "", want: map[string]string{"registeredUserID": "required"}},
		{name: "registered user id not a UUID", id: "user-1", want: map[string]string{"registeredUserID": "UUID"}},
		{name: "registered user id with a path", id: userID + "/../x", want: map[string]string{"registeredUserID": "UUID"}},
		{name: "no connector", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.Connector = "" }, want: map[string]string{"Connector": "required"}},
		{name: "connector not a slug", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.Connector = "Linear App" }, want: map[string]string{"Connector": "slug"}},
		{name: "state without callback", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.CallbackURL = "" }, want: map[string]string{"State": "requires CallbackURL"}},
		{name: "callback with its own state", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.CallbackURL = "https://myapp.com/cb?state=mine" }, want: map[string]string{"CallbackURL": "no state query parameter"}},
		{name: "callback relative", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.CallbackURL = "/auth/callback" }, want: map[string]string{"CallbackURL": "absolute"}},
		{name: "callback http off loopback", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.CallbackURL = "http://myapp.com/cb" }, want: map[string]string{"CallbackURL": "https"}},
		{name: "callback javascript", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.CallbackURL = "javascript://x/%0aalert(1)" }, want: map[string]string{"CallbackURL": "cannot be a callback"}},
		{name: "callback with user info", id: userID, p: func(p *agenthandler.LinkTokenParams) { p.CallbackURL = "https://u:p@myapp.com/cb" }, want: map[string]string{"CallbackURL": "user info"}},
		{name: "callback origin not allowed", id: userID, origins: []string{"https://other.com", "myapp://"},
			want: map[string]string{"CallbackURL": "origin https://myapp.com is not an allowed callback origin (https://other.com, myapp://)"}},
		{name: "callback port not allowed", id: userID, origins: []string{"https://myapp.com"},
			p:    func(p *agenthandler.LinkTokenParams) { p.CallbackURL = "https://myapp.com:8443/cb" },
			want: map[string]string{"CallbackURL": "origin https://myapp.com:8443 is not an allowed"}},
		{name: "every problem at once", id: "nope", origins: []string{"https://other.com"},
			p:    func(p *agenthandler.LinkTokenParams) { p.Connector = "" },
			want: map[string]string{"registeredUserID": "UUID", "Connector": "required", "CallbackURL": "not an allowed callback origin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []mergelink.Option
			if tt.origins != nil {
				opts = append(opts, mergelink.WithAllowedCallbackOrigins(tt.origins...))
			}
			f := setup(t, opts...)
			p := ok
			if tt.p != nil {
				tt.p(&p)
			}
			lt, err := f.ah.CreateLinkToken(context.Background(), tt.id, p)
			assert.Nil(t, lt)
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "LinkTokenParams", ve.Params)
			require.Len(t, ve.Problems, len(tt.want), "%v", err)
			for field, rule := range tt.want {
				assert.True(t, ve.Has(field), "no problem for %s in %v", field, err)
				assert.Contains(t, err.Error(), field+": ")
				assert.Contains(t, err.Error(), rule)
			}
			assert.NotContains(t, err.Error(), `"s"`, "the state is not shown")
			assert.Zero(t, f.requests(), "nothing is sent")
		})
	}
}

// Validate holds the rules that need no client; the allowed origins are
// the call's.
func TestLinkTokenParamsValidate(t *testing.T) {
	t.Parallel()
	assert.NoError(t, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "https://any.example/cb", State: "s"}.Validate())
	err := agenthandler.LinkTokenParams{State: "s", CallbackURL: ""}.Validate()
	var ve *mergelink.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("Connector"))
	assert.True(t, ve.Has("State"))
	assert.Len(t, ve.Problems, 2)
}

// Merge's errors come back as *APIError with the stable code; 4xx are not
// retried and 5xx are.
func TestCreateLinkTokenErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var calls int
	f.mux.HandleFunc("POST /api/v1/registered-users/{id}/link-token/{$}", func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("X-Request-Id", "req-42")
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalid_connector", "detail": "Connector not found"})
	})
	_, err := f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "nope"})
	var ae *mergelink.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "invalid_connector", ae.Code)
	assert.Equal(t, "Connector not found", ae.Detail)
	assert.Equal(t, "req-42", ae.RequestID)
	assert.Equal(t, "/registered-users/"+userID+"/link-token/", ae.Path)
	assert.Equal(t, 1, calls, "a 400 is not retried")
	assert.NotContains(t, err.Error(), testAPIKey)

	f2 := setup(t, mergelink.WithMaxRetries(2))
	var calls2 int
	f2.mux.HandleFunc("POST /api/v1/registered-users/{id}/link-token/{$}", func(w http.ResponseWriter, r *http.Request) {
		calls2++
		writeJSON(w, http.StatusBadGateway, map[string]string{"code": "upstream"})
	})
	_, err = f2.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "linear"})
	assert.ErrorIs(t, err, mergelink.ErrServer)
	assert.Equal(t, 1, calls2, "a POST without an Idempotency-Key is not sent twice: the first may have made a token")
}

func TestCreateLinkTokenRefusesAnAnswerWithoutALink(t *testing.T) {
	t.Parallel()
	for _, body := range []map[string]string{{}, {"link_token": "lt"}, {"magic_link_url": "https://ah.example/link"}} {
		f := setup(t)
		f.mux.HandleFunc("POST /api/v1/registered-users/{id}/link-token/{$}", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusCreated, body)
		})
		lt, err := f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "linear"})
		assert.Nil(t, lt)
		var de *mergelink.DecodeError
		require.ErrorAs(t, err, &de, "answer %v", body)
		assert.Equal(t, http.StatusCreated, de.StatusCode)
		assert.Contains(t, err.Error(), "the response has no ")
	}
}

// In APAC, where Merge publishes no Agent Handler host, every call fails
// with ErrNoAgentHandlerHost and nothing goes out.
func TestNoAgentHandlerHostInAPAC(t *testing.T) {
	t.Parallel()
	var sent int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("no request should be sent")
	})}
	c, err := mergelink.NewClient(testAPIKey, mergelink.WithRegion(mergelink.RegionAPAC), mergelink.WithHTTPClient(hc))
	require.NoError(t, err)
	ah := c.AgentHandler()
	ctx := context.Background()
	calls := map[string]func() error{
		"CreateLinkToken": func() error {
			_, err := ah.CreateLinkToken(ctx, userID, agenthandler.LinkTokenParams{Connector: "linear"})
			return err
		},
		"CreateAgentLinkToken": func() error {
			_, err := c.CreateAgentLinkToken(ctx, userID, agenthandler.LinkTokenParams{Connector: "linear"})
			return err
		},
	}
	for name, call := range userCalls {
		calls[name] = func() error { return call(ah) }
	}
	for _, lc := range lifeCalls {
		calls[lc.name] = func() error { return lc.call(ah) }
	}
	for name, call := range calls {
		err := call()
		assert.ErrorIs(t, err, mergelink.ErrNoAgentHandlerHost, name)
		if err != nil {
			assert.Contains(t, err.Error(), "WithAgentHandlerBaseURL", name)
		}
	}
	u, err := ah.MCPURL(toolPackID, userID)
	assert.Empty(t, u, "MCPURL builds no URL")
	assert.ErrorIs(t, err, mergelink.ErrNoAgentHandlerHost)
	assert.Zero(t, sent)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// No way of printing a client shows its API key.
func TestClientHidesAPIKey(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, format := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(format, f.ah), testAPIKey, format)
		assert.NotContains(t, fmt.Sprintf(format, *f.ah), testAPIKey, format)
	}
}

// invisibleRunes are every rune that is a space, a control character or an
// invisible format character (U+200B, bidirectional overrides, U+FEFF...).
func invisibleRunes() []rune {
	var rs []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			rs = append(rs, r)
		}
	}
	return rs
}

// A CallbackURL is sent exactly as given: one with a space, a control or an
// invisible character at its start, its end or anywhere inside is refused
// (nothing sent), and the rules on its query still run on it: with State
// set, its own state parameter is reported too.
func TestCreateLinkTokenRefusesCallbackURLWithInvisibleRunes(t *testing.T) {
	t.Parallel()
	runes := invisibleRunes()
	require.Greater(t, len(runes), 200, "the class is every such rune")
	f := setup(t, mergelink.WithAllowedCallbackOrigins("https://myapp.com"))
	ctx := context.Background()
	const good = "https://myapp.com/cb?state=mine"
	for _, r := range runes {
		for _, cb := range []string{
			string(r) + good,
			good + string(r),
			"https://myapp.com/c" + string(r) + "b?state=mine",
			"https://myapp" + string(r) + ".com/cb?state=mine",
			"https://myapp.com/cb?st" + string(r) + "x=1&state=mine",
		} {
			for name, err := range map[string]error{
				"Validate": agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: cb, State: "s"}.Validate(),
				"CreateLinkToken": func() error {
					_, err := f.ah.CreateLinkToken(ctx, userID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: cb, State: "s"})
					return err
				}(),
			} {
				assert.True(t, validatetest.HasProblem(err, "CallbackURL", fmt.Sprintf("%U", r)), "%s(%q): %v", name, cb, err)
				assert.True(t, validatetest.HasProblem(err, "CallbackURL", "no state query parameter"), "%s(%q) skips the state rule: %v", name, cb, err)
			}
		}
	}
	// The origin rules run too, on the URL as a reader sees it.
	err := agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: " http://myapp.com/cb\n"}.Validate()
	assert.True(t, validatetest.HasProblem(err, "CallbackURL", "U+0020"), "%v", err)
	assert.True(t, validatetest.HasProblem(err, "CallbackURL", "must use https"), "%v", err)
	assert.Zero(t, f.requests(), "nothing is sent")
}

// The query of a CallbackURL is read as a server reads it, whatever else is
// wrong with it: a state parameter of its own (when State is set) and a
// status parameter of its own (always: Merge adds status) are refused,
// however they are spelled.
func TestCreateLinkTokenCallbackQueryRules(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		callback string
		state    bool // a problem with State set
		status   bool // a problem in any case
	}{
		{"https://myapp.com/cb?state=mine", true, false},
		{"https://myapp.com/cb?a=1&state", true, false},
		{"https://myapp.com/cb?a=1&state=", true, false},
		{"https://myapp.com/cb?st%61te=x", true, false},
		{"https://myapp.com/cb?a=1;state=x", true, false},
		{"https://myapp.com/cb?x=%zz&state=1", true, false},
		{"https://myapp.com/cb?%zz&state=1", true, false},
		{"https://myapp.com/cb?status=success", false, true},
		{"https://myapp.com/cb?a=1&status", false, true},
		{"https://myapp.com/cb?%73tatus=1", false, true},
		{"https://myapp.com/cb?x=%zz;status=1", false, true},
		{"myapp:///done?status=failed&state=x", true, true},
		{"https://myapp.com/cb?session=1&next=/home", false, false},
		{"https://myapp.com/cb?STATUS=1&State=2", false, false},
		{"https://myapp.com/cb?statuses=1&states=2", false, false},
		{"https://myapp.com/cb#?status=1&state=2", false, false},
		{"https://myapp.com/cb?a=status&b=state", false, false},
	} {
		for _, state := range []string{"", "s"} {
			p := agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: tc.callback, State: state}
			err := p.Validate()
			wantState := tc.state && state != ""
			assert.Equal(t, wantState, validatetest.HasProblem(err, "CallbackURL", "no state query parameter"), "%q with State %q: %v", tc.callback, state, err)
			assert.Equal(t, tc.status, validatetest.HasProblem(err, "CallbackURL", "no status query parameter"), "%q with State %q: %v", tc.callback, state, err)
			if err != nil {
				_, callErr := f.ah.CreateLinkToken(ctx, userID, p)
				assert.Equal(t, err, callErr, "%q: the call reports what Validate does", tc.callback)
			}
		}
	}
	assert.Zero(t, f.requests(), "nothing is sent")
}

// A port outside 1 to 65535 is no port: such a callback URL is refused, and
// a port with leading zeros is the port it reads as (:0443 is https's
// default), for the allowed origins too.
func TestCreateLinkTokenCallbackPorts(t *testing.T) {
	t.Parallel()
	f := setup(t, mergelink.WithAllowedCallbackOrigins("https://myapp.com", "http://localhost:3000"))
	var got []string
	f.mux.HandleFunc("POST /api/v1/registered-users/{id}/link-token/{$}", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, jsonBody(t, r)["callback_url"].(string))
		writeJSON(w, http.StatusCreated, map[string]string{"link_token": "lt", "magic_link_url": "https://x.test/m"})
	})
	ctx := context.Background()
	ok := []string{"https://myapp.com:0443/cb", "https://myapp.com:443/cb", "http://localhost:03000/cb"}
	for _, cb := range ok {
		_, err := f.ah.CreateLinkToken(ctx, userID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: cb})
		assert.NoError(t, err, cb)
	}
	assert.Equal(t, ok, got, "sent as given")
	for _, cb := range []string{
		"https://myapp.com:0/cb", "http://localhost:0/cb", "https://myapp.com:65536/cb",
		"https://myapp.com:99999999999999999999/cb", "https://myapp.com:0444/cb",
	} {
		_, err := f.ah.CreateLinkToken(ctx, userID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: cb})
		var ve *mergelink.ValidationError
		require.ErrorAs(t, err, &ve, cb)
		assert.True(t, ve.Has("CallbackURL"), cb)
	}
	assert.Equal(t, int64(len(ok)), f.requests())
}

// A Client that mergelink.Client.AgentHandler did not make fails every
// call with an error that says how to get one, and never panics, a
// CallbackURL (whose origin check needs the settings) included.
func TestZeroClientNeverPanics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lp := agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "https://myapp.com/cb", State: "s"}
	for _, ah := range []*agenthandler.Client{nil, {}} {
		calls := map[string]func() error{
			"CreateLinkToken": func() error { _, err := ah.CreateLinkToken(ctx, userID, lp); return err },
		}
		for name, call := range userCalls {
			calls[name] = func() error { return call(ah) }
		}
		for _, lc := range lifeCalls {
			calls[lc.name] = func() error { return lc.call(ah) }
		}
		calls["MCPURL"] = func() error { _, err := ah.MCPURL(toolPackID, userID); return err }
		for name, call := range calls {
			var err error
			require.NotPanics(t, func() { err = call() }, name)
			assert.ErrorContains(t, err, "mergelink.Client.AgentHandler", name)
		}
	}
}

// userCalls makes each registered-user call of ah, for the tests that run
// every call of a client.
var userCalls = map[string]func(ah *agenthandler.Client) error{
	"CreateRegisteredUser": func(ah *agenthandler.Client) error {
		_, _, err := ah.CreateRegisteredUser(context.Background(), agenthandler.RegisteredUserParams{OriginUserID: "u1", OriginUserName: "Ada"})
		return err
	},
	"GetRegisteredUser": func(ah *agenthandler.Client) error {
		_, err := ah.GetRegisteredUser(context.Background(), userID)
		return err
	},
	"UpdateRegisteredUser": func(ah *agenthandler.Client) error {
		_, err := ah.UpdateRegisteredUser(context.Background(), userID, agenthandler.UpdateRegisteredUserParams{OriginUserName: "Ada"})
		return err
	},
	"DeleteRegisteredUser": func(ah *agenthandler.Client) error { return ah.DeleteRegisteredUser(context.Background(), userID) },
	"ListRegisteredUsers": func(ah *agenthandler.Client) error {
		for _, err := range ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{}) {
			return err
		}
		return errors.New("the iterator yielded nothing")
	},
}
