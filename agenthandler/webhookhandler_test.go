package agenthandler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/delivery"
)

// events records what a handler's function received.
type events struct {
	mu  sync.Mutex
	got []*agenthandler.WebhookEvent
	err error // returned by fn
}

func (e *events) fn(_ context.Context, ev *agenthandler.WebhookEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
	return e.err
}

func (e *events) calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

func (e *events) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.err = err
}

func newWebhookHandler(t *testing.T, fn func(context.Context, *agenthandler.WebhookEvent) error, opts ...agenthandler.WebhookOption) *agenthandler.WebhookHandler {
	t.Helper()
	h, err := agenthandler.NewWebhookHandler(fn, []string{webhookKey}, opts...)
	require.NoError(t, err)
	return h
}

// deliver POSTs body with sig in X-Merge-Signature (none when sig is
// empty).
func deliver(h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/agent-handler", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(agenthandler.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func deliverSigned(h http.Handler, body string) *httptest.ResponseRecorder {
	return deliver(h, []byte(body), agenthandler.SignWebhook([]byte(body), webhookKey))
}

const credentialCreated = `{"id":"evt-1","event":"credential.created","data":{"registered_user":{"id":"ru-1"},"connector":{"slug":"linear"}}}`

func TestWebhookHandlerPassesTheEvent(t *testing.T) {
	t.Parallel()
	var got events
	h := newWebhookHandler(t, got.fn)
	rec := deliverSigned(h, credentialCreated)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, 1, got.calls())
	ev := got.got[0]
	assert.Equal(t, agenthandler.EventCredentialCreated, ev.Type())
	d, ok := ev.Credential()
	require.True(t, ok)
	assert.Equal(t, "ru-1", d.RegisteredUser.ID)
	assert.Equal(t, "linear", d.Connector.Slug)
	assert.Equal(t, credentialCreated, string(ev.Raw))
}

// TestWebhookHandlerRefusals covers each refusal: the status, and that the
// function is never called.
func TestWebhookHandlerRefusals(t *testing.T) {
	t.Parallel()
	var got events
	h := newWebhookHandler(t, got.fn, agenthandler.WithMaxBodyBytes(256))
	body := []byte(credentialCreated)
	sig := agenthandler.SignWebhook(body, webhookKey)
	big := []byte(`{"event":"tool_call.completed","data":"` + strings.Repeat("x", 300) + `"}`)
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"GET", httptest.NewRequest(http.MethodGet, "/", nil), http.StatusMethodNotAllowed},
		{"no signature", signedRequest(body, ""), http.StatusUnauthorized},
		{"another key", signedRequest(body, agenthandler.SignWebhook(body, otherKey)), http.StatusUnauthorized},
		{"tampered body", signedRequest([]byte(strings.Replace(credentialCreated, "linear", "jira", 1)), sig), http.StatusUnauthorized},
		{"the Unified API's header", unifiedRequest(body), http.StatusUnauthorized},
		{"signed, not a JSON object", signedRequest([]byte(`["credential.created"]`), agenthandler.SignWebhook([]byte(`["credential.created"]`), webhookKey)), http.StatusBadRequest},
		{"over the limit", signedRequest(big, agenthandler.SignWebhook(big, webhookKey)), http.StatusRequestEntityTooLarge},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tc.req)
		assert.Equal(t, tc.status, rec.Code, "%s: %s", tc.name, rec.Body.String())
		if tc.status == http.StatusMethodNotAllowed {
			assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
		}
		assert.NotContains(t, rec.Body.String(), sig, tc.name)
	}
	assert.Zero(t, got.calls(), "no refused request reaches the function")
	rec := deliver(h, body, "sha256="+sig)
	assert.Equal(t, http.StatusOK, rec.Code, "the control: the same body, signed, passes")
}

func signedRequest(body []byte, sig string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(agenthandler.SignatureHeader, sig)
	}
	return req
}

// unifiedRequest signs body as the Unified API does, in its own header.
func unifiedRequest(body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, webhookKey))
	return req
}

