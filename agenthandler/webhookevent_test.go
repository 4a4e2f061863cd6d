package agenthandler_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// webhookKey signs the payloads of these tests.
const webhookKey = "ah-test-LEAKCHECK-verification-key"

// parse signs body with webhookKey and parses it.
// parse verifies and decodes body, with no tolerance: the bodies of these
// tests carry fixed dates.
func parse(t *testing.T, body string) *agenthandler.WebhookEvent {
	t.Helper()
	ev, err := agenthandler.ParseWebhookWithTolerance([]byte(body), agenthandler.SignWebhook([]byte(body), webhookKey), 0, webhookKey)
	require.NoError(t, err, "body %s", body)
	require.NotNil(t, ev)
	return ev
}

// TestParseWebhookCatalog parses an event of each kind of the catalog,
// spelled as WIRE.md lists it and in upper-snake case, as a version of
// Merge's documentation shows it.
func TestParseWebhookCatalog(t *testing.T) {
	t.Parallel()
	for _, want := range []agenthandler.EventType{
		agenthandler.EventRegisteredUserCreated, agenthandler.EventRegisteredUserUpdated, agenthandler.EventRegisteredUserDeleted,
		agenthandler.EventCredentialCreated, agenthandler.EventCredentialExpired, agenthandler.EventCredentialDeleted,
		agenthandler.EventToolCallCompleted, agenthandler.EventToolCallFailed, agenthandler.EventToolCallBlocked,
		agenthandler.EventRuleViolation, agenthandler.EventToolPackUpdated, agenthandler.EventInboundWebhookReceived,
	} {
		for _, spelling := range []string{string(want), strings.ToUpper(strings.ReplaceAll(string(want), ".", "_"))} {
			body := fmt.Sprintf(`{"id":"evt-1","event":%q,"data":{"k":1}}`, spelling)
			ev := parse(t, body)
			assert.Equal(t, want, ev.Type(), spelling)
			assert.Equal(t, "evt-1", ev.ID)
			assert.JSONEq(t, `{"k":1}`, string(ev.Data))
			assert.Equal(t, body, string(ev.Raw))
			_, isCredential := ev.Credential()
			_, isUser := ev.RegisteredUser()
			assert.Equal(t, want.Object() == "credential", isCredential, spelling)
			assert.Equal(t, want.Object() == "registered_user", isUser, spelling)
		}
	}
	assert.Equal(t, "credential", agenthandler.EventCredentialCreated.Object())
	assert.Equal(t, "rule_violation", agenthandler.EventRuleViolation.Object())
}

func TestParseWebhookCredentialData(t *testing.T) {
	t.Parallel()
	const uid = "41f11808-5387-4be5-9af2-852a372d61e3"
	for _, tc := range []struct {
		name, data string
		want       agenthandler.CredentialData
	}{
		{"objects", `{"registered_user":{"id":"` + uid + `","origin_user_id":"user-1234","origin_user_name":"Ada","authenticated_connectors":["linear"]},"connector":{"slug":"linear","name":"Linear"}}`,
			agenthandler.CredentialData{
				RegisteredUser: agenthandler.RegisteredUser{ID: uid, OriginUserID: "user-1234", OriginUserName: "Ada", AuthenticatedConnectors: []string{"linear"}},
				Connector:      agenthandler.WebhookConnector{Slug: "linear", Name: "Linear"},
			}},
		{"ids", `{"registered_user":"` + uid + `","connector":"linear"}`,
			agenthandler.CredentialData{RegisteredUser: agenthandler.RegisteredUser{ID: uid}, Connector: agenthandler.WebhookConnector{Slug: "linear"}}},
		{"flat fields", `{"registered_user_id":"` + uid + `","origin_user_id":"user-1234","connector_slug":"jira","connector_name":"Jira"}`,
			agenthandler.CredentialData{RegisteredUser: agenthandler.RegisteredUser{ID: uid, OriginUserID: "user-1234"}, Connector: agenthandler.WebhookConnector{Slug: "jira", Name: "Jira"}}},
		{"a field of the wrong type is skipped", `{"registered_user":{"id":"` + uid + `","is_test":"yes","origin_user_id":"u"},"connector":{"slug":7}}`,
			agenthandler.CredentialData{RegisteredUser: agenthandler.RegisteredUser{ID: uid, OriginUserID: "u"}, Connector: agenthandler.WebhookConnector{Slug: "7"}}},
		{"nothing known", `{"something":"else"}`, agenthandler.CredentialData{}},
		{"data not an object", `["linear"]`, agenthandler.CredentialData{}},
	} {
		for _, event := range []string{"credential.created", "credential.expired", "credential.deleted"} {
			ev := parse(t, `{"event":"`+event+`","data":`+tc.data+`}`)
			got, ok := ev.Credential()
			assert.True(t, ok, tc.name)
			assert.Equal(t, tc.want, got, "%s: %s", tc.name, event)
		}
	}
}

