package mergetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// appCredential is an OAuth application credential (bring your own OAuth
// app). Its client secret is kept and never answered, as Merge does.
type appCredential struct {
	ID              string    `json:"id"`
	ConnectorSlug   string    `json:"connector_slug"`
	ClientID        string    `json:"client_id"`
	ExternalID      *string   `json:"external_id"`
	IsGlobalDefault bool      `json:"is_global_default"`
	CreatedAt       time.Time `json:"created_at"`
	ModifiedAt      time.Time `json:"modified_at"`
	clientSecret    *string
}

// appCredentialRequest is the body of an application credential's POST or
// PATCH; a null field is json.RawMessage("null"), an absent one nil.
type appCredentialRequest struct {
	ConnectorSlug json.RawMessage `json:"connector_slug"`
	ClientID      json.RawMessage `json:"client_id"`
	ClientSecret  json.RawMessage `json:"client_secret"`
	ExternalID    json.RawMessage `json:"external_id"`
}

// optString decodes a nullable string field: set reports it was sent, v is
// nil for null.
func optString(raw json.RawMessage) (v *string, set bool, ok bool) {
	if raw == nil {
		return nil, false, true
	}
	if string(raw) == "null" {
		return nil, true, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, true, false
	}
	return &s, true, true
}

// createAppCredential serves POST /application-credentials/; one OAuth
// app per connector and external_id.
func (s *Server) createAppCredential(r *http.Request, body []byte) reply {
	var q appCredentialRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	slug, _, ok1 := optString(q.ConnectorSlug)
	clientID, _, ok2 := optString(q.ClientID)
	secret, _, ok3 := optString(q.ClientSecret)
	ext, _, ok4 := optString(q.ExternalID)
	switch {
	case !ok1 || !ok2 || !ok3 || !ok4:
		return agentError(http.StatusBadRequest, "invalid_request", "connector_slug, client_id, client_secret and external_id must be strings.")
	case deref(slug) == "":
		return agentError(http.StatusBadRequest, "connector_slug_required", "connector_slug is required.")
	case deref(clientID) == "":
		return agentError(http.StatusBadRequest, "client_id_required", "client_id is required.")
	}
	if _, ok := lookupConnector(*slug); !ok {
		return agentError(http.StatusBadRequest, "invalid_connector", fmt.Sprintf("connector_slug: %s is not a valid connector.", validate.Quote(*slug)))
	}
	for _, c := range s.ah.appCreds {
		if c.ConnectorSlug == *slug && deref(c.ExternalID) == deref(ext) {
			return agentError(http.StatusBadRequest, "application_credential_exists", "The connector already has an application credential with this external_id.")
		}
	}
	now := s.now().UTC()
	c := &appCredential{ID: s.ids.id(), ConnectorSlug: *slug, ClientID: *clientID, ExternalID: ext, IsGlobalDefault: ext == nil,
		CreatedAt: now, ModifiedAt: now, clientSecret: secret}
	s.ah.appCreds = append(s.ah.appCreds, c)
	s.audit("APPLICATION_CREDENTIAL_CREATED", "Application credential for "+c.ConnectorSlug+" created.")
	return reply{http.StatusCreated, c}
}

// listAppCredentials serves GET /application-credentials/ with the slug
// and external_id filters.
func (s *Server) listAppCredentials(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	found := []*appCredential{}
	for _, c := range s.ah.appCreds {
		if (!q.Has("slug") || q.Get("slug") == c.ConnectorSlug) && (!q.Has("external_id") || q.Get("external_id") == deref(c.ExternalID)) {
			found = append(found, c)
		}
	}
	return numberedPage(s, r, found, defaultPackPageSize, maxPackPageSize)
}

func (s *Server) appCredentialOf(r *http.Request) (*appCredential, reply) {
	for _, c := range s.ah.appCreds {
		if c.ID == r.PathValue("id") {
			return c, reply{}
		}
	}
	return nil, agentError(http.StatusNotFound, "application_credential_not_found", "No application credential has this id.")
}