func TestWebhookHandlerDropsDuplicatesAndRerunsFailures(t *testing.T) {
	t.Parallel()
	var got events
	h := newWebhookHandler(t, got.fn)
	got.fail(errors.New("database down"))
	assert.Equal(t, http.StatusInternalServerError, deliverSigned(h, credentialCreated).Code, "fn failed: Agent Handler must retry")
	got.fail(nil)
	assert.Equal(t, http.StatusOK, deliverSigned(h, credentialCreated).Code, "the retry")
	assert.Equal(t, http.StatusOK, deliverSigned(h, credentialCreated).Code, "a duplicate")
	assert.Equal(t, 2, got.calls(), "the failed attempt and its retry ran; the duplicate did not")

	other := strings.Replace(credentialCreated, "evt-1", "evt-2", 1)
	assert.Equal(t, http.StatusOK, deliverSigned(h, other).Code)
	assert.Equal(t, 3, got.calls(), "a distinct delivery runs")
}

func TestWebhookHandlerWithoutDuplicateStore(t *testing.T) {
	t.Parallel()
	var got events
	h := newWebhookHandler(t, got.fn, agenthandler.WithDuplicateStore(nil))
	for range 3 {
		assert.Equal(t, http.StatusOK, deliverSigned(h, credentialCreated).Code)
	}
	assert.Equal(t, 3, got.calls())
}

// TestWebhookHandlerSharesAStoreWithTheUnifiedHandler gives one store to
// both APIs' handlers, through either package's option, as a fleet does:
// each handler drops its own duplicates.
func TestWebhookHandlerSharesAStoreWithTheUnifiedHandler(t *testing.T) {
	t.Parallel()
	store, err := delivery.NewMemoryStore(delivery.MemoryOptions{})
	require.NoError(t, err)
	var agent events
	ah := newWebhookHandler(t, agent.fn, mergelink.WithDuplicateStore(store))
	var unified int
	uh, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error {
		unified++
		return nil
	}, []string{webhookKey}, agenthandler.WithDuplicateStore(store))
	require.NoError(t, err)

	ub := []byte(`{"hook":{"id":"h","event":"LinkedAccount.deleted","target":"t"},"linked_account":{"id":"la-1"},"data":{}}`)
	for range 2 {
		assert.Equal(t, http.StatusOK, deliverSigned(ah, credentialCreated).Code)
		rec := httptest.NewRecorder()
		uh.ServeHTTP(rec, unifiedRequest(ub))
		assert.Equal(t, http.StatusOK, rec.Code)
	}
	assert.Equal(t, 1, agent.calls())
	assert.Equal(t, 1, unified)
	assert.Equal(t, 2, store.Len(), "one record per delivery, both in the one store")
}

// failingStore fails every call, as a store whose server is down.
type failingStore struct{}

func (failingStore) Begin(context.Context, string, string, time.Duration) (delivery.State, error) {
	return 0, errors.New("connection refused")
}

func (failingStore) Done(context.Context, string, string, bool) error {
	return errors.New("connection refused")
}

func TestWebhookHandlerStoreDown(t *testing.T) {
	t.Parallel()
	var got events
	h := newWebhookHandler(t, got.fn, agenthandler.WithDuplicateStore(failingStore{}))
	rec := deliverSigned(h, credentialCreated)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	assert.Zero(t, got.calls())
}

// TestWebhookHandlerFunctionDeadline checks that fn's context ends within
// Agent Handler's 10-second wait by default, and at four fifths of a
// lease that an option sets.
func TestWebhookHandlerFunctionDeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		opts     []agenthandler.WebhookOption
		min, max time.Duration
	}{
		{"default", nil, 6 * time.Second, 8 * time.Second},
		{"lease of 5s", []agenthandler.WebhookOption{agenthandler.WithDeliveryLease(5 * time.Second)}, 2 * time.Second, 4 * time.Second},
		{"lease of 60s, the root package's option", []agenthandler.WebhookOption{mergelink.WithDeliveryLease(time.Minute)}, 46 * time.Second, 48 * time.Second},
	} {
		var left time.Duration
		h := newWebhookHandler(t, func(ctx context.Context, _ *agenthandler.WebhookEvent) error {
			deadline, ok := ctx.Deadline()
			require.True(t, ok, "fn's context has a deadline")
			left = time.Until(deadline)
			return nil
		}, tc.opts...)
		assert.Equal(t, http.StatusOK, deliverSigned(h, credentialCreated).Code, tc.name)
		assert.Greater(t, left, tc.min, tc.name)
		assert.LessOrEqual(t, left, tc.max, tc.name)
	}
	assert.Equal(t, 10*time.Second, agenthandler.DefaultWebhookLease)
}

