package agenthandler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/internal/secret"
)

// EventType is the event of an Agent Handler webhook, such as
// "credential.created".
type EventType string

// The events of Agent Handler's catalog.
const (
	// EventRegisteredUserCreated is sent when a registered user is created
	// through the API or the dashboard.
	EventRegisteredUserCreated EventType = "registered_user.created"
	// EventRegisteredUserUpdated is sent when a registered user's profile,
	// groupings or activation state change.
	EventRegisteredUserUpdated EventType = "registered_user.updated"
	// EventRegisteredUserDeleted is sent when a registered user is deleted.
	EventRegisteredUserDeleted EventType = "registered_user.deleted"
	// EventCredentialCreated is sent when an end user connects a connector
	// through Link or Magic Link: the agent-side analogue of the Unified
	// API's first-sync webhook. See WebhookEvent.Credential.
	EventCredentialCreated EventType = "credential.created"
	// EventCredentialExpired is sent when a stored OAuth token can no
	// longer be refreshed (revoked or expired upstream): the user must
	// connect again.
	EventCredentialExpired EventType = "credential.expired"
	// EventCredentialDeleted is sent when a credential is removed through
	// the dashboard or the API (see Client.DeleteCredential).
	EventCredentialDeleted EventType = "credential.deleted"
	// EventToolCallCompleted is sent when a tool call succeeds.
	EventToolCallCompleted EventType = "tool_call.completed"
	// EventToolCallFailed is sent when a tool call fails (authentication,
	// rate limit, connector error).
	EventToolCallFailed EventType = "tool_call.failed"
	// EventToolCallBlocked is sent when the Security Gateway blocks a tool
	// call.
	EventToolCallBlocked EventType = "tool_call.blocked"
	// EventRuleViolation is sent when a Security Gateway rule matches a
	// tool call's arguments, whatever its action.
	EventRuleViolation EventType = "rule_violation"
	// EventToolPackUpdated is sent when a tool pack is edited.
	EventToolPackUpdated EventType = "tool_pack.updated"
	// EventInboundWebhookReceived carries a third party's webhook that Agent
	// Handler forwards.
	EventInboundWebhookReceived EventType = "inbound_webhook.received"
)

// eventTypes maps every spelling of a known event that the SDK accepts,
// lower-cased, to its constant: "credential.created" and the upper-snake
// "CREDENTIAL_CREATED" that a version of Merge's documentation shows.
var eventTypes = func() map[string]EventType {
	m := map[string]EventType{}
	for _, t := range []EventType{
		EventRegisteredUserCreated, EventRegisteredUserUpdated, EventRegisteredUserDeleted,
		EventCredentialCreated, EventCredentialExpired, EventCredentialDeleted,
		EventToolCallCompleted, EventToolCallFailed, EventToolCallBlocked,
		EventRuleViolation, EventToolPackUpdated, EventInboundWebhookReceived,
	} {
		m[string(t)] = t
		m[strings.ReplaceAll(string(t), ".", "_")] = t
	}
	return m
}()

// normalizeEvent returns the constant that s spells, or s itself.
func normalizeEvent(s string) EventType {
	if t, ok := eventTypes[strings.ToLower(strings.TrimSpace(s))]; ok {
		return t
	}
	return EventType(s)
}

// Object returns the part of t before its first '.': "credential" for
// "credential.created", "rule_violation" for "rule_violation".
func (t EventType) Object() string {
	object, _, _ := strings.Cut(string(t), ".")
	return object
}

// ErrNotWebhookPayload is returned by ParseWebhook, through a
// *WebhookPayloadError, for a correctly signed body that is not a JSON
// object.
var ErrNotWebhookPayload = errors.New("mergelink: not an Agent Handler webhook payload")

// WebhookPayloadError says why a signed body is not an Agent Handler
// webhook payload. It matches ErrNotWebhookPayload with errors.Is and
// never holds the body's values.
type WebhookPayloadError struct {
	// Reason says what is wrong, such as "not a JSON object".
	Reason string
}

