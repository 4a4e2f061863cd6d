package mergelink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/internal/secret"
)

// EventType is the event of a Merge webhook, as in its hook.event field:
// "LinkedAccount.linked", "Issue.new", "CRMAccount.changed" and so on.
type EventType string

// The events Merge sends. Model events, such as "Candidate.added" or
// "CRMAccount.changed", have no constant: see EventType.IsModelEvent.
const (
	// EventLinkedAccountLinked is sent when an end user completes Merge
	// Link, before the first sync. It is the documented place for the
	// account token: see WebhookEvent.AccountToken and WebhookEvent.Linked.
	EventLinkedAccountLinked EventType = "LinkedAccount.linked"
	// EventLinkedAccountSyncedInitial is the first-sync webhook of Magic
	// Link's guide, whose payload carries the account token.
	EventLinkedAccountSyncedInitial EventType = "LinkedAccount.synced_initial"
	// EventLinkedAccountSyncCompleted is sent when every model of a linked
	// account has synced: see WebhookEvent.SyncCompleted.
	EventLinkedAccountSyncCompleted EventType = "LinkedAccount.sync_completed"
	// EventLinkedAccountDeleted is sent when a linked account is deleted.
	EventLinkedAccountDeleted EventType = "LinkedAccount.deleted"
	// EventLinkedAccountFullySyncedInitial is the legacy initial-sync event.
	EventLinkedAccountFullySyncedInitial EventType = "LinkedAccount.fully_synced_initial"
	// EventLinkedAccountSynced is the legacy any-sync event.
	EventLinkedAccountSynced EventType = "LinkedAccount.synced"

	// EventIssueNew is sent when Merge opens an issue on a linked account.
	EventIssueNew EventType = "Issue.new"
	// EventIssueReopened is sent when an issue is opened again.
	EventIssueReopened EventType = "Issue.reopened"
	// EventIssueMuted is sent when an issue is muted.
	EventIssueMuted EventType = "Issue.muted"
	// EventIssueResolved is sent when an issue is resolved.
	EventIssueResolved EventType = "Issue.resolved"

	// EventAsyncPassthroughResolved is sent when an async passthrough
	// request has its answer.
	EventAsyncPassthroughResolved EventType = "AsyncPassthrough.resolved"
	// EventAsyncPostCompleted is sent when an async POST has completed.
	EventAsyncPostCompleted EventType = "AsyncPost.completed"
	// EventAsyncBulkPostCompleted is sent when an async bulk POST has
	// completed.
	EventAsyncBulkPostCompleted EventType = "AsyncBulkPost.completed"
)

// Model returns the part of t before its first '.': "LinkedAccount" for
// "LinkedAccount.linked", "CRMAccount" for "CRMAccount.changed".
func (t EventType) Model() string {
	model, _, _ := strings.Cut(string(t), ".")
	return model
}

// Action returns the part of t after its first '.': "linked" for
// "LinkedAccount.linked", "changed" for "CRMAccount.changed".
func (t EventType) Action() string {
	_, action, _ := strings.Cut(string(t), ".")
	return action
}

// IsModelEvent reports whether t is a common-model event, "{Model}.added",
// ".changed", ".removed" or ".synced", whose data is the model itself.
// LinkedAccount, Issue and async events are not model events, not even the
// legacy "LinkedAccount.synced".
func (t EventType) IsModelEvent() bool {
	model, action, ok := strings.Cut(string(t), ".")
	if !ok || model == "" || strings.Contains(action, ".") {
		return false
	}
	switch model {
	case "LinkedAccount", "Issue", "AsyncPassthrough", "AsyncPost", "AsyncBulkPost":
		return false
	}
	switch action {
	case "added", "changed", "removed", "synced":
		return true
	}
	return false
}

// ErrNotWebhookPayload is returned by ParseWebhook, through a
// *WebhookPayloadError, for a correctly signed body that is not a Merge
// webhook: not a JSON object, no hook.event string, a linked_account that
// is not an object or whose id is not a string, or a LinkedAccount event
// whose data.account_token is not a string. Other fields of an unexpected
// type do not make it fail (see ParseWebhook).
var ErrNotWebhookPayload = errors.New("mergelink: not a Merge webhook payload")

// WebhookPayloadError says why a signed body is not a Merge webhook
// payload. It matches ErrNotWebhookPayload with errors.Is and never holds
// the body's values.
type WebhookPayloadError struct {
	// Reason says what is wrong, such as "no hook.event".
	Reason string
}