func TestParseWebhookRegisteredUserData(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("testdata", "webhook", "registered_user_created.json"))
	require.NoError(t, err)
	ev := parse(t, string(body))
	u, ok := ev.RegisteredUser()
	require.True(t, ok)
	assert.Equal(t, agenthandler.RegisteredUser{
		ID: "41f11808-5387-4be5-9af2-852a372d61e3", OriginUserID: "user-1234", OriginUserName: "Ada Lovelace",
		SharedCredentialGroup:   &agenthandler.SharedCredentialGroup{OriginCompanyID: "acme", OriginCompanyName: "Acme"},
		UserType:                agenthandler.UserHuman,
		AuthenticatedConnectors: []string{},
		IsTest:                  true,
	}, u)
	assert.Equal(t, time.Date(2026, 11, 30, 9, 14, 2, 0, time.UTC), ev.CreatedAt)
	_, isCredential := ev.Credential()
	assert.False(t, isCredential)

	for _, tc := range []struct{ name, data, wantID, wantOrigin string }{
		{"nested", `{"registered_user":{"id":"ru-1","origin_user_id":"o-1"}}`, "ru-1", "o-1"},
		{"an id only", `{"registered_user_id":"ru-2"}`, "ru-2", ""},
		{"the user itself, a field of the wrong type", `{"id":"ru-3","origin_user_id":"o-3","authenticated_connectors":"linear"}`, "ru-3", "o-3"},
	} {
		ev := parse(t, `{"event":"registered_user.deleted","data":`+tc.data+`}`)
		u, ok := ev.RegisteredUser()
		require.True(t, ok, tc.name)
		assert.Equal(t, tc.wantID, u.ID, tc.name)
		assert.Equal(t, tc.wantOrigin, u.OriginUserID, tc.name)
	}
}

// TestParseWebhookEnvelopeSpellings covers the envelope field names the
// SDK accepts, since Merge documents none: each case spells one field
// another way.
func TestParseWebhookEnvelopeSpellings(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 9, 15, 27, 0, time.UTC)
	for _, tc := range []struct {
		name, body string
		event      agenthandler.EventType
		id         string
		created    time.Time
		data       string
	}{
		{"event_type, event_id, timestamp, payload", `{"event_type":"CREDENTIAL_CREATED","event_id":"e1","timestamp":"2026-11-30T09:15:27Z","payload":{"a":1}}`, agenthandler.EventCredentialCreated, "e1", at, `{"a":1}`},
		{"type, Unix seconds", `{"type":"tool_call.failed","id":"e2","created_at":1796030127,"data":{}}`, agenthandler.EventToolCallFailed, "e2", at, `{}`},
		{"Unix milliseconds", `{"event":"tool_pack.updated","created_at":1796030127000}`, agenthandler.EventToolPackUpdated, "", at, ``},
		{"event object: content, not the event", `{"event":{"type":"registered_user.updated","id":"x"},"webhook_id":"e3"}`, "", "e3", time.Time{}, ``},
		{"hook.event: content, not the event", `{"hook":{"id":"h","event":"credential.deleted"},"data":{"b":2}}`, "", "", time.Time{}, `{"b":2}`},
		{"numeric id", `{"event":"rule_violation","id":12345}`, agenthandler.EventRuleViolation, "12345", time.Time{}, ``},
		{"event of the wrong type, type used", `{"event":5,"type":"tool_call.blocked"}`, agenthandler.EventToolCallBlocked, "", time.Time{}, ``},
		{"an event outside the catalog, kept as sent", `{"event":"TOOL_ACCESS_REQUEST_CREATED"}`, "TOOL_ACCESS_REQUEST_CREATED", "", time.Time{}, ``},
		{"no event", `{"id":"e4","data":{"c":3}}`, "", "e4", time.Time{}, `{"c":3}`},
		{"null data, payload used", `{"event":"credential.created","data":null,"payload":{"d":4}}`, agenthandler.EventCredentialCreated, "", time.Time{}, `{"d":4}`},
		{"unreadable time", `{"event":"credential.created","created_at":"yesterday"}`, agenthandler.EventCredentialCreated, "", time.Time{}, ``},
		{"empty object", `{}`, "", "", time.Time{}, ``},
	} {
		ev := parse(t, tc.body)
		assert.Equal(t, tc.event, ev.Type(), tc.name)
		assert.Equal(t, tc.id, ev.ID, tc.name)
		assert.True(t, tc.created.Equal(ev.CreatedAt), "%s: CreatedAt %v", tc.name, ev.CreatedAt)
		assert.Equal(t, tc.data, string(ev.Data), tc.name)
		assert.Equal(t, tc.body, string(ev.Raw), tc.name)
	}
}

