package mergelink_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/testnet"
	"github.com/mergelink/mergelink/mergetest"
)

// Secrets of TestSecretsNeverShow besides testAPIKey and testWebhookKey,
// distinctive so that any copy of them shows.
const (
	leakAccountToken = "tok-acct-LEAKCHECK-q9Z3v"
	leakWrongAPIKey  = "sk-wrong-LEAKCHECK-8pYt" // a key the server refuses
	leakLinkToken    = "lt-LEAKCHECK-link-7Rw2"  // in magic link URLs
	leakState        = "state-LEAKCHECK-Vb81"    // an Agent Handler callback state
	leakPublicToken  = "pub-LEAKCHECK-3xTq"      // exchanged for an account token
)

// leakCheck fails the test when a secret shows in a string, in a value
// printed with any fmt verb, or in the slog output of the loggers it hands
// out: a text and a JSON handler at debug level, fed together.
type leakCheck struct {
	t       *testing.T
	mu      sync.Mutex
	forms   map[string]string // every form a secret may take in text -> the secret
	checked int
	text    bytes.Buffer
	json    bytes.Buffer
	logger  *slog.Logger
}

func newLeakCheck(t *testing.T, secrets ...string) *leakCheck {
	c := &leakCheck{t: t, forms: map[string]string{}}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	c.logger = slog.New(fanOut{
		slog.NewTextHandler(&lockedWriter{w: &c.text, mu: &c.mu}, opts),
		slog.NewJSONHandler(&lockedWriter{w: &c.json, mu: &c.mu}, opts),
	})
	for _, s := range secrets {
		c.add(s)
	}
	return c
}

// add makes s a secret: the test fails when s shows, cut at either end,
// or encoded as fmt and slog encode bytes (hex, decimal, base64 at each
// alignment).
func (c *leakCheck) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := []byte(s)
	forms := []string{
		s[:len(s)-4], s[4:],
		hex.EncodeToString(b),
		strings.Trim(fmt.Sprint(b), "[]"),
		strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", b), "[]byte{"), "}"),
	}
	for k := range 3 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			e := enc.EncodeToString(b[k:])
			forms = append(forms, e[:len(e)/4*4-4]) // the groups no other byte touches
		}
	}
	for _, f := range forms {
		c.forms[f] = s
	}
}

// check fails when text holds a secret.
func (c *leakCheck) check(what, text string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked++
	for form, secret := range c.forms {
		if strings.Contains(text, form) {
			c.t.Errorf("%s shows the secret %q (as %q):\n%s", what, secret, form, text)
			return
		}
	}
}

// verbs are the fmt verbs every value is printed with: a type that hides a
// secret in String alone still prints its fields under %d or %t.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%o"}

// value checks v printed with every verb, and encoded with encoding/json,
// and logs it, alone and held in a slice, a map, a struct and through a
// pointer: slog's JSON handler encodes such holders with encoding/json,
// which never calls LogValue, and its text handler prints them with fmt.
func (c *leakCheck) value(what string, v any) {
	c.t.Helper()
	for _, verb := range verbs {
		c.check(what+" "+verb, fmt.Sprintf(verb, v))
	}
	c.logger.Debug("value", "what", what, "value", v)
	if v == nil {
		return
	}
	for how, held := range holders(v) {
		c.logger.Debug("value", "what", what, "held in", how, "value", held)
		if data, err := json.Marshal(held); err == nil {
			c.check(what+" in "+how+" as JSON", string(data))
		} else {
			c.check(what+" in "+how+" as JSON (error)", err.Error())
		}
	}
}

// holders returns v alone and held in the containers that slog's handlers
// print with encoding/json or fmt: a slice and a map of v's own type, a
// struct field, a pointer, and those nested.
func holders(v any) map[string]any {
	rv := reflect.ValueOf(v)
	slice := reflect.MakeSlice(reflect.SliceOf(rv.Type()), 0, 2)
	slice = reflect.Append(slice, rv, rv)
	m := reflect.MakeMap(reflect.MapOf(reflect.TypeOf(""), rv.Type()))
	m.SetMapIndex(reflect.ValueOf("k"), rv)
	ptr := reflect.New(rv.Type())
	ptr.Elem().Set(rv)
	type holder struct {
		Value any
		List  any
	}
	return map[string]any{
		"itself":                v,
		"a slice":               slice.Interface(),
		"a map":                 m.Interface(),
		"a pointer":             ptr.Interface(),
		"a struct":              holder{Value: v},
		"a pointer to a struct": &holder{Value: ptr.Interface(), List: slice.Interface()},
		"a map of slices":       map[string]any{"k": []any{m.Interface()}},
	}
}