func (e *WebhookPayloadError) Error() string { return ErrNotWebhookPayload.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrNotWebhookPayload) true.
func (e *WebhookPayloadError) Is(target error) bool { return target == ErrNotWebhookPayload }

// WebhookHook is the hook object of a webhook: which configured webhook
// fired, for which event, to which URL. Its ID names the webhook
// configuration, not the delivery.
type WebhookHook struct {
	ID     string    `json:"id"`
	Event  EventType `json:"event"`
	Target string    `json:"target"`
}

// WebhookLinkedAccount is the linked_account object of a webhook: the
// linked account the event is about.
type WebhookLinkedAccount struct {
	ID                      string   `json:"id"`
	Integration             string   `json:"integration"`
	IntegrationSlug         string   `json:"integration_slug"`
	Category                Category `json:"category"`
	EndUserOriginID         string   `json:"end_user_origin_id"`
	EndUserOrganizationName string   `json:"end_user_organization_name"`
	EndUserEmailAddress     string   `json:"end_user_email_address"`
	// Status is the account's state, such as COMPLETE or RELINK_NEEDED.
	Status             LinkedAccountStatus `json:"status"`
	WebhookListenerURL string              `json:"webhook_listener_url"`
	// IsDuplicate is nil when Merge sends null: test accounts, incomplete
	// accounts and ignored duplicate sets.
	IsDuplicate *bool `json:"is_duplicate"`
	// AccountType tells production from test linked accounts.
	AccountType string `json:"account_type"`
}

// LinkedData is the data of a LinkedAccount.linked event, apart from the
// account token, which WebhookEvent.AccountToken returns.
type LinkedData struct {
	// IsRelink is true when the end user went through Merge Link again
	// for an existing linked account (same account id and token).
	IsRelink bool `json:"is_relink"`
}

// SyncCompletedData is the data of a LinkedAccount.sync_completed event.
type SyncCompletedData struct {
	// IsInitialSync is true for the first sync after linking.
	IsInitialSync bool `json:"is_initial_sync"`
	// SyncStatus holds each model's sync status, keyed like
	// "ats.Candidate", as Merge sends it.
	SyncStatus map[string]json.RawMessage `json:"sync_status"`
	// Models holds the same statuses decoded, under the same keys. A
	// field of an entry that has an unexpected type is left zero, and an
	// entry that is not a JSON object is left out: SyncStatus keeps it.
	Models map[string]SyncStatus `json:"-"`
}

// WebhookEvent is a verified Merge webhook. Data holds the raw data object,
// whose shape depends on the event (for model events, the model itself);
// the methods give typed access to what the SDK knows of it.
//
// Data may hold the account token: print or log the event itself, which
// masks the token, rather than Data.
type WebhookEvent struct {
	Hook          WebhookHook          `json:"hook"`
	LinkedAccount WebhookLinkedAccount `json:"linked_account"`
	Data          json.RawMessage      `json:"data"`

	test         bool
	raw          []byte
	accountToken string
	linked       LinkedData
	sync         SyncCompletedData
	issue        Issue
}

// testPayloadText is what the dashboard's "Send test POST request" sends in
// its only field, "response".
const testPayloadText = "Success! This URL will be notified."

// ParseWebhook verifies payload's signature under keys, as
// VerifyWebhookSignature does, and only then decodes it. It fails with the
// errors of VerifyWebhookSignature, and with a *WebhookPayloadError
// (matching ErrNotWebhookPayload) for a signed body that is not a Merge
// webhook. The dashboard's test payload parses into an event whose IsTest
// is true.
//
// What the SDK needs of an event is decoded strictly: the body must be a
// JSON object, hook.event a string, linked_account (if present) an object
// whose id is a string, and a LinkedAccount event's data.account_token a
// string. Everything else is decoded leniently, since Merge's types may
// drift and Merge does not retry a delivery answered 4xx: a field of an
// unexpected type (is_duplicate: "false", a numeric hook.id) is left zero
// (a number keeps its text in hook.id), and the raw body stays in RawBody.
func ParseWebhook(payload []byte, signature string, keys ...string) (*WebhookEvent, error) {
	if err := VerifyWebhookSignature(payload, signature, keys...); err != nil {
		return nil, err
	}
	return decodeWebhook(payload)
}

// wireEvent is the envelope of a webhook body.
type wireEvent struct {
	Hook          WebhookHook          `json:"hook"`
	LinkedAccount WebhookLinkedAccount `json:"linked_account"`
	Data          json.RawMessage      `json:"data"`
	Response      *string              `json:"response"`
}

