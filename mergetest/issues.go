package mergetest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/validate"
)

// Issue statuses, as Merge lists them.
const (
	IssueOngoing  = "ONGOING"
	IssueResolved = "RESOLVED"
)

// issue is an issue the server holds.
type issue struct {
	id          string
	account     *account // see live
	accountID   string
	org         string
	integration string
	status      string
	description string
	muted       bool
	first, last time.Time
}

// Issue is an issue the server holds, as RaiseIssue returns it.
type Issue struct {
	ID              string
	LinkedAccountID string
	Status          string
	// ErrorDescription is what RaiseIssue was given.
	ErrorDescription string
	IsMuted          bool
	FirstIncident    time.Time
	LastIncident     time.Time
}

// live returns the issue's Linked Account, or nil once it was deleted:
// its issues stay listed, as Merge keeps an organization's issues, but no
// longer match its account token or send webhooks. It runs with s.mu held.
func (s *Server) live(is *issue) *account {
	if a := s.accountByID(is.accountID); a == is.account {
		return a
	}
	return nil
}

func (is *issue) public() Issue {
	return Issue{ID: is.id, LinkedAccountID: is.accountID, Status: is.status, ErrorDescription: is.description,
		IsMuted: is.muted, FirstIncident: is.first, LastIncident: is.last}
}

// json is the issue as GET issues and the Issue webhooks show it.
func (is *issue) json() map[string]any {
	endUser := map[string]any{"id": is.accountID, "organization_name": is.org,
		"origin_id": is.account.originID, "email_address": is.account.email}
	return map[string]any{
		"id": is.id, "status": is.status, "error_description": is.description, "end_user": endUser,
		"first_incident_time": is.first, "last_incident_time": is.last, "is_muted": is.muted, "error_details": []string{},
	}
}

// RaiseIssue opens an issue on the Linked Account with accountID, as Merge
// does when a sync hits missing permissions or bad credentials (description
// is its error_description, such as "Missing Permissions"). A description
// already ongoing on the account counts one more incident instead of a new
// issue. The issue is listed by GET issues and sent as Issue.new (or
// Issue.reopened, for a resolved one raised again) when the server
// delivers webhooks. It fails with ErrUnknownAccount or ErrClosed, or when
// description is empty.
func (s *Server) RaiseIssue(accountID, description string) (Issue, error) {
	if strings.TrimSpace(description) == "" {
		return Issue{}, fmt.Errorf("mergetest: RaiseIssue: the description must not be empty, such as \"Missing Permissions\"")
	}
	var out Issue
	err := s.control(accountID, func(a *account) error {
		now := s.now().UTC()
		event := mergelink.EventIssueNew
		i := slices.IndexFunc(s.after.issues, func(is *issue) bool { return is.account == a && is.description == description })
		var is *issue
		if i >= 0 {
			is = s.after.issues[i]
			if is.status == IssueResolved {
				is.status, event = IssueOngoing, mergelink.EventIssueReopened
			} else {
				event = ""
			}
			is.last = now
		} else {
			is = &issue{id: s.ids.id(), account: a, accountID: a.id, org: a.org, integration: a.integ.name,
				status: IssueOngoing, description: description, first: now, last: now}
			s.after.issues = append(s.after.issues, is)
		}
		if event != "" && s.hooks.enabled() {
			s.hooks.queue(a, string(event), is.json())
		}
		out = is.public()
		return nil
	})
	return out, err
}

// ResolveIssue resolves the issue with id, as Merge does once a sync
// succeeds again, and sends Issue.resolved when the server delivers
// webhooks. It fails with ErrUnknownIssue or ErrClosed.
func (s *Server) ResolveIssue(id string) error {
	return s.changeIssue(id, mergelink.EventIssueResolved)
}

// MuteIssue mutes the issue with id, as the dashboard does: GET issues
// lists it only with include_muted=true. It sends Issue.muted when the
// server delivers webhooks. It fails with ErrUnknownIssue or ErrClosed.
func (s *Server) MuteIssue(id string) error { return s.changeIssue(id, mergelink.EventIssueMuted) }

