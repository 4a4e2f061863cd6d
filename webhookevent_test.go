package mergelink_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

const testWebhookKey = "whsec-test-LEAKCHECK-webhook-key"

// signed returns body and its signature under testWebhookKey.
func signed(body string) ([]byte, string) {
	return []byte(body), mergelink.SignWebhook([]byte(body), testWebhookKey)
}

// payload builds a webhook body for event with the given data JSON.
func payload(event mergelink.EventType, data string) string {
	return fmt.Sprintf(`{"hook":{"id":"hook-1","event":%q,"target":"https://example.com/merge"},`+
		`"linked_account":{"id":"acct-1","integration":"Greenhouse","integration_slug":"greenhouse","category":"ats",`+
		`"end_user_origin_id":"origin-1","end_user_organization_name":"Example Org","end_user_email_address":"jane@example.com",`+
		`"status":"COMPLETE","webhook_listener_url":"https://api.merge.dev/api/integrations/webhook-listener/x","is_duplicate":null,"account_type":"PRODUCTION"},`+
		`"data":%s}`, event, data)
}

func parse(t *testing.T, body string) *mergelink.WebhookEvent {
	t.Helper()
	b, sig := signed(body)
	ev, err := mergelink.ParseWebhook(b, sig, testWebhookKey)
	require.NoError(t, err)
	return ev
}

func TestParseWebhookKnownVector(t *testing.T) {
	t.Parallel()
	ev, err := mergelink.ParseWebhook([]byte(vectorLinkedBody), vectorLinkedSigA, vectorKeyA)
	require.NoError(t, err)
	isDup := false
	assert.Equal(t, mergelink.WebhookHook{
		ID: "e8affe31-8ae0-4b37-8c50-d86303094dc4", Event: mergelink.EventLinkedAccountLinked, Target: "https://example.com/hooks/merge",
	}, ev.Hook)
	assert.Equal(t, mergelink.WebhookLinkedAccount{
		ID:                      "4ac10f37-c656-4e9a-89a1-1b04f9e9a343",
		Integration:             "Greenhouse",
		IntegrationSlug:         "greenhouse",
		Category:                "ats",
		EndUserOriginID:         "12345678910",
		EndUserOrganizationName: "Example Organization",
		EndUserEmailAddress:     "jane@example.com",
		Status:                  "COMPLETE",
		WebhookListenerURL:      "https://api.merge.dev/api/integrations/webhook-listener/abcd1234defg5678",
		IsDuplicate:             &isDup,
		AccountType:             "PRODUCTION",
	}, ev.LinkedAccount)
	assert.JSONEq(t, `{"account_token":"tok-VECTOR-9f3c2a","is_relink":false}`, string(ev.Data))
	assert.Equal(t, mergelink.EventLinkedAccountLinked, ev.Type())
	assert.False(t, ev.IsTest())
	token, ok := ev.AccountToken()
	assert.True(t, ok)
	assert.Equal(t, vectorLinkedToken, token)
	linked, ok := ev.Linked()
	assert.True(t, ok)
	assert.False(t, linked.IsRelink)
}