// decodeWebhook decodes a verified body.
func decodeWebhook(payload []byte) (*WebhookEvent, error) {
	if len(bytes.TrimSpace(payload)) == 0 {
		return nil, &WebhookPayloadError{Reason: "empty body"}
	}
	var wire wireEvent
	if err := json.Unmarshal(payload, &wire); err != nil {
		var typ *json.UnmarshalTypeError
		if !errors.As(err, &typ) || !isJSONObject(payload) {
			return nil, &WebhookPayloadError{Reason: jsonReason(err)}
		}
		// Valid JSON with a member of an unexpected type: decode again,
		// strictly only what the event needs.
		wire = wireEvent{}
		if err := decodeEnvelope(payload, &wire); err != nil {
			return nil, &WebhookPayloadError{Reason: jsonReason(err)}
		}
	}
	ev := &WebhookEvent{Hook: wire.Hook, LinkedAccount: wire.LinkedAccount, Data: wire.Data, raw: bytes.Clone(payload)}
	if ev.Hook.Event == "" {
		if wire.Response != nil && *wire.Response == testPayloadText {
			ev.test = true
			return ev, nil
		}
		return nil, &WebhookPayloadError{Reason: "no hook.event"}
	}
	if !isJSONObject(ev.Data) {
		return ev, nil
	}
	switch ev.Hook.Event.Model() {
	case "LinkedAccount":
	case "Issue":
		decodeLenient(ev.Data, &ev.issue)
		return ev, nil
	default:
		return ev, nil
	}
	// Only the members the SDK gives typed access to are decoded; the rest
	// of data stays raw, whatever its shape.
	fields := []dataField{{name: "account_token", to: &ev.accountToken}}
	switch ev.Hook.Event {
	case EventLinkedAccountLinked:
		fields = append(fields, dataField{name: "is_relink", to: &ev.linked.IsRelink, lenient: true})
	case EventLinkedAccountSyncCompleted:
		fields = append(fields,
			dataField{name: "is_initial_sync", to: &ev.sync.IsInitialSync, lenient: true},
			dataField{name: "sync_status", to: &ev.sync.SyncStatus, lenient: true})
	}
	if err := decodeData(ev.Data, fields); err != nil {
		return nil, &WebhookPayloadError{Reason: "data: " + jsonReason(err)}
	}
	for model, raw := range ev.sync.SyncStatus {
		if !isJSONObject(raw) {
			continue
		}
		if ev.sync.Models == nil {
			ev.sync.Models = make(map[string]SyncStatus, len(ev.sync.SyncStatus))
		}
		var st SyncStatus
		decodeLenient(raw, &st)
		ev.sync.Models[model] = st
	}
	return ev, nil
}

// decodeEnvelope decodes a webhook body, a valid JSON object, member by
// member: hook.event and linked_account.id strictly, the rest leniently.
func decodeEnvelope(payload []byte, wire *wireEvent) error {
	return decodeData(payload, []dataField{
		{name: "hook", to: objectOf("hook", func(obj []byte) error {
			return decodeData(obj, []dataField{
				{name: "event", to: &wire.Hook.Event, path: "hook."},
				{name: "id", to: (*idText)(&wire.Hook.ID), lenient: true},
				{name: "target", to: &wire.Hook.Target, lenient: true},
			})
		})},
		{name: "linked_account", to: objectOf("linked_account", func(obj []byte) error {
			la := &wire.LinkedAccount
			if err := decodeData(obj, []dataField{{name: "id", to: &la.ID, path: "linked_account."}}); err != nil {
				return err
			}
			decodeLenient(obj, la)
			return nil
		})},
		{name: "data", to: &wire.Data},
		{name: "response", to: &wire.Response, lenient: true},
	})
}

// jsonReason describes a decoding error without quoting the body.
func jsonReason(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not JSON (error at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "not a JSON object"
		}
		got, _, _ := strings.Cut(typ.Value, " ") // "number 5": keep the kind only
		return fmt.Sprintf("field %s must be %s, not JSON %s", typ.Field, jsonKind(typ.Type), got)
	}
	return "not JSON"
}

// jsonKind names the JSON kind that decodes into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a number"
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// Type returns the event, Hook.Event; it is empty for the dashboard's test
// payload.
func (ev *WebhookEvent) Type() EventType { return ev.Hook.Event }

// IsTest reports whether the event is the payload that the dashboard's
// "Send test POST request" button sends: {"response": "Success! This URL
// will be notified."}. It has no hook, linked account or data.
func (ev *WebhookEvent) IsTest() bool { return ev.test }

