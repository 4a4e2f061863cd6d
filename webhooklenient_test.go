package mergelink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// withMember returns body, a JSON object, with the member at path (dotted,
// such as "data.sync_status.hris.Employee.status" split on '/') set to
// value, raw JSON.
func withMember(t *testing.T, body string, path []string, value string) string {
	t.Helper()
	var root map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &root))
	obj := root
	for _, k := range path[:len(path)-1] {
		next, ok := obj[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[k] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = json.RawMessage(value)
	out, err := json.Marshal(root)
	require.NoError(t, err)
	return string(out)
}

// wrongValues are a value of each JSON kind; each field below gets every
// one that is not of its own type.
var wrongValues = map[string]string{
	"string": `"false"`, "number": `12345`, "bool": `true`, "null": `null`, "object": `{"a":[1]}`, "array": `["x",2]`,
}

// Issue 10: a verified delivery with one field of an unexpected type, in
// any field the SDK does not need, still reaches the function (and is not
// answered 400, which Merge would not retry), with its raw body kept.
func TestParseWebhookLenientFields(t *testing.T) {
	t.Parallel()
	const token = "tok-lenient-1"
	linked := payload(mergelink.EventLinkedAccountLinked, `{"account_token":"`+token+`","is_relink":true}`)
	synced := payload(mergelink.EventLinkedAccountSyncCompleted,
		`{"is_initial_sync":true,"sync_status":{"hris.Employee":{"model_name":"Employee","model_id":"hris.Employee","status":"DONE",`+
			`"last_sync_result":"DONE","last_sync_start":"2026-01-02T03:04:05Z","last_sync_finished":"2026-01-02T03:09:05Z",`+
			`"next_sync_start":"2026-01-03T03:04:05Z","is_initial_sync":true,"selective_sync_configurations_usage":"IN_LAST_SYNC"}}}`)
	issue := payload(mergelink.EventIssueNew, `{"id":"0b7e2c5e-6f55-4c2f-9d7e-3c1a3f5d9b10","status":"ONGOING","error_description":"Missing Permissions",`+
		`"end_user":{"organization_name":"Example Org"},"first_incident_time":"2026-01-02T03:04:05Z","last_incident_time":"2026-01-02T04:04:05Z",`+
		`"is_muted":false,"error_details":["no access to /employees"]}`)
	type field struct {
		event mergelink.EventType
		body  string
		path  string // '/'-separated
		kind  string // the field's own JSON kind, which is not wrong
	}
	var fields []field
	for _, f := range []struct{ path, kind string }{
		{"hook/id", "string"}, {"hook/target", "string"},
		{"linked_account/integration", "string"}, {"linked_account/integration_slug", "string"},
		{"linked_account/category", "string"}, {"linked_account/end_user_origin_id", "string"},
		{"linked_account/end_user_organization_name", "string"}, {"linked_account/end_user_email_address", "string"},
		{"linked_account/status", "string"}, {"linked_account/webhook_listener_url", "string"},
		{"linked_account/is_duplicate", "bool"}, {"linked_account/account_type", "string"},
		{"data/is_relink", "bool"}, {"response", "string"}, {"unknown_member", ""}, {"data/unknown_member", ""},
	} {
		fields = append(fields, field{mergelink.EventLinkedAccountLinked, linked, f.path, f.kind})
	}
	for _, f := range []struct{ path, kind string }{
		{"data/is_initial_sync", "bool"}, {"data/sync_status", "object"}, {"data/sync_status/hris.Employee", "object"},
		{"data/sync_status/hris.Employee/model_name", "string"}, {"data/sync_status/hris.Employee/model_id", "string"},
		{"data/sync_status/hris.Employee/status", "string"}, {"data/sync_status/hris.Employee/last_sync_result", "string"},
		{"data/sync_status/hris.Employee/last_sync_start", "string"}, {"data/sync_status/hris.Employee/last_sync_finished", "string"},
		{"data/sync_status/hris.Employee/next_sync_start", "string"}, {"data/sync_status/hris.Employee/is_initial_sync", "bool"},
		{"data/sync_status/hris.Employee/selective_sync_configurations_usage", "string"},
	} {
		fields = append(fields, field{mergelink.EventLinkedAccountSyncCompleted, synced, f.path, f.kind})
	}
	for _, f := range []struct{ path, kind string }{
		{"data/id", "string"}, {"data/status", "string"}, {"data/error_description", "string"}, {"data/end_user", "object"},
		{"data/first_incident_time", "string"}, {"data/last_incident_time", "string"}, {"data/is_muted", "bool"},
		{"data/error_details", "array"}, {"data", "object"},
	} {
		fields = append(fields, field{mergelink.EventIssueNew, issue, f.path, f.kind})
	}

	var got []*mergelink.WebhookEvent
	h, err := mergelink.NewWebhookHandler(func(_ context.Context, ev *mergelink.WebhookEvent) error {
		got = append(got, ev)
		return nil
	}, []string{testWebhookKey})
	require.NoError(t, err)
	cases := 0
	for _, f := range fields {
		for kind, value := range wrongValues {
			if kind == f.kind || kind == "null" && f.kind != "" {
				continue // null is no wrong type: it leaves a field zero
			}
			cases++
			name := f.path + "=" + kind
			body := withMember(t, f.body, strings.Split(f.path, "/"), value)
			b, sig := signed(body)
			ev, err := mergelink.ParseWebhook(b, sig, testWebhookKey)
			require.NoError(t, err, name)
			assert.Equal(t, b, ev.RawBody(), name)
			assert.Equal(t, "acct-1", ev.LinkedAccount.ID, name)
			assert.Equal(t, f.event, ev.Type(), name)
			if f.event == mergelink.EventLinkedAccountLinked {
				tok, ok := ev.AccountToken()
				assert.True(t, ok, name)
				assert.Equal(t, token, tok, name)
			}
			// The field is left zero, or holds its value when a number
			// can stand for it (a numeric hook.id keeps its text).
			switch f.path {
			case "hook/id":
				if kind == "number" {
					assert.Equal(t, "12345", ev.Hook.ID, name)
				} else {
					assert.Empty(t, ev.Hook.ID, name)
				}
			case "linked_account/is_duplicate":
				assert.Nil(t, ev.LinkedAccount.IsDuplicate, name)
			case "linked_account/status":
				assert.Empty(t, ev.LinkedAccount.Status, name)
			case "data/is_relink":
				d, ok := ev.Linked()
				assert.True(t, ok, name)
				assert.False(t, d.IsRelink, name)
			case "data/sync_status/hris.Employee/status":
				d, _ := ev.SyncCompleted()
				assert.Empty(t, d.Models["hris.Employee"].Status, name)
				assert.Equal(t, mergelink.SyncDone, d.Models["hris.Employee"].LastSyncResult, name, "the other fields stay")
			case "data/is_muted":
				is, ok := ev.Issue()
				assert.True(t, ok, name)
				assert.False(t, is.IsMuted, name)
				assert.Equal(t, "Missing Permissions", is.ErrorDescription, name, "the other fields stay")
			}

			before := len(got)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/merge", bytes.NewReader(b))
			req.Header.Set(mergelink.SignatureHeader, sig)
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusOK, rec.Code, name)
			if assert.Len(t, got, before+1, name) {
				assert.Equal(t, b, got[before].RawBody(), name)
			}
		}
	}
	assert.Greater(t, cases, 150, "cases")
}