// err checks that err is an error and shows no secret, nor does any error
// it wraps.
func (c *leakCheck) err(what string, err error) {
	c.t.Helper()
	if !assert.Error(c.t, err, what) {
		return
	}
	c.check(what, err.Error())
	c.value(what, err)
	c.logger.Error("call failed", "what", what, "error", err)
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			c.err(what+" (wrapped)", inner)
		}
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			c.err(what+" (joined)", inner)
		}
	}
}

// result checks what a call returned: its error, or its value.
func (c *leakCheck) result(what string, v any, err error) {
	c.t.Helper()
	if err != nil {
		c.err(what, err)
		return
	}
	c.value(what, v)
}

// logs checks what was logged, and returns it for more assertions.
func (c *leakCheck) logs() (text, json string) {
	c.t.Helper()
	c.mu.Lock()
	text, json = c.text.String(), c.json.String()
	c.mu.Unlock()
	c.check("text log", text)
	c.check("JSON log", json)
	return text, json
}

// fanOut sends each record to every handler.
type fanOut []slog.Handler

func (f fanOut) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanOut) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanOut) WithAttrs(attrs []slog.Attr) slog.Handler {
	g := make(fanOut, len(f))
	for i, h := range f {
		g[i] = h.WithAttrs(attrs)
	}
	return g
}

func (f fanOut) WithGroup(name string) slog.Handler {
	g := make(fanOut, len(f))
	for i, h := range f {
		g[i] = h.WithGroup(name)
	}
	return g
}

// apiCall is one call of the client, with input that passes validation.
type apiCall struct {
	name string
	do   func(context.Context) (any, error)
}

// leakUserID is a registered user id that passes validation.
const leakUserID = "41f11808-5387-4be5-9af2-852a372d61e3"

// everyCall lists every call of c, the Agent Handler ones included, with
// valid input: leakPublicToken and leakState are passed, so that they would
// show if echoed.
func everyCall(c *mergelink.Client) []apiCall {
	ah := c.AgentHandler()
	lt := mergelink.LinkTokenParams{
		EndUserEmailAddress: "jane@example.com", EndUserOrganizationName: "Example", EndUserOriginID: "user-1",
		Categories: []mergelink.Category{mergelink.CategoryHRIS},
	}
	agentLT := agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "https://myapp.example/cb", State: leakState}
	return []apiCall{
		{"CreateLinkToken", func(ctx context.Context) (any, error) { return c.CreateLinkToken(ctx, lt) }},
		{"CreateMagicLink", func(ctx context.Context) (any, error) { return c.CreateMagicLink(ctx, mergelink.MagicLinkParams(lt)) }},
		{"ExchangeAccountToken", func(ctx context.Context) (any, error) {
			return c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, leakPublicToken)
		}},
		{"ListLinkedAccounts", func(ctx context.Context) (any, error) {
			return readAll(c.ListLinkedAccounts(ctx, mergelink.LinkedAccountsParams{}))
		}},
		{"CreateAgentLinkToken", func(ctx context.Context) (any, error) { return c.CreateAgentLinkToken(ctx, leakUserID, agentLT) }},
		{"ListConnectors", func(ctx context.Context) (any, error) {
			return readAll(ah.ListConnectors(ctx, agenthandler.ListConnectorsParams{}))
		}},
		{"GetConnector", func(ctx context.Context) (any, error) { return ah.GetConnector(ctx, "linear") }},
		{"DeleteCredential", func(ctx context.Context) (any, error) { return nil, ah.DeleteCredential(ctx, leakUserID, "linear") }},
		{"CreateRegisteredUser", func(ctx context.Context) (any, error) {
			u, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "user-1", OriginUserName: "Jane"})
			return u, err
		}},
		{"GetRegisteredUser", func(ctx context.Context) (any, error) { return ah.GetRegisteredUser(ctx, leakUserID) }},
		{"UpdateRegisteredUser", func(ctx context.Context) (any, error) {
			return ah.UpdateRegisteredUser(ctx, leakUserID, agenthandler.UpdateRegisteredUserParams{OriginUserName: "Jane D."})
		}},
		{"DeleteRegisteredUser", func(ctx context.Context) (any, error) { return nil, ah.DeleteRegisteredUser(ctx, leakUserID) }},
		{"ListRegisteredUsers", func(ctx context.Context) (any, error) {
			return readAll(ah.ListRegisteredUsers(ctx, agenthandler.ListRegisteredUsersParams{}))
		}},
		{"agenthandler.CreateLinkToken", func(ctx context.Context) (any, error) { return ah.CreateLinkToken(ctx, leakUserID, agentLT) }},
	}
}