func (e *WebhookPayloadError) Error() string { return ErrNotWebhookPayload.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrNotWebhookPayload) true.
func (e *WebhookPayloadError) Is(target error) bool { return target == ErrNotWebhookPayload }

// WebhookConnector names the connector of a credential event.
type WebhookConnector struct {
	// Slug is the connector's id, such as "linear".
	Slug string `json:"slug"`
	// Name is its name for people to read, when the event carries it.
	Name string `json:"name"`
}

// CredentialData is the data of a credential.* event: whose credential,
// for which connector.
type CredentialData struct {
	// RegisteredUser is the user whose credential it is: its ID at least
	// when the event names it, and the rest of its fields when the event
	// carries the whole user.
	RegisteredUser RegisteredUser `json:"registered_user"`
	// Connector is the connector the credential is for.
	Connector WebhookConnector `json:"connector"`
}

// WebhookEvent is a verified Agent Handler webhook.
//
// Merge documents the events but not the names of the envelope's fields,
// so ParseWebhook reads them leniently (see there) and keeps the whole
// body in Raw: what the SDK did not recognise is still there to read.
type WebhookEvent struct {
	// Event is the event, normalised to its EventType constant whatever
	// the spelling ("credential.created" or "CREDENTIAL_CREATED"); an event
	// outside the catalog is kept as sent. It is empty when the body has
	// no event field the SDK knows.
	Event EventType `json:"event"`
	// ID is the event's id when the envelope has one.
	ID string `json:"id,omitempty"`
	// CreatedAt is when the event happened, when the envelope says it in a
	// form the SDK reads (RFC 3339, or Unix seconds or milliseconds); zero
	// otherwise.
	CreatedAt time.Time `json:"created_at"`
	// Data is the raw data object, whose shape depends on the event.
	Data json.RawMessage `json:"data,omitempty"`
	// Raw is the whole body, as verified: the payload given to
	// ParseWebhook itself, not a copy. It is not marshalled to JSON with
	// the event.
	Raw json.RawMessage `json:"-"`

	credential CredentialData
	user       RegisteredUser
}

// ParseWebhook verifies payload's signature under keys, as
// VerifyWebhookSignature does, and only then decodes it. It fails with the
// errors of VerifyWebhookSignature, with a *WebhookPayloadError (matching
// ErrNotWebhookPayload) for a signed body that is not a JSON object, and
// with a *StaleWebhookError (matching ErrStaleWebhook) for an event whose
// signed time is more than DefaultWebhookTolerance from now: a replay of an
// old delivery, which the delivery store may have forgotten
// (ParseWebhookWithTolerance sets another tolerance).
//
// The envelope is read leniently, the first field found of each kind: the
// event from the first string of "event", "event_type", "type",
// "eventType" or "event_name", at the top level only (a name inside an
// object is content, such as what an inbound_webhook.received forwards,
// and never the event); the id from "id", "event_id", "eventId",
// "webhook_id" or "delivery_id"; the time from "created_at", "createdAt",
// "timestamp", "occurred_at" or "sent_at"; the data from "data",
// "payload" or "object". A field of an unexpected type is skipped rather
// than refused: the body is signed, so it is Agent Handler's, and a
// receiver that refused it would only make Agent Handler retry and drop
// it. Credential and RegisteredUser give typed access to the data of
// credential.* and registered_user.* events.
func ParseWebhook(payload []byte, signature string, keys ...string) (*WebhookEvent, error) {
	return ParseWebhookWithTolerance(payload, signature, DefaultWebhookTolerance, keys...)
}

// envelope names, in order of preference.
var (
	eventFields = []string{"event", "event_type", "type", "eventType", "event_name"}
	idFields    = []string{"id", "event_id", "eventId", "webhook_id", "delivery_id"}
	timeFields  = []string{"created_at", "createdAt", "timestamp", "occurred_at", "sent_at"}
	dataFields  = []string{"data", "payload", "object"}
)