// What the SDK decodes of the lifecycle events: LinkedAccount.deleted,
// Issue.* and a sync_completed's statuses, typed.
func TestParseWebhookLifecycleEvents(t *testing.T) {
	t.Parallel()
	deleted := parse(t, payload(mergelink.EventLinkedAccountDeleted, `{}`))
	acct, ok := deleted.Deleted()
	assert.True(t, ok)
	assert.Equal(t, "acct-1", acct.ID)
	assert.Equal(t, "origin-1", acct.EndUserOriginID)
	_, ok = parse(t, payload(mergelink.EventLinkedAccountLinked, `{}`)).Deleted()
	assert.False(t, ok)

	for _, event := range []mergelink.EventType{mergelink.EventIssueNew, mergelink.EventIssueReopened, mergelink.EventIssueMuted, mergelink.EventIssueResolved} {
		ev := parse(t, payload(event, `{"id":"issue-1","status":"RESOLVED","error_description":"Missing Permissions","end_user":{"id":"u"},`+
			`"first_incident_time":"2026-01-02T03:04:05Z","last_incident_time":null,"is_muted":true,"error_details":["a","b"]}`))
		is, ok := ev.Issue()
		require.True(t, ok, event)
		assert.Equal(t, mergelink.Issue{
			ID: "issue-1", Status: mergelink.IssueResolved, ErrorDescription: "Missing Permissions", EndUser: map[string]any{"id": "u"},
			FirstIncidentTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), IsMuted: true, ErrorDetails: []string{"a", "b"},
		}, is, event)
	}
	_, ok = parse(t, payload("Employee.changed", `{"id":"issue-1"}`)).Issue()
	assert.False(t, ok)

	ev := parse(t, payload(mergelink.EventLinkedAccountSyncCompleted,
		`{"is_initial_sync":false,"sync_status":{"ats.Candidate":{"model_name":"Candidate","model_id":"ats.Candidate","status":"SYNCING",`+
			`"last_sync_result":"PARTIALLY_SYNCED","last_sync_finished":"2026-01-02T03:04:05Z","is_initial_sync":false},"ats.Job":"DONE"}}`))
	d, ok := ev.SyncCompleted()
	require.True(t, ok)
	assert.Equal(t, map[string]mergelink.SyncStatus{"ats.Candidate": {
		ModelName: "Candidate", ModelID: "ats.Candidate", Status: mergelink.SyncSyncing, LastSyncResult: mergelink.SyncPartiallySynced,
		LastSyncFinished: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}}, d.Models, "an entry that is not an object is not typed")
	assert.JSONEq(t, `"DONE"`, string(d.SyncStatus["ats.Job"]), "but kept raw")
	assert.Len(t, d.SyncStatus, 2)
}

// The raw body is the caller's to keep: it is a copy of what was parsed.
func TestWebhookEventRawBodyIsACopy(t *testing.T) {
	t.Parallel()
	b, sig := signed(payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-copy"}`))
	ev, err := mergelink.ParseWebhook(b, sig, testWebhookKey)
	require.NoError(t, err)
	want := string(b)
	for i := range b {
		b[i] = 'x'
	}
	assert.Equal(t, want, string(ev.RawBody()))
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v %x", ev, ev, *ev, ev), "tok-copy")
}
