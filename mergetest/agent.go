package mergetest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// agentTokenTTL is how long an Agent Handler link token lasts.
const agentTokenTTL = 30 * time.Minute

// registeredUser is an Agent Handler registered user, in its wire form.
type registeredUser struct {
	ID                      string           `json:"id"`
	OriginUserID            string           `json:"origin_user_id"`
	OriginUserName          string           `json:"origin_user_name"`
	SharedCredentialGroup   *credentialGroup `json:"shared_credential_group"`
	UserType                string           `json:"user_type"`
	AuthenticatedConnectors []string         `json:"authenticated_connectors"`
	IsTest                  bool             `json:"is_test"`
}

type credentialGroup struct {
	OriginCompanyID   *string           `json:"origin_company_id"`
	OriginCompanyName *string           `json:"origin_company_name"`
	CustomGroupings   map[string]string `json:"custom_groupings,omitempty"`
}

// agentToken is an Agent Handler link token and what it was made for.
type agentToken struct {
	token       string
	userID      string
	connector   string
	callbackURL string
	state       string
	expires     time.Time
	used        bool
}

// decodeAgent decodes a JSON object body field by field and answers the
// first problem, if any, with Agent Handler's error body.
func decodeAgent(body []byte, fields map[string]field) (reply, bool) {
	var c checker
	decodeFields(body, fields, &c)
	if len(c.problems) == 0 {
		return reply{}, false
	}
	p := c.problems[0]
	msg := p.Detail
	if p.Source != nil {
		msg = fmt.Sprintf("%s: %s", strings.TrimPrefix(p.Source.Pointer, "/"), msg)
	}
	return agentError(http.StatusBadRequest, strings.ToLower(p.ProblemType), msg), true
}

// userRequest is the body of a registered user's POST or PATCH.
type userRequest struct {
	id, originUserID, originUserName, userType *string
	group                                      *credentialGroup
}

func (q *userRequest) fields() map[string]field {
	return map[string]field{
		"id":                      {&q.id, "a string"}, // in Merge's request schema, and ignored
		"origin_user_id":          {&q.originUserID, "a string"},
		"origin_user_name":        {&q.originUserName, "a string"},
		"shared_credential_group": {&q.group, "an object {origin_company_id, origin_company_name, custom_groupings}"},
		"user_type":               {&q.userType, "a string"},
	}
}

// check answers the first problem of a user request; creating is true for
// a POST, whose names are required.
func (q *userRequest) check(creating bool) (reply, bool) {
	for _, f := range []struct {
		name string
		v    *string
	}{{"origin_user_id", q.originUserID}, {"origin_user_name", q.originUserName}} {
		if (creating || f.v != nil) && deref(f.v) == "" {
			return agentError(http.StatusBadRequest, f.name+"_required", f.name+" is required and must not be empty."), true
		}
	}
	if t := q.userType; t != nil && *t != "HUMAN" && *t != "SYSTEM" {
		return agentError(http.StatusBadRequest, "invalid_user_type", fmt.Sprintf("user_type must be HUMAN or SYSTEM, not %q.", *t)), true
	}
	return reply{}, false
}

// createUser serves POST /registered-users/, idempotent on origin_user_id:
// 201 with a new user, 200 with the existing one.
func (s *Server) createUser(r *http.Request, body []byte) reply {
	var q userRequest
	if rep, bad := decodeAgent(body, q.fields()); bad {
		return rep
	}
	if rep, bad := q.check(true); bad {
		return rep
	}
	if u := s.userByOrigin(*q.originUserID); u != nil {
		return reply{http.StatusOK, u}
	}
	u := &registeredUser{
		ID:                      s.ids.id(),
		OriginUserID:            *q.originUserID,
		OriginUserName:          *q.originUserName,
		SharedCredentialGroup:   q.group,
		UserType:                "HUMAN",
		AuthenticatedConnectors: []string{},
		IsTest:                  testKeyUsed(r),
	}
	if q.userType != nil {
		u.UserType = *q.userType
	}
	s.users = append(s.users, u)
	s.audit("REGISTERED_USER_CREATED", "Registered User "+u.OriginUserID+" created.")
	s.agentEvent(agentUserCreated, u, connector{})
	return reply{http.StatusCreated, u}
}

// Registered-user page sizes.
const (
	defaultUserPageSize = 100
	maxUserPageSize     = 100
)

// listUsers serves GET /registered-users/ with page-number pagination.
func (s *Server) listUsers(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	var found []*registeredUser
	for _, u := range s.users {
		if u.IsTest == testKeyUsed(r) && (!q.Has("origin_user_id") || q.Get("origin_user_id") == u.OriginUserID) {
			found = append(found, u)
		}
	}
	return numberedPage(s, r, found, defaultUserPageSize, maxUserPageSize)
}