// decodeWebhook decodes a verified body.
func decodeWebhook(payload []byte) (*WebhookEvent, error) {
	if len(bytes.TrimSpace(payload)) == 0 {
		return nil, &WebhookPayloadError{Reason: "empty body"}
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(payload, &env); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, &WebhookPayloadError{Reason: fmt.Sprintf("not JSON (error at byte %d)", syntax.Offset)}
		}
		return nil, &WebhookPayloadError{Reason: "not a JSON object"}
	}
	if env == nil { // null
		return nil, &WebhookPayloadError{Reason: "not a JSON object"}
	}
	ev := &WebhookEvent{Raw: payload}
	ev.Event = normalizeEvent(eventName(env))
	ev.ID = firstString(env, idFields)
	ev.CreatedAt = firstTime(env, timeFields)
	for _, name := range dataFields {
		if raw, ok := env[name]; ok && !isNull(raw) {
			ev.Data = raw
			break
		}
	}
	data := object(ev.Data)
	switch ev.Event {
	case EventCredentialCreated, EventCredentialExpired, EventCredentialDeleted:
		ev.credential = credentialData(data)
	case EventRegisteredUserCreated, EventRegisteredUserUpdated, EventRegisteredUserDeleted:
		ev.user = registeredUserData(ev.Data, data)
	}
	return ev, nil
}

// eventName finds the event's name in the envelope's own fields: the
// first of eventFields that holds a string. A name nested deeper (an
// object under "event", or the data of an inbound_webhook.received, which
// forwards what another service sent) is content, never the event.
func eventName(env map[string]json.RawMessage) string {
	for _, name := range eventFields {
		if s, ok := str(env[name]); ok && s != "" {
			return s
		}
	}
	return ""
}

// credentialData reads the registered user and the connector of a
// credential event's data, whether each is an object, an id or flat
// fields beside it.
func credentialData(data map[string]json.RawMessage) CredentialData {
	var d CredentialData
	if data == nil {
		return d
	}
	if raw, ok := data["registered_user"]; ok {
		if id, ok := str(raw); ok {
			d.RegisteredUser.ID = id
		} else {
			d.RegisteredUser = registeredUser(raw)
		}
	}
	if d.RegisteredUser.ID == "" {
		d.RegisteredUser.ID = firstString(data, []string{"registered_user_id", "registeredUserId"})
	}
	if d.RegisteredUser.OriginUserID == "" {
		d.RegisteredUser.OriginUserID = firstString(data, []string{"origin_user_id"})
	}
	if raw, ok := data["connector"]; ok {
		if slug, ok := str(raw); ok {
			d.Connector.Slug = slug
		} else if c := object(raw); c != nil {
			d.Connector.Slug = firstString(c, []string{"slug", "connector_slug", "id"})
			d.Connector.Name = firstString(c, []string{"name", "connector_name"})
		}
	}
	if d.Connector.Slug == "" {
		d.Connector.Slug = firstString(data, []string{"connector_slug", "connectorSlug", "slug"})
	}
	if d.Connector.Name == "" {
		d.Connector.Name = firstString(data, []string{"connector_name"})
	}
	return d
}

// registeredUserData reads the user of a registered_user event: the data
// itself, or a registered_user object inside it.
func registeredUserData(raw json.RawMessage, data map[string]json.RawMessage) RegisteredUser {
	if data == nil {
		return RegisteredUser{}
	}
	if inner, ok := data["registered_user"]; ok && object(inner) != nil {
		return registeredUser(inner)
	}
	u := registeredUser(raw)
	if u.ID == "" {
		u.ID = firstString(data, []string{"registered_user_id", "registeredUserId"})
	}
	return u
}

// registeredUser decodes a user object, keeping the fields of the right
// type: encoding/json skips a field of the wrong type and goes on, so its
// error only says that one was skipped.
func registeredUser(raw json.RawMessage) RegisteredUser {
	var u RegisteredUser
	_ = json.Unmarshal(raw, &u)
	return u
}

