package mergetest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// callbackOrigin is an allowed callback origin registered over the API,
// in its wire form.
type callbackOrigin struct {
	ID         string    `json:"id"`
	Origin     string    `json:"origin"`
	CreatedAt  time.Time `json:"created_at"`
	ModifiedAt time.Time `json:"modified_at"`
}

// registerOrigin serves POST /allowed-callback-origins/ as Merge documents
// it: the origin is normalized to its scheme and host (and port), a path,
// query or fragment being dropped; https, a custom app scheme, and plain
// http only for localhost are accepted. It answers 201 for a new origin
// and 200 for one already allowed, through this endpoint or
// WithAllowedCallbackOrigins; from then on the origin governs callback
// redirects exactly as one the option set.
func (s *Server) registerOrigin(r *http.Request, body []byte) reply {
	var q struct {
		Origin *string `json:"origin"`
	}
	if rep, bad := decodeStrict(body, &q); bad {
		return rep
	}
	raw := deref(q.Origin)
	if raw == "" {
		return agentError(http.StatusBadRequest, "origin_required", "origin is required.")
	}
	o, err := validate.Origin(raw)
	if err != nil {
		return agentError(http.StatusBadRequest, "invalid_origin", "origin is not a valid origin: "+err.Error())
	}
	if u, _ := url.Parse(o); u.Scheme == "http" && u.Hostname() != "localhost" {
		return agentError(http.StatusBadRequest, "invalid_origin", "origin: plain http is allowed only for http://localhost:PORT.")
	}
	if rec, ok := s.ah.origins[o]; ok {
		return reply{http.StatusOK, rec}
	}
	now := s.now().UTC()
	rec := &callbackOrigin{ID: s.ids.id(), Origin: o, CreatedAt: now, ModifiedAt: now}
	s.ah.origins[o] = rec
	existed := s.origins[o]
	s.origins[o] = true
	s.audit("ALLOWED_CALLBACK_ORIGIN_CREATED", "Allowed callback origin "+o+" registered.")
	if existed {
		return reply{http.StatusOK, rec}
	}
	return reply{http.StatusCreated, rec}
}

// decodeStrict decodes a JSON body into v, refusing unknown fields (Merge
// ignores them; mergetest refuses them so that a misspelt field fails a
// test), and answers the problem, if any, with Agent Handler's error body.
func decodeStrict(body []byte, v any) (reply, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		return agentError(http.StatusBadRequest, "invalid_request", "The request body is not valid: "+msg+"."), true
	}
	if d.More() {
		return agentError(http.StatusBadRequest, "invalid_request", "The request body holds more than one JSON value."), true
	}
	return reply{}, false
}

// WithOwnCallbackStatuses makes an Agent Handler link that ends without a
// connection (CancelAgentLink, DeclineAgentLink, the hosted page's cancel
// and decline buttons) redirect to the callback URL with mergetest's own
// status, CallbackCancelled or CallbackDeclined. Merge documents only
// CallbackSuccess, so without it such a link redirects nowhere, and a test
// does not come to lean on a status Merge may never send.
func WithOwnCallbackStatuses() ServerOption {
	return func(c *config) { c.ownStatuses = true }
}