// readAll reads a listing to its end or first error.
func readAll[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var all []T
	for v, err := range seq {
		if err != nil {
			return all, err
		}
		all = append(all, v)
	}
	return all, nil
}

// TestSecretsNeverShow drives every failure path the SDK has, with a
// distinctive API key, account token and webhook key (and link token and
// callback state), and checks that none of them shows in an error, in a
// returned value printed with any fmt verb, in a webhook handler's answer
// or in slog output, text or JSON, at debug level.
func TestSecretsNeverShow(t *testing.T) {
	t.Parallel()
	lc := newLeakCheck(t, testAPIKey, leakAccountToken, testWebhookKey, leakWrongAPIKey, leakLinkToken, leakState, leakPublicToken)
	ctx := context.Background()

	t.Run("NewClient options", func(t *testing.T) {
		_, err := mergelink.NewClient(testAPIKey + "\r\n")
		lc.err("NewClient with a key of two lines", err)
		for _, raw := range []string{
			"https://user:" + testAPIKey + "@api.merge.dev/api",
			"https://" + testAPIKey + "@api.merge.dev/api",
			"http://user:" + testAPIKey + "@evil.example/api",
			"https://user:" + testAPIKey + "@api.merge.dev:port/api",
			"https:/user:" + testAPIKey + "@api.merge.dev/api",
			"//user:" + testAPIKey + "@api.merge.dev/api",
		} {
			for _, opt := range []mergelink.Option{
				mergelink.WithBaseURL(raw), mergelink.WithAgentHandlerBaseURL(raw), mergelink.WithAllowedCallbackOrigins(raw),
			} {
				_, err := mergelink.NewClient(testAPIKey, opt)
				lc.err("NewClient with the key in a URL's user info", err)
			}
		}
		for _, raw := range []string{
			"https://api.merge.dev/api?api_key=" + testAPIKey,
			"https://api.merge.dev/api?" + testAPIKey,
			"https://api.merge.dev/api?a=b&key=" + testAPIKey + "#x",
			"https://api.merge.dev/api#" + testAPIKey,
			"http://evil.example/api?key=" + testAPIKey,
		} {
			for _, opt := range []mergelink.Option{mergelink.WithBaseURL(raw), mergelink.WithAgentHandlerBaseURL(raw)} {
				_, err := mergelink.NewClient(testAPIKey, opt)
				lc.err("NewClient with the key in a base URL's query or fragment", err)
			}
		}
		_, err = mergelink.NewClient(testAPIKey,
			mergelink.WithRegion("mars"), mergelink.WithHTTPClient(nil), mergelink.WithMaxRetries(-1),
			mergelink.WithRetryWait(0, 0), mergelink.WithUserAgent("a\nb"), mergelink.WithLogger(lc.logger))
		lc.err("NewClient with every option wrong", err)
		c, err := mergelink.NewClient(testAPIKey, mergelink.WithLogger(lc.logger))
		require.NoError(t, err)
		lc.value("client", c)
		lc.value("Agent Handler client", c.AgentHandler())
	})

	t.Run("validation", func(t *testing.T) {
		c, _ := setup(t, mergelink.WithLogger(lc.logger))
		ah := c.AgentHandler()
		invalid := func(what string, err error) {
			var ve *mergelink.ValidationError
			assert.ErrorAs(t, err, &ve, what)
			lc.err(what, err)
		}
		_, err := c.CreateLinkToken(ctx, mergelink.LinkTokenParams{LinkExpiryMins: -1, Categories: []mergelink.Category{"nope"}})
		invalid("CreateLinkToken", err)
		_, err = c.CreateMagicLink(ctx, mergelink.MagicLinkParams{})
		invalid("CreateMagicLink", err)
		_, err = c.ExchangeAccountToken(ctx, "nope", leakPublicToken)
		invalid("ExchangeAccountToken with an unknown category", err)
		_, err = c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, " ")
		invalid("ExchangeAccountToken without a public token", err)
		_, err = readAll(c.ListLinkedAccounts(ctx, mergelink.LinkedAccountsParams{PageSize: -1, Status: "nope"}))
		invalid("ListLinkedAccounts", err)
		_, err = c.CreateAgentLinkToken(ctx, "not-a-uuid", agenthandler.LinkTokenParams{State: leakState})
		invalid("CreateAgentLinkToken", err)
		_, err = readAll(ah.ListConnectors(ctx, agenthandler.ListConnectorsParams{PageSize: -1}))
		invalid("ListConnectors", err)
		_, err = ah.GetConnector(ctx, "Not A Slug")
		invalid("GetConnector", err)
		invalid("DeleteCredential", ah.DeleteCredential(ctx, "x", "Not A Slug"))
		_, err = ah.MCPURL("x", "y")
		invalid("MCPURL", err)
		_, _, err = ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{UserType: "robot"})
		invalid("CreateRegisteredUser", err)
		_, err = ah.GetRegisteredUser(ctx, "x")
		invalid("GetRegisteredUser", err)
		_, err = ah.UpdateRegisteredUser(ctx, "x", agenthandler.UpdateRegisteredUserParams{})
		invalid("UpdateRegisteredUser", err)
		invalid("DeleteRegisteredUser", ah.DeleteRegisteredUser(ctx, "x"))
		_, err = readAll(ah.ListRegisteredUsers(ctx, agenthandler.ListRegisteredUsersParams{Page: -1}))
		invalid("ListRegisteredUsers", err)
		_, err = ah.CreateLinkToken(ctx, leakUserID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "http://evil.example/cb?state=x", State: leakState})
		invalid("agenthandler.CreateLinkToken", err)
	})

	t.Run("API errors of every status class", func(t *testing.T) {
		srv := mergetest.NewTestServer(t, mergetest.WithAPIKey(testAPIKey))
		c, err := mergelink.NewClient(testAPIKey, append(srv.ClientOptions(), mergelink.WithMaxRetries(1), mergelink.WithLogger(lc.logger))...)
		require.NoError(t, err)
		for _, status := range []int{400, 401, 403, 404, 409, 422, 429, 500, 501, 502, 503} {
			srv.FailNext(1<<20, status, "0")
			for _, call := range everyCall(c) {
				_, err := call.do(ctx)
				var apiErr *mergelink.APIError
				if assert.ErrorAs(t, err, &apiErr, call.name) {
					assert.Equal(t, status, apiErr.StatusCode, call.name)
				}
				lc.err(fmt.Sprintf("%s answered %d", call.name, status), err)
			}
		}
		srv.FailNext(0, 500, "")
		// Merge's own refusals: an unknown public token or user, a wrong key.
		for _, call := range everyCall(c) {
			v, err := call.do(ctx)
			lc.result(call.name+" against mergetest", v, err)
		}
		wrong, err := mergelink.NewClient(leakWrongAPIKey, append(srv.ClientOptions(), mergelink.WithLogger(lc.logger))...)
		require.NoError(t, err)
		for _, call := range everyCall(wrong) {
			_, err := call.do(ctx)
			assert.ErrorIs(t, err, mergelink.ErrUnauthorized, call.name)
			lc.err(call.name+" with a wrong key", err)
		}
		// A request's path shows the public token, for tests to assert on;
		// the API keys stay hidden.
		keys := newLeakCheck(t, testAPIKey, leakWrongAPIKey)
		keys.value("the requests mergetest received", srv.Requests())
		keys.logs()
		text, json := lc.logs()
		assert.Contains(t, text, "mergelink: retrying", "retries are logged")
		assert.Contains(t, json, `"path":"/hris/v1/account-token/{public_token}"`)
	})

	t.Run("redirects", func(t *testing.T) {
		c, mux := setup(t, mergelink.WithLogger(lc.logger))
		locations := []string{
			"https://user:" + testAPIKey + "@evil.example/x?token=" + leakAccountToken + "#" + leakState,
			"http://user:" + testAPIKey + "@[bad/x?" + leakAccountToken, // does not parse
			"/elsewhere?key=" + testAPIKey,
		}
		var n atomic.Int32
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", locations[int(n.Add(1))%len(locations)])
			w.WriteHeader(http.StatusTemporaryRedirect)
		})
		for range locations {
			for _, call := range everyCall(c) {
				_, err := call.do(ctx)
				var apiErr *mergelink.APIError
				if assert.ErrorAs(t, err, &apiErr, call.name) {
					assert.Equal(t, http.StatusTemporaryRedirect, apiErr.StatusCode, call.name)
				}
				lc.err(call.name+" redirected", err)
			}
		}
	})

	t.Run("transport errors", func(t *testing.T) {
		addr := testnet.RefusedAddr(t)
		c, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL("http://"+addr+"/api"),
			mergelink.WithAgentHandlerBaseURL("http://"+addr+"/ah/api/v1"), mergelink.WithMaxRetries(1),
			mergelink.WithRetryWait(time.Millisecond, time.Millisecond), mergelink.WithLogger(lc.logger))
		require.NoError(t, err)
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		for _, call := range everyCall(c) {
			_, err := call.do(ctx)
			assert.ErrorIs(t, err, syscall.ECONNREFUSED, call.name)
			lc.err(call.name+" refused", err)
			_, err = call.do(canceled)
			assert.ErrorIs(t, err, context.Canceled, call.name)
			lc.err(call.name+" canceled", err)
		}
	})

	t.Run("2xx answers that do not decode", func(t *testing.T) {
		c, mux := setup(t, mergelink.WithLogger(lc.logger))
		var mu sync.Mutex
		var answer string
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, answer)
		})
		tok := `"account_token":"` + leakAccountToken + `"`
		decodeErrors := 0
		for i, body := range []string{
			`not JSON ` + leakAccountToken,
			`{` + tok,
			`{` + tok + `,"id":5}`,
			`{` + tok + `,"integration":"` + leakAccountToken + `"}`,
			`{` + tok + `,"results":[{"id":5}],"next":"` + leakAccountToken + `"}`,
			`[` + tok + `]`,
			`{` + tok + `,"link_token":5,"magic_link_url":7}`,
			`{` + tok + `,"id":"acct-1","link_token":"lt-1","magic_link_url":"https://merge.example/link/lt-1"}`,
		} {
			mu.Lock()
			answer = body
			mu.Unlock()
			for _, call := range everyCall(c) {
				v, err := call.do(ctx)
				var de *mergelink.DecodeError
				if errors.As(err, &de) {
					decodeErrors++
				}
				lc.result(fmt.Sprintf("%s answered body %d", call.name, i), v, err)
			}
		}
		assert.Greater(t, decodeErrors, 40, "DecodeErrors")
		at, err := c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, "public")
		require.NoError(t, err)
		assert.Equal(t, leakAccountToken, at.AccountToken)
		lc.value("AccountToken", at)
		lc.value("AccountToken value", *at)
	})

	t.Run("webhook verification and parsing", func(t *testing.T) {
		body := []byte(payload(mergelink.EventLinkedAccountLinked, `{"account_token":"`+leakAccountToken+`","is_relink":false}`))
		sig := mergelink.SignWebhook(body, testWebhookKey)
		lc.err("no signature", mergelink.VerifyWebhookSignature(body, "", testWebhookKey))
		lc.err("no key", mergelink.VerifyWebhookSignature(body, sig))
		lc.err("wrong key", mergelink.VerifyWebhookSignature(body, sig, leakWrongAPIKey))
		lc.err("another key's signature", mergelink.VerifyWebhookSignature(body, mergelink.SignWebhook(body, "other"), testWebhookKey))
		lc.err("tampered body", mergelink.VerifyWebhookSignature(append(body, ' '), sig, testWebhookKey))
		for i, bad := range []string{
			`not JSON ` + leakAccountToken,
			`["` + leakAccountToken + `"]`,
			`{"data":{"account_token":"` + leakAccountToken + `"}}`,
			payload(mergelink.EventLinkedAccountLinked, `{"account_token":["`+leakAccountToken+`"],"is_relink":"`+leakAccountToken+`"}`),
			payload(mergelink.EventLinkedAccountSyncCompleted, `{"account_token":{"t":"`+leakAccountToken+`"},"sync_status":"`+leakAccountToken+`"}`),
			payload(mergelink.EventLinkedAccountLinked, `{"account_token":"`+leakAccountToken+`"`),
		} {
			b, s := signed(bad)
			_, err := mergelink.ParseWebhook(b, s, testWebhookKey)
			lc.err(fmt.Sprint("ParseWebhook of bad payload ", i), err)
		}
		ev, err := mergelink.ParseWebhook(body, sig, testWebhookKey)
		require.NoError(t, err)
		token, _ := ev.AccountToken()
		require.Equal(t, leakAccountToken, token)
		lc.value("WebhookEvent", ev)
		lc.value("WebhookEvent value", *ev)
	})

	t.Run("webhook handler", func(t *testing.T) {
		fn := func(_ context.Context, ev *mergelink.WebhookEvent) error {
			lc.value("event passed to the function", ev)
			if ev.LinkedAccount.ID == "acct-fail" {
				return errors.New("could not store the account")
			}
			return nil
		}
		_, err := mergelink.NewWebhookHandler(nil, []string{testWebhookKey}, mergelink.WithMaxBodyBytes(-1))
		lc.err("NewWebhookHandler without a function", err)
		_, err = mergelink.NewWebhookHandler(fn, []string{""})
		lc.err("NewWebhookHandler without a key", err)
		h, err := mergelink.NewWebhookHandler(fn, []string{leakWrongAPIKey, testWebhookKey},
			mergelink.WithMaxBodyBytes(4<<10), mergelink.WithWebhookLogger(lc.logger))
		require.NoError(t, err)
		lc.value("WebhookHandler", h)
		lc.value("WebhookHandler value", *h)

		linked := payload(mergelink.EventLinkedAccountLinked, `{"account_token":"`+leakAccountToken+`","is_relink":false}`)
		b, sig := signed(linked)
		failing, failingSig := signed(strings.Replace(linked, `"acct-1"`, `"acct-fail"`, 1))
		notWebhook, notWebhookSig := signed(`{"data":{"account_token":"` + leakAccountToken + `"}}`)
		wrongType, wrongTypeSig := signed(payload(mergelink.EventLinkedAccountLinked, `{"account_token":["`+leakAccountToken+`"]}`))
		large := []byte(`{"account_token":"` + leakAccountToken + `","pad":"` + strings.Repeat("x", 8<<10) + `"}`)
		testBody, testSig := signed(`{"response": "Success! This URL will be notified."}`)
		for _, tc := range []struct {
			name   string
			method string
			body   []byte
			sig    string
			status int
		}{
			{"GET", http.MethodGet, b, sig, http.StatusMethodNotAllowed},
			{"too large", http.MethodPost, large, mergelink.SignWebhook(large, testWebhookKey), http.StatusRequestEntityTooLarge},
			{"no signature", http.MethodPost, b, "", http.StatusUnauthorized},
			{"wrong signature", http.MethodPost, b, mergelink.SignWebhook(b, "other"), http.StatusUnauthorized},
			{"not a webhook", http.MethodPost, notWebhook, notWebhookSig, http.StatusBadRequest},
			{"data of the wrong type", http.MethodPost, wrongType, wrongTypeSig, http.StatusBadRequest},
			{"function fails", http.MethodPost, failing, failingSig, http.StatusInternalServerError},
			{"delivered", http.MethodPost, b, sig, http.StatusOK},
			{"delivered again", http.MethodPost, b, sig, http.StatusOK},
			{"dashboard test", http.MethodPost, testBody, testSig, http.StatusOK},
		} {
			req := httptest.NewRequest(tc.method, "/webhooks/merge", bytes.NewReader(tc.body))
			if tc.sig != "" {
				req.Header.Set(mergelink.SignatureHeader, tc.sig)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code, tc.name)
			var head strings.Builder
			require.NoError(t, rec.Result().Header.Write(&head))
			lc.check("handler answer to "+tc.name, fmt.Sprintf("%d\n%s\n%s", rec.Code, head.String(), rec.Body.String()))
		}
		text, json := lc.logs()
		for _, want := range []string{"request refused", "handler function failed", "acct-fail"} {
			assert.Contains(t, text, want)
			assert.Contains(t, json, want)
		}
	})

	t.Run("mergetest end to end", func(t *testing.T) {
		var mu sync.Mutex
		var events []*mergelink.WebhookEvent
		h, err := mergelink.NewWebhookHandler(func(_ context.Context, ev *mergelink.WebhookEvent) error {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev)
			return nil
		}, []string{testWebhookKey}, mergelink.WithWebhookLogger(lc.logger))
		require.NoError(t, err)
		hooks := httptest.NewServer(h)
		t.Cleanup(hooks.Close)
		srv := mergetest.NewTestServer(t, mergetest.WithAPIKey(testAPIKey),
			mergetest.WithWebhook(hooks.URL, testWebhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
		c, err := mergelink.NewClient(testAPIKey, append(srv.ClientOptions(), mergelink.WithLogger(lc.logger))...)
		require.NoError(t, err)
		lt, err := c.CreateLinkToken(ctx, mergelink.LinkTokenParams{
			EndUserEmailAddress: "jane@example.com", EndUserOrganizationName: "Example", EndUserOriginID: "user-e2e",
			Categories: []mergelink.Category{mergelink.CategoryATS},
		})
		require.NoError(t, err)
		acct, err := srv.CompleteLink(lt.LinkToken, "greenhouse")
		require.NoError(t, err)
		lc.add(acct.AccountToken)
		lc.add(acct.PublicToken)
		lc.value("mergetest LinkedAccount", acct)
		lc.value("mergetest LinkedAccounts", srv.LinkedAccounts())
		deliveries, err := srv.WaitForDeliveries(ctx, 2)
		require.NoError(t, err)
		lc.value("mergetest deliveries", deliveries)
		at, err := c.ExchangeAccountToken(ctx, mergelink.CategoryATS, acct.PublicToken)
		require.NoError(t, err)
		assert.Equal(t, acct.AccountToken, at.AccountToken)
		lc.value("exchanged AccountToken", at)
		_, err = c.ExchangeAccountToken(ctx, mergelink.CategoryATS, acct.PublicToken)
		lc.err("exchanging a public token twice", err)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, events, 2)
		for _, ev := range events {
			token, ok := ev.AccountToken()
			assert.True(t, ok)
			assert.Equal(t, acct.AccountToken, token)
			lc.value("delivered WebhookEvent", ev)
		}
	})

	t.Run("agenthandler helpers", func(t *testing.T) {
		magic := "https://ah.merge.example/link/" + leakLinkToken + "?t=" + leakLinkToken
		for _, tc := range []struct{ magic, callback string }{
			{"http://evil.example/link/" + leakLinkToken, "https://myapp.example/cb"},
			{"/link/" + leakLinkToken, "https://myapp.example/cb"},
			{magic + "&callback_url=x", "https://myapp.example/cb"},
			{magic + "&%zz", "https://myapp.example/cb"},
			{magic, "javascript:alert(1)"},
		} {
			_, err := agenthandler.AppendCallbackURL(tc.magic, tc.callback)
			lc.err("AppendCallbackURL", err)
		}
		_, err := agenthandler.OriginOf("https://user:" + testAPIKey + "@myapp.example/cb")
		lc.err("OriginOf with user info", err)
		for _, q := range []url.Values{
			{}, {"state": {"other"}}, {"state": {leakState, leakState}}, {"state": {leakState}},
		} {
			_, err := agenthandler.ParseCallback(q, leakState)
			lc.err("ParseCallback", err)
		}
		_, err = agenthandler.ParseCallback(url.Values{"state": {leakState}}, "")
		lc.err("ParseCallback without a state to expect", err)
		for i, data := range []string{
			`not JSON ` + leakLinkToken,
			`{"link_token":"` + leakLinkToken + `"}`,
			`{"magic_link_url":"http://evil.example/link/` + leakLinkToken + `","link_token":"` + leakLinkToken + `"}`,
			`{"magic_link_url":5,"link_token":"` + leakLinkToken + `"}`,
		} {
			_, err := agenthandler.ParseAuthenticateResult([]byte(data))
			lc.err(fmt.Sprint("ParseAuthenticateResult of bad result ", i), err)
		}
		res, err := agenthandler.ParseAuthenticateResult([]byte(`{"message":"m","magic_link_url":"` + magic + `","link_token":"` + leakLinkToken + `"}`))
		require.NoError(t, err)
		assert.Equal(t, magic, res.MagicLinkURL) // a result is for the agent to use, not to print
	})

	_, _ = lc.logs()
	assert.Greater(t, lc.checked, 1000, "checks run")
}