func TestParseWebhookVerifiesBeforeDecoding(t *testing.T) {
	t.Parallel()
	// A body that is not JSON and wrongly signed is refused for its
	// signature: nothing of an unverified body is decoded.
	_, err := mergelink.ParseWebhook([]byte("not json"), vectorHelloSigA, vectorKeyA)
	assert.ErrorIs(t, err, mergelink.ErrInvalidSignature)
	assert.NotErrorIs(t, err, mergelink.ErrNotWebhookPayload)

	b, sig := signed(payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-x"}`))
	for _, tc := range []struct {
		name string
		sig  string
		keys []string
		want error
	}{
		{"no key", sig, nil, mergelink.ErrNoWebhookKey},
		{"no signature", "", []string{testWebhookKey}, mergelink.ErrNoSignature},
		{"wrong key", sig, []string{vectorKeyA}, mergelink.ErrInvalidSignature},
	} {
		ev, err := mergelink.ParseWebhook(b, tc.sig, tc.keys...)
		assert.ErrorIs(t, err, tc.want, tc.name)
		assert.Nil(t, ev, tc.name)
	}
}

// Seed 000: the first-sync webhook carries the new account's token.
func TestParseWebhookFirstSyncPayload(t *testing.T) {
	t.Parallel()
	ev := parse(t, payload(mergelink.EventLinkedAccountSyncedInitial,
		`{"integration_name":"Greenhouse","integration_id":"greenhouse","synced_models":["ats.Candidate"],"account_token":"tok-first-sync-77"}`))
	assert.Equal(t, mergelink.EventLinkedAccountSyncedInitial, ev.Type())
	token, ok := ev.AccountToken()
	assert.True(t, ok)
	assert.Equal(t, "tok-first-sync-77", token)
	_, ok = ev.Linked()
	assert.False(t, ok, "a first-sync event is not LinkedAccount.linked")
	assert.Nil(t, ev.LinkedAccount.IsDuplicate, "null is_duplicate")
	var data struct {
		SyncedModels []string `json:"synced_models"`
	}
	require.NoError(t, json.Unmarshal(ev.Data, &data))
	assert.Equal(t, []string{"ats.Candidate"}, data.SyncedModels)
}

func TestParseWebhookLinkedRelink(t *testing.T) {
	t.Parallel()
	ev := parse(t, payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-relink","is_relink":true}`))
	linked, ok := ev.Linked()
	require.True(t, ok)
	assert.True(t, linked.IsRelink)
}

func TestParseWebhookSyncCompleted(t *testing.T) {
	t.Parallel()
	ev := parse(t, payload(mergelink.EventLinkedAccountSyncCompleted,
		`{"is_initial_sync":true,"sync_status":{"ats.Candidate":{"status":"DONE"},"ats.Job":{"status":"FAILED"}}}`))
	sync, ok := ev.SyncCompleted()
	require.True(t, ok)
	assert.True(t, sync.IsInitialSync)
	require.Len(t, sync.SyncStatus, 2)
	assert.JSONEq(t, `{"status":"FAILED"}`, string(sync.SyncStatus["ats.Job"]))
	_, ok = ev.AccountToken()
	assert.False(t, ok, "sync_completed carries no token")

	other := parse(t, payload(mergelink.EventLinkedAccountLinked, `{"is_initial_sync":true}`))
	_, ok = other.SyncCompleted()
	assert.False(t, ok)
}

func TestParseWebhookEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		event         mergelink.EventType
		model, action string
		isModel       bool
	}{
		{mergelink.EventLinkedAccountLinked, "LinkedAccount", "linked", false},
		{mergelink.EventLinkedAccountSyncedInitial, "LinkedAccount", "synced_initial", false},
		{mergelink.EventLinkedAccountSyncCompleted, "LinkedAccount", "sync_completed", false},
		{mergelink.EventLinkedAccountDeleted, "LinkedAccount", "deleted", false},
		{mergelink.EventLinkedAccountFullySyncedInitial, "LinkedAccount", "fully_synced_initial", false},
		{mergelink.EventLinkedAccountSynced, "LinkedAccount", "synced", false},
		{mergelink.EventIssueNew, "Issue", "new", false},
		{mergelink.EventIssueReopened, "Issue", "reopened", false},
		{mergelink.EventIssueMuted, "Issue", "muted", false},
		{mergelink.EventIssueResolved, "Issue", "resolved", false},
		{mergelink.EventAsyncPassthroughResolved, "AsyncPassthrough", "resolved", false},
		{mergelink.EventAsyncPostCompleted, "AsyncPost", "completed", false},
		{mergelink.EventAsyncBulkPostCompleted, "AsyncBulkPost", "completed", false},
		{"CRMAccount.changed", "CRMAccount", "changed", true},
		{"FileStorageFile.removed", "FileStorageFile", "removed", true},
		{"Candidate.added", "Candidate", "added", true},
		{"Employee.synced", "Employee", "synced", true},
		{"Employee.updated", "Employee", "updated", false},
		{"Employee.changed.again", "Employee", "changed.again", false},
		{".changed", "", "changed", false},
		{"Employee", "Employee", "", false},
	} {
		t.Run(string(tc.event), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.model, tc.event.Model())
			assert.Equal(t, tc.action, tc.event.Action())
			assert.Equal(t, tc.isModel, tc.event.IsModelEvent())

			ev := parse(t, payload(tc.event, `{"id":"x"}`))
			assert.Equal(t, tc.event, ev.Type())
			model, action, ok := ev.ModelEvent()
			assert.Equal(t, tc.isModel, ok)
			if tc.isModel {
				assert.Equal(t, tc.model, model)
				assert.Equal(t, tc.action, action)
			} else {
				assert.Empty(t, model+action)
			}
		})
	}
}

// Only LinkedAccount events give an account token: a model whose data
// has a field of that name is not mistaken for one.
func TestParseWebhookModelDataIsRaw(t *testing.T) {
	t.Parallel()
	ev := parse(t, payload("Candidate.changed", `{"id":"cand-1","account_token":"not-ours","is_relink":"whatever"}`))
	_, ok := ev.AccountToken()
	assert.False(t, ok)
	assert.JSONEq(t, `{"id":"cand-1","account_token":"not-ours","is_relink":"whatever"}`, string(ev.Data))

	deleted := parse(t, payload(mergelink.EventLinkedAccountDeleted, `null`))
	_, ok = deleted.AccountToken()
	assert.False(t, ok)
}