// patchAppCredential serves PATCH /application-credentials/{id}/: fields
// sent change, null clears client_secret or external_id.
func (s *Server) patchAppCredential(r *http.Request, body []byte) reply {
	c, rep := s.appCredentialOf(r)
	if c == nil {
		return rep
	}
	var q appCredentialRequest
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	if q.ConnectorSlug != nil {
		return agentError(http.StatusBadRequest, "invalid_request", "connector_slug cannot be changed.")
	}
	clientID, idSet, ok1 := optString(q.ClientID)
	secret, secretSet, ok2 := optString(q.ClientSecret)
	ext, extSet, ok3 := optString(q.ExternalID)
	if !ok1 || !ok2 || !ok3 || idSet && deref(clientID) == "" {
		return agentError(http.StatusBadRequest, "invalid_request", "client_id must be a non-empty string; client_secret and external_id strings or null.")
	}
	if idSet {
		c.ClientID = *clientID
	}
	if secretSet {
		c.clientSecret = secret
	}
	if extSet {
		c.ExternalID, c.IsGlobalDefault = ext, ext == nil
	}
	c.ModifiedAt = s.now().UTC()
	s.audit("APPLICATION_CREDENTIAL_UPDATED", "Application credential for "+c.ConnectorSlug+" updated.")
	return reply{http.StatusOK, c}
}

// deleteAppCredential serves DELETE /application-credentials/{id}/.
func (s *Server) deleteAppCredential(r *http.Request, _ []byte) reply {
	c, rep := s.appCredentialOf(r)
	if c == nil {
		return rep
	}
	s.ah.appCreds = slices.DeleteFunc(s.ah.appCreds, func(d *appCredential) bool { return d == c })
	s.audit("APPLICATION_CREDENTIAL_DELETED", "Application credential for "+c.ConnectorSlug+" deleted.")
	return reply{status: http.StatusOK}
}

// accessKey is an Agent Handler access key. Its secret shows only in the
// answers to create and regenerate.
type accessKey struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	KeyMasked         string     `json:"key_masked"`
	ToolPackIDs       []string   `json:"tool_pack_ids"`
	RegisteredUserIDs []string   `json:"registered_user_ids"`
	Scopes            []string   `json:"scopes"`
	IsTest            bool       `json:"is_test"`
	ExpiresAt         *time.Time `json:"expires_at"`
	CreatedAt         time.Time  `json:"created_at"`
	key               string
}

// issued is k's answer to create and regenerate, secret included.
func (k *accessKey) issued() any {
	return struct {
		*accessKey
		Key string `json:"key"`
	}{k, k.key}
}

// newSecret gives k a new secret.
func (k *accessKey) newSecret(ids *idSource) {
	k.key = "ah_sk_test_" + ids.token()
	k.KeyMasked = k.key[:10] + "…" + k.key[len(k.key)-4:]
}

// defaultKeyLife is how long a key lasts when the request sets nothing.
const defaultKeyLife = 90 * 24 * time.Hour