func TestNewWebhookHandlerErrors(t *testing.T) {
	t.Parallel()
	var got events
	for _, keys := range [][]string{nil, {}, {""}} {
		h, err := agenthandler.NewWebhookHandler(got.fn, keys)
		assert.ErrorIs(t, err, agenthandler.ErrNoWebhookKey, "%q", keys)
		assert.Nil(t, h)
	}
	var nilStore *delivery.MemoryStore
	h, err := agenthandler.NewWebhookHandler(nil, []string{webhookKey},
		agenthandler.WithMaxBodyBytes(0), agenthandler.WithDuplicateStore(nilStore), agenthandler.WithDeliveryLease(time.Millisecond))
	assert.Nil(t, h)
	var verr *mergelink.ValidationError
	require.ErrorAs(t, err, &verr)
	for _, field := range []string{"fn", "WithMaxBodyBytes", "WithDuplicateStore", "WithDeliveryLease"} {
		assert.Contains(t, err.Error(), field)
	}
	assert.Contains(t, err.Error(), "agenthandler.NewWebhookHandler")
	assert.NotContains(t, err.Error(), webhookKey)
}

func TestWebhookHandlerTwoKeys(t *testing.T) {
	t.Parallel()
	var got events
	h, err := agenthandler.NewWebhookHandler(got.fn, []string{"", otherKey, webhookKey})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, deliverSigned(h, credentialCreated).Code)
	body := []byte(`{"event":"credential.deleted"}`)
	assert.Equal(t, http.StatusOK, deliver(h, body, agenthandler.SignWebhook(body, otherKey)).Code)
	assert.Equal(t, 2, got.calls())
}

// TestWebhookHandlerHidesKeys prints, logs and marshals the handler: no
// form shows a key.
func TestWebhookHandlerHidesKeys(t *testing.T) {
	t.Parallel()
	var got events
	h, err := agenthandler.NewWebhookHandler(got.fn, []string{webhookKey, otherKey})
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("handler", "h", h, "v", *h)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("handler", "h", h)
	j, err := json.Marshal(h)
	require.NoError(t, err)
	printed := fmt.Sprintf("%v %+v %#v %s %q %x %d %v", h, h, h, *h, h, h, *h, []*agenthandler.WebhookHandler{h})
	for _, out := range []string{printed, logs.String(), string(j)} {
		assert.NotContains(t, out, webhookKey)
		assert.NotContains(t, out, otherKey)
	}
	assert.Contains(t, printed, "keys: 2 hidden")
	assert.JSONEq(t, `"agenthandler.WebhookHandler{keys: 2 hidden, maxBody: 1048576, duplicates: true}"`, string(j))
	assert.Equal(t, "agenthandler.WebhookHandler{keys: 2 hidden, maxBody: 1048576, duplicates: true}", h.String())

	var zero agenthandler.WebhookHandler
	rec := httptest.NewRecorder()
	zero.ServeHTTP(rec, signedRequest([]byte(credentialCreated), "x"))
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "a handler not made by NewWebhookHandler")
	assert.Contains(t, zero.String(), "not made by NewWebhookHandler")
}

// TestWebhookHandlerLogsWithoutSecrets logs every kind of refusal and a
// failure of the function: no line holds a key, a signature or the body.
func TestWebhookHandlerLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	const marker = "BODY-LEAKCHECK-0815"
	body := []byte(`{"event":"tool_call.failed","data":{"input":"` + marker + `"}}`)
	sig := agenthandler.SignWebhook(body, webhookKey)
	h := newWebhookHandler(t, func(context.Context, *agenthandler.WebhookEvent) error {
		return errors.New("fn failed")
	}, agenthandler.WithWebhookLogger(logger))
	deliver(h, body, sig)                                                          // fn fails
	deliver(h, body, agenthandler.SignWebhook(body, otherKey))                     // wrong key
	deliver(h, []byte(`[1]`), agenthandler.SignWebhook([]byte(`[1]`), webhookKey)) // not an object
	deliver(h, body, "")                                                           // no signature

	mu.Lock()
	out := logs.String()
	mu.Unlock()
	assert.Contains(t, out, "agent handler webhook: handler function failed")
	assert.Contains(t, out, "invalid signature")
	assert.Contains(t, out, "tool_call.failed")
	for _, secret := range []string{webhookKey, otherKey, sig, marker} {
		assert.NotContains(t, out, secret)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
