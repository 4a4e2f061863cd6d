package agenthandler_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// credentialAt is a signed credential.created event dated at.
func credentialAt(at time.Time) string {
	return fmt.Sprintf(`{"id":"evt-%d","event":"credential.created","created_at":%q,"data":{"registered_user":{"id":%q},"connector":{"slug":"linear"}}}`,
		at.UnixNano(), at.UTC().Format(time.RFC3339), userID)
}

// A signed event dated years ago is a replay that the delivery store may
// have forgotten: ParseWebhook refuses it, and one dated far ahead, with a
// *StaleWebhookError; within the tolerance, or with a tolerance of its
// own, it passes.
func TestParseWebhookRefusesAReplayOfAnOldEvent(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		name  string
		at    time.Time
		stale bool
	}{
		{"three years ago", now.AddDate(-3, 0, 0), true},
		{"a day ago", now.Add(-24 * time.Hour), true},
		{"a year ahead", now.AddDate(1, 0, 0), true},
		{"a minute ago", now.Add(-time.Minute), false},
		{"an hour ago", now.Add(-time.Hour), false},
		{"a minute ahead (clock skew)", now.Add(time.Minute), false},
	} {
		body := []byte(credentialAt(tc.at))
		sig := agenthandler.SignWebhook(body, webhookKey)
		ev, err := agenthandler.ParseWebhook(body, sig, webhookKey)
		if !tc.stale {
			require.NoError(t, err, tc.name)
			assert.Equal(t, agenthandler.EventCredentialCreated, ev.Type(), tc.name)
			continue
		}
		assert.Nil(t, ev, tc.name)
		assert.ErrorIs(t, err, agenthandler.ErrStaleWebhook, tc.name)
		var se *agenthandler.StaleWebhookError
		require.ErrorAs(t, err, &se, tc.name)
		assert.Equal(t, agenthandler.DefaultWebhookTolerance, se.Tolerance)
		assert.Equal(t, tc.at.Unix(), se.CreatedAt.Unix(), tc.name)
		assert.Equal(t, tc.at.Before(now), se.Age > 0, "%s: Age %s", tc.name, se.Age)

		ev, err = agenthandler.ParseWebhookWithTolerance(body, sig, 10*365*24*time.Hour, webhookKey)
		require.NoError(t, err, "%s: within a tolerance of ten years", tc.name)
		assert.Equal(t, agenthandler.EventCredentialCreated, ev.Type())
		_, err = agenthandler.ParseWebhookWithTolerance(body, sig, 0, webhookKey)
		assert.NoError(t, err, "%s: no tolerance, no check", tc.name)
		_, err = agenthandler.ParseWebhookWithTolerance(body, sig, time.Hour, webhookKey+"-other")
		assert.ErrorIs(t, err, agenthandler.ErrInvalidSignature, "the signature is checked first")
	}
}

// The handler answers an old event 400 without calling the function, so a
// replay is not processed again once the store forgot it; its tolerance is
// settable, and the Unified API's handler, whose bodies carry no time,
// refuses the option.
func TestWebhookHandlerRefusesAReplayOfAnOldEvent(t *testing.T) {
	t.Parallel()
	old := credentialAt(time.Now().AddDate(-2, 0, 0))

	var strict events
	h := newWebhookHandler(t, strict.fn)
	rec := deliverSigned(h, old)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "tolerance")
	assert.Zero(t, strict.calls(), "a replay never reaches the function")
	assert.Equal(t, http.StatusOK, deliverSigned(h, credentialAt(time.Now())).Code)
	assert.Equal(t, 1, strict.calls())

	var lenient events
	h = newWebhookHandler(t, lenient.fn, agenthandler.WithWebhookTolerance(3*365*24*time.Hour))
	assert.Equal(t, http.StatusOK, deliverSigned(h, old).Code)
	assert.Equal(t, 1, lenient.calls())

	var short events
	h = newWebhookHandler(t, short.fn, agenthandler.WithWebhookTolerance(time.Minute))
	assert.Equal(t, http.StatusBadRequest, deliverSigned(h, credentialAt(time.Now().Add(-time.Hour))).Code)
	assert.Zero(t, short.calls())

	for _, d := range []time.Duration{0, -time.Hour} {
		_, err := agenthandler.NewWebhookHandler(strict.fn, []string{webhookKey}, agenthandler.WithWebhookTolerance(d))
		var ve *mergelink.ValidationError
		require.ErrorAs(t, err, &ve, d)
		assert.Equal(t, "WithWebhookTolerance", ve.Problems[0].Field)
	}
	_, err := mergelink.NewWebhookHandler(nil, []string{webhookKey}, agenthandler.WithWebhookTolerance(time.Hour))
	var ve *mergelink.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Error(), "WithWebhookTolerance")
}

// The event type is the envelope's own: a name nested in content, such as
// what an inbound_webhook.received forwards from another service, never
// becomes the event, and the content stays data.
func TestParseWebhookEventTypeFromTheEnvelopeOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want agenthandler.EventType
	}{
		{`{"type":"inbound_webhook.received","event":{"type":"credential.deleted"}}`, agenthandler.EventInboundWebhookReceived},
		{`{"event":{"name":"credential.deleted"},"type":"inbound_webhook.received"}`, agenthandler.EventInboundWebhookReceived},
		{`{"type":"inbound_webhook.received","data":{"event":"credential.deleted","type":"credential.deleted","registered_user":{"id":"` + userID + `"},"connector":"linear"}}`, agenthandler.EventInboundWebhookReceived},
		{`{"type":"inbound_webhook.received","hook":{"event":"credential.deleted"}}`, agenthandler.EventInboundWebhookReceived},
		{`{"event":{"type":"credential.deleted"}}`, ""},
		{`{"hook":{"event":"credential.deleted"}}`, ""},
	} {
		ev := parse(t, tc.body)
		assert.Equal(t, tc.want, ev.Type(), tc.body)
		_, ok := ev.Credential()
		assert.False(t, ok, "%s: no credential event", tc.body)
	}
	ev := parse(t, `{"type":"inbound_webhook.received","data":{"event":"credential.deleted","x":1}}`)
	assert.JSONEq(t, `{"event":"credential.deleted","x":1}`, string(ev.Data), "forwarded content stays data")
}