func TestParseWebhookRefusesWhatIsNotAnObject(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `  `, `[]`, `"credential.created"`, `null`, `{"event":`, `{"event":"credential.created"} {}`, "\xff"} {
		ev, err := agenthandler.ParseWebhook([]byte(body), agenthandler.SignWebhook([]byte(body), webhookKey), webhookKey)
		var perr *agenthandler.WebhookPayloadError
		assert.ErrorAs(t, err, &perr, "%q", body)
		assert.ErrorIs(t, err, agenthandler.ErrNotWebhookPayload, "%q", body)
		assert.Nil(t, ev)
	}
}

// TestParseWebhookVerifiesFirst makes sure no body is decoded before its
// signature verifies.
func TestParseWebhookVerifiesFirst(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event":"credential.created"}`)
	sig := agenthandler.SignWebhook(body, webhookKey)
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		keys []string
		want error
	}{
		{"no key", body, sig, nil, agenthandler.ErrNoWebhookKey},
		{"no signature", body, "", []string{webhookKey}, agenthandler.ErrNoSignature},
		{"another key", body, sig, []string{otherKey}, agenthandler.ErrInvalidSignature},
		{"tampered body", []byte(`{"event":"credential.deleted"}`), sig, []string{webhookKey}, agenthandler.ErrInvalidSignature},
		{"not JSON, unsigned", []byte(`nonsense`), sig, []string{webhookKey}, agenthandler.ErrInvalidSignature},
	} {
		ev, err := agenthandler.ParseWebhook(tc.body, tc.sig, tc.keys...)
		assert.ErrorIs(t, err, tc.want, tc.name)
		assert.Nil(t, ev, tc.name)
	}
}

// TestWebhookEventPrintsNoData checks that fmt, slog and errors show an
// event's identifying fields and never its data, which may carry what a
// tool call sent or received, and that nothing shows the key.
func TestWebhookEventPrintsNoData(t *testing.T) {
	t.Parallel()
	const marker = "DATA-LEAKCHECK-4711"
	body := `{"id":"evt-9","event":"credential.created","data":{"registered_user":"ru-9","connector":"linear","tool_input":"` + marker + `"}}`
	ev := parse(t, body)

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("event", "ev", ev, "value", *ev)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("event", "ev", ev)

	printed := fmt.Sprintf("%v %+v %#v %s %q %x %d %v", ev, ev, ev, *ev, ev, ev, *ev, []*agenthandler.WebhookEvent{ev})
	for _, out := range []string{printed, logs.String()} {
		assert.NotContains(t, out, marker)
		assert.NotContains(t, out, webhookKey)
		assert.Contains(t, out, "credential.created")
		assert.Contains(t, out, "evt-9")
		assert.Contains(t, out, "ru-9")
		assert.Contains(t, out, "linear")
	}
	assert.Equal(t, `agenthandler.WebhookEvent{Event: "credential.created", ID: "evt-9", RegisteredUserID: "ru-9", Connector: "linear", Data: 82 bytes}`, ev.String())

	// JSON is for passing the event on (a queue, say): it keeps the data
	// but not the raw body twice, and never a key.
	j, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.NotContains(t, string(j), webhookKey)
	var back map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(j, &back))
	assert.JSONEq(t, `"credential.created"`, string(back["event"]))
	assert.Contains(t, string(back["data"]), marker)
	assert.NotContains(t, back, "Raw")
}