// userOf returns the user the path names, or a 404 reply, also for a user
// of the other environment than r's key.
func (s *Server) userOf(r *http.Request) (*registeredUser, reply) {
	if u := s.userByID(r.PathValue("id")); u != nil && u.IsTest == testKeyUsed(r) {
		return u, reply{}
	}
	return nil, agentError(http.StatusNotFound, "registered_user_not_found", "No Registered User has this id.")
}

// getUser serves GET /registered-users/{id}/.
func (s *Server) getUser(r *http.Request, _ []byte) reply {
	u, rep := s.userOf(r)
	if u == nil {
		return rep
	}
	return reply{http.StatusOK, u}
}

// patchUser serves PATCH /registered-users/{id}/: it changes the fields
// given.
func (s *Server) patchUser(r *http.Request, body []byte) reply {
	u, rep := s.userOf(r)
	if u == nil {
		return rep
	}
	var q userRequest
	if rep, bad := decodeAgent(body, q.fields()); bad {
		return rep
	}
	if rep, bad := q.check(false); bad {
		return rep
	}
	if id := q.originUserID; id != nil && *id != u.OriginUserID && s.userByOrigin(*id) != nil {
		return agentError(http.StatusBadRequest, "origin_user_id_taken", "Another Registered User has this origin_user_id.")
	}
	if q.originUserID != nil {
		u.OriginUserID = *q.originUserID
	}
	if q.originUserName != nil {
		u.OriginUserName = *q.originUserName
	}
	if q.userType != nil {
		u.UserType = *q.userType
	}
	if q.group != nil {
		u.SharedCredentialGroup = q.group
	}
	s.agentEvent(agentUserUpdated, u, connector{})
	return reply{http.StatusOK, u}
}

// deleteUser serves DELETE /registered-users/{id}/, answering 200 with no
// body, as the OpenAPI lists it.
func (s *Server) deleteUser(r *http.Request, _ []byte) reply {
	u, rep := s.userOf(r)
	if u == nil {
		return rep
	}
	s.users = slices.DeleteFunc(s.users, func(v *registeredUser) bool { return v == u })
	s.audit("REGISTERED_USER_DELETED", "Registered User "+u.OriginUserID+" deleted.")
	s.agentEvent(agentUserDeleted, u, connector{})
	return reply{status: http.StatusOK}
}

func (s *Server) userByID(id string) *registeredUser {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *Server) userByOrigin(originUserID string) *registeredUser {
	for _, u := range s.users {
		if u.OriginUserID == originUserID {
			return u
		}
	}
	return nil
}

// agentLinkRequest is the body of POST /registered-users/{id}/link-token/.
type agentLinkRequest struct {
	connector, externalID, callbackURL, state *string
}

func (q *agentLinkRequest) fields() map[string]field {
	return map[string]field{
		"connector":    {&q.connector, "a string"},
		"external_id":  {&q.externalID, "a string"},
		"callback_url": {&q.callbackURL, "a string"},
		"state":        {&q.state, "a string"},
	}
}

// createAgentLinkToken serves POST /registered-users/{id}/link-token/.
func (s *Server) createAgentLinkToken(r *http.Request, body []byte) reply {
	u, rep := s.userOf(r)
	if u == nil {
		return rep
	}
	var q agentLinkRequest
	if rep, bad := decodeAgent(body, q.fields()); bad {
		return rep
	}
	connector, callback, state := deref(q.connector), deref(q.callbackURL), deref(q.state)
	bad := func(code, msg string) reply { return agentError(http.StatusBadRequest, code, msg) }
	switch {
	case connector == "":
		return bad("connector_required", "connector is required: the slug of a connector, such as linear.")
	case !isConnector(connector):
		return bad("invalid_connector", fmt.Sprintf("connector: %s is not a valid connector: use the slug of a connector, such as linear.", validate.Quote(connector)))
	case state != "" && callback == "":
		return bad("state_requires_callback_url", "state requires callback_url: the state is returned to the callback URL.")
	}
	if callback != "" {
		cb, err := url.Parse(callback)
		if _, oerr := validate.Origin(callback); err != nil || oerr != nil {
			return bad("invalid_callback_url", fmt.Sprintf("callback_url is not a valid callback URL: %v", errors.Join(err, oerr)))
		}
		if state != "" && cb.Query().Has("state") {
			return bad("callback_url_has_state", "callback_url must not carry its own state query parameter when state is given.")
		}
	}
	t := &agentToken{
		token:       s.ids.token(),
		userID:      u.ID,
		connector:   connector,
		callbackURL: callback,
		state:       state,
		expires:     s.now().Add(agentTokenTTL),
	}
	s.agentTokens[t.token] = t
	return reply{http.StatusCreated, map[string]string{
		"link_token":     t.token,
		"magic_link_url": s.URL() + AgentLinkPath + t.token,
	}}
}

