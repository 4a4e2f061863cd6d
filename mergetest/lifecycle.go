package mergetest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"
)

// AccountTokenHeader is the header in which the Unified API's calls after
// the link carry the Linked Account's account token.
const AccountTokenHeader = "X-Account-Token"

// DefaultSyncDuration is how long a sync takes on the server's clock unless
// SetSyncDuration sets another duration.
const DefaultSyncDuration = time.Minute

// syncInterval is how long after a sync finishes the next one is due.
const syncInterval = 24 * time.Hour

// afterLink is the state of the calls after the link: syncs, issues and
// the fake data of each Linked Account, keyed by account id. Its maps are
// made on first use; it is guarded by Server.mu.
type afterLink struct {
	syncDuration time.Duration
	// resyncs holds when Resync last restarted an account's sync.
	resyncs map[string]time.Time
	issues  []*issue
	// employees holds each HRIS account's employees, made on first use.
	employees map[string][]employee
}

func (l *afterLink) duration() time.Duration {
	if l.syncDuration <= 0 {
		return DefaultSyncDuration
	}
	return l.syncDuration
}

// SetSyncDuration sets how long each sync takes on the server's clock
// (WithClock): a Linked Account's models are SYNCING from the link, or from
// a resync, until then, and DONE after. It panics when d is not positive.
func (s *Server) SetSyncDuration(d time.Duration) {
	if d <= 0 {
		panic(fmt.Sprintf("mergetest: SetSyncDuration: the duration must be positive, got %s", d))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after.syncDuration = d
}

// afterLinkRoutes adds the Unified API's calls after the link to api, under
// u ("/api/{category}/v1").
func (s *Server) afterLinkRoutes(api *http.ServeMux, u string) {
	api.HandleFunc("GET "+u+"/account-details", s.unified(s.withAccount(s.accountDetails), false))
	api.HandleFunc("POST "+u+"/delete-account", s.unified(s.withAccount(s.deleteAccountCall), true))
	api.HandleFunc("POST "+u+"/account-token/regenerate", s.unified(s.withAccount(s.regenerateToken), true))
	api.HandleFunc("GET "+u+"/sync-status", s.unified(s.withAccount(s.syncStatus), false))
	api.HandleFunc("POST "+u+"/sync-status/resync", s.unified(s.withAccount(s.resync), true))
	api.HandleFunc("GET "+u+"/issues", s.unified(s.listIssues, false))
	api.HandleFunc("GET "+u+"/issues/{id}", s.unified(s.getIssue, false))
	api.HandleFunc("GET "+u+"/employees", s.unified(s.withAccount(s.listEmployees), false))
	api.HandleFunc("GET "+u+"/employees/{id}", s.unified(s.withAccount(s.getEmployee), false))
}

// accountHandler serves a call made with an account token.
type accountHandler func(r *http.Request, a *account) reply

// withAccount finds the Linked Account whose token r carries in
// X-Account-Token: a missing or unknown token (deleted, or replaced by a
// regenerated one) is answered 401, and a path of another category than
// the account's 404, since the path is the account's category. It runs
// with s.mu held.
func (s *Server) withAccount(f accountHandler) handler {
	return func(r *http.Request, _ []byte) reply {
		if !isCategory(r.PathValue("category")) {
			return notFound(r, nil)
		}
		token := r.Header.Get(AccountTokenHeader)
		if token == "" {
			return detail(http.StatusUnauthorized, "The X-Account-Token header is missing: pass the Linked Account's account token.")
		}
		a := s.accountByToken(token)
		switch {
		case a == nil:
			return detail(http.StatusUnauthorized, "Invalid account token.")
		case a.test != testKeyUsed(r):
			// As at Merge, a test key with a production account's token,
			// or the reverse, finds nothing.
			return notFound(r, nil)
		case a.category != r.PathValue("category"):
			return detail(http.StatusNotFound, fmt.Sprintf("The account token is for a Linked Account of category %s: call /api/%s/v1/.", a.category, a.category))
		}
		return f(r, a)
	}
}

// accountByToken returns the Linked Account whose account token is token,
// comparing in constant time. It runs with s.mu held.
func (s *Server) accountByToken(token string) *account {
	var found *account
	for _, a := range s.accounts {
		if subtle.ConstantTimeCompare([]byte(a.token), []byte(token)) == 1 {
			found = a
		}
	}
	return found
}

// accountDetailsJSON is GET account-details' answer.
type accountDetailsJSON struct {
	webhookAccount
	CompletedAt *time.Time `json:"completed_at"`
	// instance_id and instance_display_value are in Merge's OpenAPI but
	// not in its official Node client, which refuses them: sent only when
	// known, which mergetest never is.
	InstanceID           *string `json:"instance_id,omitempty"`
	InstanceDisplayValue *string `json:"instance_display_value,omitempty"`
}

// accountDetails serves GET {category}/v1/account-details.
func (s *Server) accountDetails(_ *http.Request, a *account) reply {
	d := accountDetailsJSON{webhookAccount: a.webhookJSON()}
	if !a.completedAt.IsZero() {
		at := a.completedAt
		d.CompletedAt = &at
	}
	return reply{http.StatusOK, d}
}

// deleteAccountCall serves POST {category}/v1/delete-account: 200 with an
// empty object, the OpenAPI's delete-account_delete_Response_200.
func (s *Server) deleteAccountCall(_ *http.Request, a *account) reply {
	s.deleteAccount(a)
	return reply{http.StatusOK, map[string]any{}}
}

// regenerateToken serves POST {category}/v1/account-token/regenerate: the
// account gets a new token, and the old one stops working at once.
func (s *Server) regenerateToken(_ *http.Request, a *account) reply {
	a.token = s.ids.token()
	return reply{http.StatusOK, map[string]string{"linked_account_id": a.id, "account_token": a.token}}
}

// syncStatusJSON is one model's sync status.
type syncStatusJSON struct {
	ModelName        string     `json:"model_name"`
	ModelID          string     `json:"model_id"`
	LastSyncStart    time.Time  `json:"last_sync_start"`
	NextSyncStart    *time.Time `json:"next_sync_start,omitempty"`
	LastSyncResult   string     `json:"last_sync_result"`
	LastSyncFinished *time.Time `json:"last_sync_finished,omitempty"`
	Status           string     `json:"status"`
	IsInitialSync    bool       `json:"is_initial_sync"`
}

// syncModels are the models whose syncs the server reports, per category:
// the one of syncedModel, and a few more where the category has them.
var syncModels = map[string][]string{
	"hris": {"Employee", "Employment", "Team", "Location", "TimeOff"},
	"ats":  {"Candidate", "Application", "Job", "Interview"},
	"crm":  {"Contact", "Account", "Opportunity"},
}

func modelsOf(category string) []string {
	if m, ok := syncModels[category]; ok {
		return m
	}
	return []string{syncedModel[category]}
}

// syncStatuses returns the sync status of each of a's models at now: a
// sync starts when the account is linked (or relinked) and when Resync
// restarts it, and is DONE one sync duration later. It runs with s.mu
// held.
func (s *Server) syncStatuses(a *account) []syncStatusJSON {
	now := s.now().UTC()
	start, initial := a.completedAt, true
	if at, ok := s.after.resyncs[a.id]; ok && at.After(start) {
		start, initial = at, false
	}
	end := start.Add(s.after.duration())
	var out []syncStatusJSON
	for _, m := range modelsOf(a.category) {
		st := syncStatusJSON{ModelName: m, ModelID: a.category + "." + m, LastSyncStart: start, IsInitialSync: initial}
		if now.Before(end) {
			st.Status, st.LastSyncResult = "SYNCING", "SYNCING"
			if !initial { // the sync before the resync had finished
				st.LastSyncResult = "DONE"
			}
		} else {
			next := end.Add(syncInterval)
			st.Status, st.LastSyncResult, st.LastSyncFinished, st.NextSyncStart = "DONE", "DONE", &end, &next
			st.IsInitialSync = false
		}
		if a.status == StatusRelinkNeeded || a.status == StatusIdle {
			st.Status = "PAUSED"
		}
		out = append(out, st)
	}
	return out
}

// syncStatus serves GET {category}/v1/sync-status, in cursor pages.
func (s *Server) syncStatus(r *http.Request, a *account) reply {
	return cursorReply(r, s.syncStatuses(a))
}

// resync serves POST {category}/v1/sync-status/resync: every model's sync
// starts again now.
func (s *Server) resync(_ *http.Request, a *account) reply {
	if s.after.resyncs == nil {
		s.after.resyncs = map[string]time.Time{}
	}
	s.after.resyncs[a.id] = s.now().UTC()
	return reply{http.StatusOK, s.syncStatuses(a)}
}