// AccountToken returns the linked account's account token and true when a
// LinkedAccount event carries one in data.account_token, as
// LinkedAccount.linked and the first-sync LinkedAccount.synced_initial do.
// Store it as a secret: it authenticates every call for that account.
func (ev *WebhookEvent) AccountToken() (string, bool) {
	return ev.accountToken, ev.accountToken != ""
}

// Linked returns the data of a LinkedAccount.linked event; ok is false for
// any other event.
func (ev *WebhookEvent) Linked() (data LinkedData, ok bool) {
	return ev.linked, ev.Hook.Event == EventLinkedAccountLinked
}

// Deleted returns the Linked Account of a LinkedAccount.deleted event,
// ev.LinkedAccount, whose account token no longer works; ok is false for
// any other event.
func (ev *WebhookEvent) Deleted() (acct WebhookLinkedAccount, ok bool) {
	return ev.LinkedAccount, ev.Hook.Event == EventLinkedAccountDeleted
}

// Issue returns the issue of an Issue.new, Issue.reopened, Issue.muted or
// Issue.resolved event, decoded from data; ok is false for any other
// event. A field of an unexpected type is left zero: Data keeps it.
func (ev *WebhookEvent) Issue() (is Issue, ok bool) {
	return ev.issue, ev.Hook.Event.Model() == "Issue"
}

// RawBody returns the body the event was decoded from, as it was signed:
// a copy, which the caller may keep. It is what to store when an event
// must be replayed or inspected; like Data, it may hold the account
// token, and fmt and slog never show it.
func (ev *WebhookEvent) RawBody() []byte { return ev.raw }

// DeliveryKey returns the delivery's key: the hex SHA-256 of the signed
// body, the key the DeliveryStores use. Every copy of one delivery has
// the same key and no other delivery has it, so it is the id to make
// writes idempotent with (a unique column, say). It is empty for an event
// not made by ParseWebhook.
func (ev *WebhookEvent) DeliveryKey() string {
	if ev.raw == nil {
		return ""
	}
	return delivery.Key(ev.raw)
}

// SyncCompleted returns the data of a LinkedAccount.sync_completed event;
// ok is false for any other event.
func (ev *WebhookEvent) SyncCompleted() (data SyncCompletedData, ok bool) {
	return ev.sync, ev.Hook.Event == EventLinkedAccountSyncCompleted
}

// ModelEvent splits a common-model event such as "CRMAccount.changed" into
// its model ("CRMAccount") and action ("changed"); ok is false when the
// event is not a model event (see EventType.IsModelEvent).
func (ev *WebhookEvent) ModelEvent() (model, action string, ok bool) {
	t := ev.Hook.Event
	if !t.IsModelEvent() {
		return "", "", false
	}
	return t.Model(), t.Action(), true
}

// String describes the event without its data, so that the account token
// never shows: it prints as "[hidden]".
func (ev WebhookEvent) String() string {
	if ev.test {
		return "mergelink.WebhookEvent{test}"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mergelink.WebhookEvent{Event: %q, HookID: %q, LinkedAccountID: %q, Integration: %q",
		ev.Hook.Event, ev.Hook.ID, ev.LinkedAccount.ID, ev.LinkedAccount.IntegrationSlug)
	if ev.accountToken != "" {
		b.WriteString(", AccountToken: [hidden]")
	}
	fmt.Fprintf(&b, ", Data: %d bytes}", len(ev.Data))
	return b.String()
}

// GoString is String, so that %#v hides the account token too.
func (ev WebhookEvent) GoString() string { return ev.String() }

// Format prints String for every verb, so that no verb (%+v, %#v, %x, %d)
// prints the raw data, which may hold the account token.
func (ev WebhookEvent) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, ev.String(), ev.GoString())
}

// LogValue logs the event's identifying fields, never its data or account
// token.
func (ev WebhookEvent) LogValue() slog.Value {
	if ev.test {
		return slog.GroupValue(slog.Bool("test", true))
	}
	attrs := []slog.Attr{
		slog.String("event", string(ev.Hook.Event)),
		slog.String("hook_id", ev.Hook.ID),
		slog.String("linked_account_id", ev.LinkedAccount.ID),
		slog.String("integration", ev.LinkedAccount.IntegrationSlug),
		slog.Int("data_bytes", len(ev.Data)),
	}
	if ev.accountToken != "" {
		attrs = append(attrs, slog.String("account_token", hidden))
	}
	return slog.GroupValue(attrs...)
}