// object returns raw's members when it is a JSON object, else nil.
func object(raw json.RawMessage) map[string]json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// str returns raw's value when it is a JSON string.
func str(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// firstString returns the first non-empty string among the members names
// of m; a number is taken as its text, as ids sometimes are.
func firstString(m map[string]json.RawMessage, names []string) string {
	for _, name := range names {
		raw, ok := m[name]
		if !ok {
			continue
		}
		if s, ok := str(raw); ok && s != "" {
			return s
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil && n != "" {
			return n.String()
		}
	}
	return ""
}

// firstTime returns the first time among the members names of m: an RFC
// 3339 string, or a number of Unix seconds (or milliseconds, when it is
// too large for seconds).
func firstTime(m map[string]json.RawMessage, names []string) time.Time {
	for _, name := range names {
		raw, ok := m[name]
		if !ok {
			continue
		}
		if s, ok := str(raw); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t
			}
			continue
		}
		var n float64
		if json.Unmarshal(raw, &n) == nil && n > 0 && n < 1e15 {
			if n >= 1e11 { // after 5138 in seconds: milliseconds
				return time.UnixMilli(int64(n)).UTC()
			}
			return time.Unix(int64(n), 0).UTC()
		}
	}
	return time.Time{}
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// Type returns the event, ev.Event.
func (ev *WebhookEvent) Type() EventType { return ev.Event }

// DeliveryKey returns the delivery's key: the hex SHA-256 of the signed
// body, the key the delivery stores use. Every copy of one delivery has
// the same key and no other delivery has it, so it is the id to make
// writes idempotent with (a unique column, say). It is empty for an event
// not made by ParseWebhook.
func (ev *WebhookEvent) DeliveryKey() string {
	if ev.Raw == nil {
		return ""
	}
	return delivery.Key(ev.Raw)
}

// Credential returns the data of a credential.created, .expired or
// .deleted event: the registered user and the connector. ok is false for
// any other event. A field the event did not carry is empty.
func (ev *WebhookEvent) Credential() (data CredentialData, ok bool) {
	switch ev.Event {
	case EventCredentialCreated, EventCredentialExpired, EventCredentialDeleted:
		return ev.credential, true
	}
	return CredentialData{}, false
}

// RegisteredUser returns the user of a registered_user.created, .updated
// or .deleted event, decoded from the data (or from a registered_user
// object inside it). ok is false for any other event. A field the event
// did not carry is empty.
func (ev *WebhookEvent) RegisteredUser() (user RegisteredUser, ok bool) {
	switch ev.Event {
	case EventRegisteredUserCreated, EventRegisteredUserUpdated, EventRegisteredUserDeleted:
		return ev.user, true
	}
	return RegisteredUser{}, false
}

// String describes the event by its identifying fields, never its data,
// which may hold what a tool call sent or received.
func (ev WebhookEvent) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "agenthandler.WebhookEvent{Event: %q, ID: %q", ev.Event, ev.ID)
	if d, ok := ev.Credential(); ok {
		fmt.Fprintf(&b, ", RegisteredUserID: %q, Connector: %q", d.RegisteredUser.ID, d.Connector.Slug)
	}
	if u, ok := ev.RegisteredUser(); ok {
		fmt.Fprintf(&b, ", RegisteredUserID: %q", u.ID)
	}
	fmt.Fprintf(&b, ", Data: %d bytes}", len(ev.Data))
	return b.String()
}

// GoString is String, so that %#v hides the data too.
func (ev WebhookEvent) GoString() string { return ev.String() }

// Format prints String for every verb, so that no verb (%+v, %x, %d)
// prints the raw body.
func (ev WebhookEvent) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, ev.String(), ev.GoString())
}

// LogValue logs the event's identifying fields, never its data.
func (ev WebhookEvent) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("event", string(ev.Event)),
		slog.String("id", ev.ID),
	}
	if d, ok := ev.Credential(); ok {
		attrs = append(attrs, slog.String("registered_user_id", d.RegisteredUser.ID), slog.String("connector", d.Connector.Slug))
	}
	if u, ok := ev.RegisteredUser(); ok {
		attrs = append(attrs, slog.String("registered_user_id", u.ID))
	}
	attrs = append(attrs, slog.Int("data_bytes", len(ev.Data)))
	return slog.GroupValue(attrs...)
}