// Callback statuses: what the redirect to a callback URL carries in its
// status query parameter. Merge documents only CallbackSuccess, the one
// mergetest sends by default. CallbackCancelled and CallbackDeclined are
// mergetest's own, sent only WithOwnCallbackStatuses, for an end user who
// leaves without connecting (the SDK treats every status but success as a
// failure).
const (
	CallbackSuccess   = "success"
	CallbackCancelled = "cancelled"
	CallbackDeclined  = "declined"
)

// CompleteAgentLink does what a user does on an Agent Handler magic link
// page: it connects the link token's connector for its registered user and
// returns where the browser is sent next: the callback URL with
// status=success (and the token's state) added to its query, or "" when
// there is no callback URL or its origin is not allowed
// (WithAllowedCallbackOrigins), a redirect Merge skips silently.
//
// link is the link token or the magic link URL, which may carry a
// callback_url query parameter (used when the token has no callback URL of
// its own). It fails with ErrUnknownLink, ErrLinkUsed, ErrLinkExpired or
// ErrClosed, or when the registered user was deleted.
func (s *Server) CompleteAgentLink(link string) (redirectURL string, err error) {
	return s.endAgentLink(link, CallbackSuccess)
}

// CancelAgentLink does what a user does who closes the Agent Handler page
// without connecting: nothing is connected and the link token is used up.
// Merge documents no status for it, so by default the browser goes nowhere
// (""); WithOwnCallbackStatuses sends it to the callback URL with
// mergetest's status=cancelled (and the token's state), as
// CompleteAgentLink does with success. It fails as CompleteAgentLink does.
func (s *Server) CancelAgentLink(link string) (redirectURL string, err error) {
	return s.endAgentLink(link, CallbackCancelled)
}

// DeclineAgentLink does what a user does who refuses the connector's
// consent screen: as CancelAgentLink, with mergetest's status=declined
// WithOwnCallbackStatuses.
func (s *Server) DeclineAgentLink(link string) (redirectURL string, err error) {
	return s.endAgentLink(link, CallbackDeclined)
}

// endAgentLink ends the Agent Handler link with status.
func (s *Server) endAgentLink(link, status string) (string, error) {
	token, query, err := linkTokenOf(link, AgentLinkPath)
	if err != nil {
		return "", err
	}
	return s.completeAgentLink(token, query.Get("callback_url"), status)
}

// completeAgentLink ends the link token with status, given the callback
// URL that came with the magic link URL, if any.
func (s *Server) completeAgentLink(token, queryCallback, status string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	t, err := s.openAgentLink(token)
	if err != nil {
		return "", err
	}
	u := s.userByID(t.userID)
	if u == nil {
		return "", errors.New("mergetest: the link token's registered user was deleted")
	}
	t.used = true
	if status == CallbackSuccess {
		if !slices.Contains(u.AuthenticatedConnectors, t.connector) {
			u.AuthenticatedConnectors = append(u.AuthenticatedConnectors, t.connector)
		}
		k, _ := lookupConnector(t.connector) // in the catalog: createAgentLinkToken checked
		s.agentEvent(agentCredentialCreated, u, k)
	}
	return s.callbackRedirect(t, queryCallback, status), nil
}

// openAgentLink returns the Agent Handler link token if it can still be
// used. It runs with s.mu held.
func (s *Server) openAgentLink(token string) (*agentToken, error) {
	t := s.agentTokens[token]
	switch {
	case t == nil:
		return nil, ErrUnknownLink
	case t.used:
		return nil, ErrLinkUsed
	case !s.now().Before(t.expires):
		return nil, ErrLinkExpired
	}
	return t, nil
}

// callbackRedirect returns the URL to redirect to after t ends with status,
// or "" when there is none, its origin is not allowed, or status is one of
// mergetest's own and WithOwnCallbackStatuses was not given. It runs with
// s.mu held.
func (s *Server) callbackRedirect(t *agentToken, queryCallback, status string) string {
	if status != CallbackSuccess && !s.ownStatuses {
		return ""
	}
	callback := t.callbackURL
	if callback == "" {
		callback = queryCallback
	}
	origin, err := validate.Origin(callback)
	if callback == "" || err != nil || !s.origins[origin] {
		return ""
	}
	u, err := url.Parse(callback)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("status", status)
	if t.state != "" && t.callbackURL != "" {
		q.Set("state", t.state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
