package riverinbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergeerr"
	"github.com/mergelink/mergelink/riverinbox"
)

// The inbox refuses what the inline handler refuses, with the same status,
// headers and text, and queues nothing; what the inline handler accepts
// the inbox answers 200.
func TestHandlerAnswersAsInline(t *testing.T) {
	db := openSQLite(t)
	client := sqliteClient(t, db, nil)
	limit := mergelink.WithMaxBodyBytes(512)
	inbox, err := riverinbox.NewHandler(client, []string{webhookKey}, riverinbox.Options{}, limit)
	require.NoError(t, err)
	inline, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error { return nil }, []string{webhookKey}, limit)
	require.NoError(t, err)
	agentInbox, err := riverinbox.NewAgentHandler(client, []string{webhookKey}, riverinbox.Options{}, limit)
	require.NoError(t, err)
	agentInline, err := agenthandler.NewWebhookHandler(func(context.Context, *agenthandler.WebhookEvent) error { return nil }, []string{webhookKey}, limit)
	require.NoError(t, err)

	big := linked(strings.Repeat("x", 600))
	notWebhook := []byte(`{"hook":{}}`)
	agentSigned := func(body []byte, sig string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/agent", bytes.NewReader(body))
		if sig != "" {
			r.Header.Set(agenthandler.SignatureHeader, sig)
		}
		return r
	}
	stale := []byte(`{"event":"credential.created","created_at":"2001-01-01T00:00:00Z"}`)
	refused := []struct {
		name          string
		inbox, inline http.Handler
		request       func() *http.Request
		wantStatus    int
	}{
		{"GET", inbox, inline, func() *http.Request { return httptest.NewRequest(http.MethodGet, "/webhooks", nil) }, http.StatusMethodNotAllowed},
		{"over the limit", inbox, inline, func() *http.Request { return signed(big) }, http.StatusRequestEntityTooLarge},
		{"no signature", inbox, inline, func() *http.Request {
			r := signed(linked("a"))
			r.Header.Del(mergelink.SignatureHeader)
			return r
		}, http.StatusUnauthorized},
		{"wrong signature", inbox, inline, func() *http.Request {
			r := signed(linked("a"))
			r.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(linked("a"), "other"))
			return r
		}, http.StatusUnauthorized},
		{"signed, not a webhook", inbox, inline, func() *http.Request { return signed(notWebhook) }, http.StatusBadRequest},
		{"agent: no signature", agentInbox, agentInline, func() *http.Request { return agentSigned([]byte(`{"event":"credential.created"}`), "") }, http.StatusUnauthorized},
		{"agent: not an object", agentInbox, agentInline, func() *http.Request {
			return agentSigned([]byte(`[1]`), agenthandler.SignWebhook([]byte(`[1]`), webhookKey))
		}, http.StatusBadRequest},
		{"agent: stale", agentInbox, agentInline, func() *http.Request { return agentSigned(stale, agenthandler.SignWebhook(stale, webhookKey)) }, http.StatusBadRequest},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			got, want := serve(c.inbox, c.request()), serve(c.inline, c.request())
			assert.Equal(t, c.wantStatus, want.Code, "the inline handler's answer")
			assert.Equal(t, want.Code, got.Code)
			assert.Equal(t, want.Body.String(), got.Body.String())
			assert.Equal(t, want.Header(), got.Header())
		})
	}
	var jobs int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM river_job").Scan(&jobs))
	assert.Zero(t, jobs, "a refused request queues nothing")

	rec := serve(inbox, signed(linked("a")))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = serve(agentInbox, agentSigned([]byte(`{"event":"credential.created"}`), agenthandler.SignWebhook([]byte(`{"event":"credential.created"}`), webhookKey)))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, 1, countJobs(t, db, riverinbox.Args{}.Kind()))
	assert.Equal(t, 1, countJobs(t, db, riverinbox.AgentArgs{}.Kind()))
}

// Copies of one delivery make one job, which carries the signed body and
// its key; another delivery makes another; the dashboard's test payload
// is queued each time it is sent.
func TestHandlerQueuesEachDeliveryOnce(t *testing.T) {
	db := openSQLite(t)
	inbox, err := riverinbox.NewHandler(sqliteClient(t, db, nil), []string{webhookKey}, riverinbox.Options{MaxAttempts: 3, Queue: "webhooks"})
	require.NoError(t, err)
	for range 3 {
		rec := serve(inbox, signed(linked("a")))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	require.Equal(t, http.StatusOK, serve(inbox, signed(linked("b"))).Code)
	test := []byte(`{"response":"Success! This URL will be notified."}`)
	for range 2 {
		require.Equal(t, http.StatusOK, serve(inbox, signed(test)).Code)
	}
	assert.Equal(t, 4, countJobs(t, db, riverinbox.Args{}.Kind()), "a, b, and the test payload twice")

	ev, err := mergelink.ParseWebhook(linked("a"), mergelink.SignWebhook(linked("a"), webhookKey), webhookKey)
	require.NoError(t, err)
	var args string
	var maxAttempts int
	var queue string
	require.NoError(t, db.QueryRow("SELECT args, max_attempts, queue FROM river_job WHERE kind = ? ORDER BY id LIMIT 1", riverinbox.Args{}.Kind()).Scan(&args, &maxAttempts, &queue))
	assert.Contains(t, args, `"delivery_key":"`+ev.DeliveryKey()+`"`)
	assert.Equal(t, 3, maxAttempts)
	assert.Equal(t, "webhooks", queue)
}

// A failed insert is answered 503 with Retry-After, so that Merge retries.
func TestHandlerAnswers503WhenInsertFails(t *testing.T) {
	db := openSQLite(t)
	inbox, err := riverinbox.NewHandler(sqliteClient(t, db, nil), []string{webhookKey}, riverinbox.Options{})
	require.NoError(t, err)
	_, err = db.Exec("DROP TABLE river_job")
	require.NoError(t, err)
	rec := serve(inbox, signed(linked("a")))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))
}

func TestWrongOptions(t *testing.T) {
	db := openSQLite(t)
	_, err := riverinbox.NewHandler(sqliteClient(t, db, nil), []string{webhookKey}, riverinbox.Options{MaxAttempts: -1})
	var v *mergeerr.ValidationError
	require.ErrorAs(t, err, &v)
	assert.True(t, v.Has("MaxAttempts"), err.Error())
	_, err = riverinbox.NewAgentHandler[*sql.Tx](nil, []string{webhookKey}, riverinbox.Options{})
	require.ErrorAs(t, err, &v)
	assert.True(t, v.Has("client"), err.Error())
	_, err = riverinbox.NewHandler(sqliteClient(t, db, nil), nil, riverinbox.Options{})
	assert.ErrorIs(t, err, mergelink.ErrNoWebhookKey)
	_, err = riverinbox.NewWorker(nil)
	require.ErrorAs(t, err, &v)
	assert.True(t, v.Has("fn"))
}