func (s *Server) changeIssue(id string, event mergelink.EventType) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	i := slices.IndexFunc(s.after.issues, func(is *issue) bool { return is.id == id })
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownIssue, validate.Quote(id))
	}
	is := s.after.issues[i]
	switch event {
	case mergelink.EventIssueResolved:
		is.status = IssueResolved
	case mergelink.EventIssueMuted:
		is.muted = true
	}
	if a := s.live(is); a != nil && s.hooks.enabled() {
		s.hooks.queue(a, string(event), is.json())
	}
	return nil
}

// Issues returns the issues the server holds, oldest first, muted ones
// included.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, len(s.after.issues))
	for i, is := range s.after.issues {
		out[i] = is.public()
	}
	return out
}

// listIssues serves GET {category}/v1/issues, the organization's issues,
// with Merge's filters and cursor pages. It needs no account token.
func (s *Server) listIssues(r *http.Request, _ []byte) reply {
	if !isCategory(r.PathValue("category")) {
		return notFound(r, nil)
	}
	q := r.URL.Query()
	var c checker
	times := timeFilters(&c, q, "first_incident_time_after", "first_incident_time_before", "last_incident_time_after",
		"last_incident_time_before", "start_date", "end_date")
	if st := q.Get("status"); q.Has("status") && st != IssueOngoing && st != IssueResolved {
		c.invalid("", fmt.Sprintf("The status filter %q is not a valid choice: use ONGOING or RESOLVED.", st))
	}
	if id := q.Get("linked_account_id"); q.Has("linked_account_id") && !validate.IsUUID(id) {
		c.invalid("", "The linked_account_id filter must be a UUID.")
	}
	if len(c.problems) > 0 {
		return problems(c.problems...)
	}
	after := func(name string, t time.Time) bool { at, ok := times[name]; return !ok || t.After(at) }
	before := func(name string, t time.Time) bool { at, ok := times[name]; return !ok || t.Before(at) }
	var found []map[string]any
	for _, is := range s.after.issues {
		a := s.live(is)
		tokenOK := !q.Has("account_token") || a != nil &&
			subtle.ConstantTimeCompare([]byte(a.token), []byte(q.Get("account_token"))) == 1
		if tokenOK &&
			(!q.Has("linked_account_id") || q.Get("linked_account_id") == is.accountID) &&
			(!q.Has("end_user_organization_name") || q.Get("end_user_organization_name") == is.org) &&
			(!q.Has("integration_name") || strings.EqualFold(q.Get("integration_name"), is.integration)) &&
			(!q.Has("status") || q.Get("status") == is.status) &&
			(!is.muted || q.Get("include_muted") == "true") &&
			after("first_incident_time_after", is.first) && before("first_incident_time_before", is.first) &&
			after("last_incident_time_after", is.last) && before("last_incident_time_before", is.last) &&
			after("start_date", is.last) && before("end_date", is.last) {
			found = append(found, is.json())
		}
	}
	return cursorReply(r, found)
}

// getIssue serves GET {category}/v1/issues/{id}, muted or not.
func (s *Server) getIssue(r *http.Request, _ []byte) reply {
	if !isCategory(r.PathValue("category")) {
		return notFound(r, nil)
	}
	for _, is := range s.after.issues {
		if is.id == r.PathValue("id") {
			return reply{http.StatusOK, is.json()}
		}
	}
	return notFound(r, nil)
}

// timeFilters parses the date-time filters among names that q holds, and
// notes a problem in c for each that is not an ISO 8601 date-time.
func timeFilters(c *checker, q url.Values, names ...string) map[string]time.Time {
	times := map[string]time.Time{}
	for _, name := range names {
		if !q.Has(name) {
			continue
		}
		t, err := time.Parse(time.RFC3339, q.Get(name))
		if err != nil {
			c.invalid("", fmt.Sprintf("The %s filter must be an ISO 8601 date-time, not %q.", name, q.Get(name)))
			continue
		}
		times[name] = t
	}
	return times
}