// createAccessKey serves POST /access-keys/.
func (s *Server) createAccessKey(r *http.Request, body []byte) reply {
	var q struct {
		ID                *string         `json:"id"` // in the request schema, and ignored
		Name              *string         `json:"name"`
		Key               json.RawMessage `json:"key"`        // read-only
		KeyMasked         *string         `json:"key_masked"` // read-only
		ToolPackIDs       *[]string       `json:"tool_pack_ids"`
		RegisteredUserIDs *[]string       `json:"registered_user_ids"`
		Scopes            *[]string       `json:"scopes"`
		IsTest            *bool           `json:"is_test"`
		ExpiresAt         json.RawMessage `json:"expires_at"`
		ExpiresIn         *int64          `json:"expires_in"`
		CreatedAt         *string         `json:"created_at"` // read-only
	}
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	now := s.now().UTC()
	k := &accessKey{ID: s.ids.id(), Name: deref(q.Name), Scopes: []string{"runtime:all", "management:all"}, IsTest: deref(q.IsTest), CreatedAt: now}
	if k.Name == "" {
		k.Name = fmt.Sprintf("Key %d", len(s.ah.keys)+1)
	}
	for _, ids := range []struct {
		name string
		in   *[]string
		out  *[]string
	}{{"tool_pack_ids", q.ToolPackIDs, &k.ToolPackIDs}, {"registered_user_ids", q.RegisteredUserIDs, &k.RegisteredUserIDs}} {
		if ids.in == nil {
			continue
		}
		for _, id := range *ids.in {
			if !validate.IsUUID(id) {
				return agentError(http.StatusBadRequest, "invalid_"+ids.name, ids.name+" must hold UUIDs.")
			}
		}
		*ids.out = *ids.in
	}
	if q.Scopes != nil {
		for _, sc := range *q.Scopes {
			if sc != "runtime:all" && sc != "management:all" {
				return agentError(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scopes: %s is not a scope: use runtime:all or management:all.", validate.Quote(sc)))
			}
		}
		k.Scopes = *q.Scopes
	}
	exp := now.Add(defaultKeyLife)
	k.ExpiresAt = &exp
	switch {
	case q.ExpiresAt != nil && q.ExpiresIn != nil:
		return agentError(http.StatusBadRequest, "invalid_expiry", "Set expires_at or expires_in, not both.")
	case string(q.ExpiresAt) == "null":
		k.ExpiresAt = nil
	case q.ExpiresAt != nil:
		var t time.Time
		if err := json.Unmarshal(q.ExpiresAt, &t); err != nil || !t.After(now) {
			return agentError(http.StatusBadRequest, "invalid_expires_at", "expires_at must be a date-time in the future.")
		}
		k.ExpiresAt = &t
	case q.ExpiresIn != nil:
		if *q.ExpiresIn < 1 {
			return agentError(http.StatusBadRequest, "invalid_expires_in", "expires_in must be 1 second or more.")
		}
		t := now.Add(time.Duration(*q.ExpiresIn) * time.Second)
		k.ExpiresAt = &t
	}
	k.newSecret(s.ids)
	s.ah.keys = append(s.ah.keys, k)
	return reply{http.StatusCreated, k.issued()}
}

// listAccessKeys serves GET /access-keys/: the keys not revoked.
func (s *Server) listAccessKeys(r *http.Request, _ []byte) reply {
	return numberedPage(s, r, slices.Clone(s.ah.keys), defaultPackPageSize, maxPackPageSize)
}

func (s *Server) accessKeyOf(r *http.Request) (*accessKey, reply) {
	for _, k := range s.ah.keys {
		if k.ID == r.PathValue("id") {
			return k, reply{}
		}
	}
	return nil, agentError(http.StatusNotFound, "access_key_not_found", "No active access key has this id.")
}

// regenerateAccessKey serves POST /access-keys/{id}/regenerate/.
func (s *Server) regenerateAccessKey(r *http.Request, _ []byte) reply {
	k, rep := s.accessKeyOf(r)
	if k == nil {
		return rep
	}
	k.newSecret(s.ids)
	return reply{http.StatusOK, k.issued()}
}

// revokeAccessKey serves POST /access-keys/{id}/revoke/: the key leaves
// the list for good.
func (s *Server) revokeAccessKey(r *http.Request, _ []byte) reply {
	k, rep := s.accessKeyOf(r)
	if k == nil {
		return rep
	}
	s.ah.keys = slices.DeleteFunc(s.ah.keys, func(j *accessKey) bool { return j == k })
	return reply{status: http.StatusOK}
}

// auditEvent is an entry of the audit log.
type auditEvent struct {
	ID               string    `json:"id"`
	UserName         string    `json:"user_name"`
	UserEmail        string    `json:"user_email"`
	Role             *string   `json:"role"`
	IPAddress        string    `json:"ip_address"`
	EventType        string    `json:"event_type"`
	EventDescription string    `json:"event_description"`
	CreatedAt        time.Time `json:"created_at"`
	userID           string
}

// AuditUserID is the id of the dashboard user to whom mergetest's audit
// log attributes the API's calls (the user_id filter of GET /audit-log/).
const AuditUserID = "00000000-0000-4000-8000-00000000a0d1"

// audit records an event in the audit log. It runs with s.mu held.
func (s *Server) audit(eventType, description string) {
	role := "ADMIN"
	s.ah.auditLog = append(s.ah.auditLog, auditEvent{
		ID: s.ids.id(), UserName: "mergetest API key", UserEmail: "api@mergetest.invalid", Role: &role,
		IPAddress: "127.0.0.1", EventType: eventType, EventDescription: description, CreatedAt: s.now().UTC(), userID: AuditUserID,
	})
}

// listAuditLog serves GET /audit-log/, newest first, with the
// created_after, created_before, event_type and user_id filters.
func (s *Server) listAuditLog(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	var after, before time.Time
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"created_after", &after}, {"created_before", &before}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return agentError(http.StatusBadRequest, "invalid_"+f.name, f.name+" must be an ISO 8601 date-time.")
			}
			*f.t = t
		}
	}
	found := []auditEvent{}
	for i := len(s.ah.auditLog) - 1; i >= 0; i-- {
		e := s.ah.auditLog[i]
		if (after.IsZero() || !e.CreatedAt.Before(after)) && (before.IsZero() || !e.CreatedAt.After(before)) &&
			(!q.Has("event_type") || q.Get("event_type") == e.EventType) && (!q.Has("user_id") || q.Get("user_id") == e.userID) {
			found = append(found, e)
		}
	}
	return numberedPage(s, r, found, defaultPackPageSize, maxPackPageSize)
}