func TestParseWebhookTestPayload(t *testing.T) {
	t.Parallel()
	ev := parse(t, `{"response": "Success! This URL will be notified."}`)
	assert.True(t, ev.IsTest())
	assert.Empty(t, ev.Type())
	_, ok := ev.AccountToken()
	assert.False(t, ok)
	_, _, ok = ev.ModelEvent()
	assert.False(t, ok)

	real := parse(t, payload(mergelink.EventIssueNew, `{}`))
	assert.False(t, real.IsTest())
}

func TestParseWebhookNotAMergePayload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, reason string }{
		{"empty", ``, "empty body"},
		{"blank", " \r\n", "empty body"},
		{"plain text", `hello merge`, "not JSON (error at byte 1)"},
		{"truncated JSON", `{"hook":{"event":"Issue.new"`, "not JSON (error at byte 28)"},
		{"array", `[1,2]`, "not a JSON object"},
		{"string", `"LinkedAccount.linked"`, "not a JSON object"},
		{"null", `null`, "no hook.event"},
		{"empty object", `{}`, "no hook.event"},
		{"hook without event", `{"hook":{"id":"h"},"data":{}}`, "no hook.event"},
		{"other response text", `{"response":"Hello"}`, "no hook.event"},
		{"event of the wrong type", `{"hook":{"event":5}}`, "field hook.event must be a string, not JSON number"},
		{"linked account of the wrong type", `{"hook":{"event":"Issue.new"},"linked_account":[]}`, "field linked_account must be an object, not JSON array"},
		{"token of the wrong type", payload(mergelink.EventLinkedAccountLinked, `{"account_token":12345678}`), "data: field account_token must be a string, not JSON number"},
		{"token of another wrong type", payload(mergelink.EventLinkedAccountSyncedInitial, `{"account_token":["tok-secret-1"]}`), "data: field account_token must be a string, not JSON array"},
		{"hook not an object", `{"hook":"Issue.new"}`, "field hook must be an object, not JSON string"},
		{"event of the wrong type beside others", `{"hook":{"id":5,"event":true},"linked_account":{"id":"a"}}`, "field hook.event must be a string, not JSON bool"},
		{"account id of the wrong type", `{"hook":{"event":"Issue.new"},"linked_account":{"id":12345678}}`, "field linked_account.id must be a string, not JSON number"},
		{"account id an object", `{"hook":{"event":"Issue.new"},"linked_account":{"id":{"x":"tok-secret-1"}}}`, "field linked_account.id must be a string, not JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, sig := signed(tc.body)
			ev, err := mergelink.ParseWebhook(b, sig, testWebhookKey)
			require.ErrorIs(t, err, mergelink.ErrNotWebhookPayload)
			assert.Nil(t, ev)
			var perr *mergelink.WebhookPayloadError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, tc.reason, perr.Reason)
			assert.NotContains(t, err.Error(), "tok-secret-1")
			assert.NotContains(t, err.Error(), "12345678")
		})
	}
}

// The account token shows in no fmt verb and no log line of the event,
// although Data holds it.
func TestWebhookEventHidesAccountToken(t *testing.T) {
	t.Parallel()
	const token = "tok-LEAKCHECK-4f1e9b"
	ev := parse(t, payload(mergelink.EventLinkedAccountLinked, `{"account_token":"`+token+`","is_relink":false}`))
	require.Contains(t, string(ev.Data), token, "the raw data holds the token")

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, ev), fmt.Sprintf(verb, *ev))
	}
	outs = append(outs,
		ev.String(), ev.GoString(), fmt.Sprint(ev), fmt.Sprintln(*ev),
		fmt.Sprintf("%+v", []*mergelink.WebhookEvent{ev}),
		fmt.Sprintf("%+v", struct{ Ev mergelink.WebhookEvent }{*ev}),
	)
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("webhook", "event", ev, "value", *ev)
	}
	outs = append(outs, logs.String())
	asBytes := strings.Trim(fmt.Sprint([]byte(token)), "[]") // how %d prints a []byte
	for _, out := range outs {
		assert.NotContains(t, out, token)
		assert.NotContains(t, out, "4f1e9b")
		assert.NotContains(t, strings.ToLower(out), hex.EncodeToString([]byte(token)))
		assert.NotContains(t, out, asBytes)
	}
	assert.Contains(t, ev.String(), "LinkedAccount.linked")
	assert.Contains(t, ev.String(), "acct-1")
	assert.Contains(t, ev.String(), "AccountToken: [hidden]")
	assert.Contains(t, logs.String(), `"linked_account_id":"acct-1"`)
	assert.Contains(t, logs.String(), `"account_token":"[hidden]"`)

	var nilEvent *mergelink.WebhookEvent
	assert.Equal(t, "<nil>", fmt.Sprint(nilEvent))
	assert.Equal(t, "mergelink.WebhookEvent{test}", parse(t, `{"response":"Success! This URL will be notified."}`).String())
}
