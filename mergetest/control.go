package mergetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mergelink/mergelink"
)

// ControlPath is the versioned prefix, under the server's URL, of the
// control API WithControlAPI serves. It lies apart from Merge's paths
// (UnifiedPath, AgentPath), which never answer a control call.
const ControlPath = "/_mergetest/v1"

// MaxDeliveryWait is the longest a deliveries call of the control API
// waits for its deliveries (the wait and timeout_ms parameters).
const MaxDeliveryWait = time.Minute

// WithControlAPI makes the server serve, under ControlPath, an HTTP control
// API that does over JSON what the Server's methods do from Go: complete or
// cancel links, send and redeliver webhooks, change Linked Accounts and
// issues, rotate keys, list deliveries and requests. It lets a test in
// another language drive the server, as cmd/mergetest does; its calls,
// documented in cmd/mergetest's README, take no API key (they play the end
// user and Merge's dashboard, not a client of Merge's API), refuse one,
// and are not recorded in Requests.
func WithControlAPI() ServerOption {
	return func(c *config) { c.control = true }
}

// controlError is a control call's failure, answered with its status.
type controlError struct {
	status int
	err    error
}

func (e *controlError) Error() string { return e.err.Error() }
func (e *controlError) Unwrap() error { return e.err }

// badControl is a control call's own 400.
func badControl(format string, args ...any) error {
	return &controlError{http.StatusBadRequest, fmt.Errorf(format, args...)}
}

// controlStatus is the status a control call's error is answered with.
func controlStatus(err error) int {
	var ce *controlError
	switch {
	case errors.As(err, &ce):
		return ce.status
	case errors.Is(err, ErrUnknownLink), errors.Is(err, ErrUnknownAccount), errors.Is(err, ErrUnknownIssue), errors.Is(err, ErrUnknownDelivery):
		return http.StatusNotFound
	case errors.Is(err, ErrLinkUsed), errors.Is(err, ErrLinkExpired), errors.Is(err, ErrClosed):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// controlRoutes adds the control API to mux.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	handle := func(method, path string, f func(r *http.Request) (any, error)) {
		mux.HandleFunc(method+" "+ControlPath+path, func(w http.ResponseWriter, r *http.Request) {
			var out any
			var err error
			switch {
			case r.Header.Get("Authorization") != "" || r.Header.Get(AccountTokenHeader) != "":
				err = badControl("the control API takes no Authorization or %s header: it is mergetest's own, not Merge's API, which is served under %s and %s", AccountTokenHeader, UnifiedPath, AgentPath)
			default:
				out, err = f(r)
			}
			status := http.StatusOK
			if err != nil {
				status, out = controlStatus(err), map[string]string{"error": err.Error()}
			}
			writeReply(w, reply{status, out})
		})
	}
	handle("GET", "/health", func(*http.Request) (any, error) { return map[string]string{"status": "ok"}, nil })
	handle("POST", "/links/complete", s.controlCompleteLink)
	handle("POST", "/links/cancel", func(r *http.Request) (any, error) {
		var q struct{ Link string }
		return struct{}{}, decodeControl(r, &q, func() error { return required("link", q.Link) }, func() error { return s.CancelLink(q.Link) })
	})
	for action, f := range map[string]func(string) (string, error){"complete": s.CompleteAgentLink, "cancel": s.CancelAgentLink, "decline": s.DeclineAgentLink} {
		handle("POST", "/agent-links/"+action, func(r *http.Request) (any, error) {
			var q struct{ Link string }
			var to string
			err := decodeControl(r, &q, func() error { return required("link", q.Link) }, func() (err error) { to, err = f(q.Link); return err })
			return map[string]string{"redirect_url": to}, err
		})
	}
	handle("GET", "/linked-accounts", func(*http.Request) (any, error) {
		var out []controlAccount
		for _, a := range s.LinkedAccounts() {
			out = append(out, s.controlAccountOf(a))
		}
		return results(out), nil
	})
	handle("DELETE", "/linked-accounts/{id}", func(r *http.Request) (any, error) {
		return struct{}{}, s.DeleteLinkedAccount(r.PathValue("id"))
	})
	handle("POST", "/linked-accounts/{id}/status", func(r *http.Request) (any, error) {
		var q struct{ Status string }
		return s.controlAccountAfter(r, decodeControl(r, &q, func() error { return required("status", q.Status) },
			func() error { return s.SetLinkedAccountStatus(r.PathValue("id"), q.Status) }))
	})
	handle("POST", "/linked-accounts/{id}/test-account", func(r *http.Request) (any, error) {
		var q struct {
			IsTestAccount *bool `json:"is_test_account"`
		}
		return s.controlAccountAfter(r, decodeControl(r, &q, func() error { return requiredValue("is_test_account", "a boolean", q.IsTestAccount != nil) },
			func() error { return s.SetTestAccount(r.PathValue("id"), *q.IsTestAccount) }))
	})
	handle("POST", "/linked-accounts/{id}/employee-count", func(r *http.Request) (any, error) {
		var q struct{ Count *int }
		return struct{}{}, decodeControl(r, &q, func() error { return requiredValue("count", "a number", q.Count != nil) },
			func() error { return s.SetEmployeeCount(r.PathValue("id"), *q.Count) })
	})
	handle("POST", "/linked-accounts/{id}/webhooks", func(r *http.Request) (any, error) {
		var q struct {
			Event string
			Data  json.RawMessage
		}
		return struct{}{}, decodeControl(r, &q, func() error { return required("event", q.Event) }, func() error {
			var data any
			if len(q.Data) > 0 && string(q.Data) != "null" {
				data = q.Data
			}
			return s.SendWebhook(r.PathValue("id"), mergelink.EventType(q.Event), data)
		})
	})
	handle("POST", "/linked-accounts/{id}/issues", func(r *http.Request) (any, error) {
		var q struct{ Description string }
		var is Issue
		err := decodeControl(r, &q, func() error { return required("description", q.Description) },
			func() (err error) { is, err = s.RaiseIssue(r.PathValue("id"), q.Description); return err })
		return controlIssueOf(is), err
	})
	handle("GET", "/issues", func(*http.Request) (any, error) {
		var out []controlIssue
		for _, is := range s.Issues() {
			out = append(out, controlIssueOf(is))
		}
		return results(out), nil
	})
	for action, f := range map[string]func(string) error{"resolve": s.ResolveIssue, "mute": s.MuteIssue} {
		handle("POST", "/issues/{id}/"+action, func(r *http.Request) (any, error) {
			id := r.PathValue("id")
			if err := f(id); err != nil {
				return nil, err
			}
			for _, is := range s.Issues() {
				if is.ID == id {
					return controlIssueOf(is), nil
				}
			}
			return nil, ErrUnknownIssue
		})
	}
	handle("POST", "/webhook", func(r *http.Request) (any, error) {
		var q struct{ URL, Key string }
		return struct{}{}, decodeControl(r, &q, nil, func() error { return s.SetWebhook(q.URL, q.Key) })
	})
	handle("POST", "/webhook/rotate", func(r *http.Request) (any, error) {
		var q struct{ Key string }
		return struct{}{}, decodeControl(r, &q, nil, func() error { return s.RotateWebhookKey(q.Key) })
	})
	handle("POST", "/webhook/rotate/finish", func(r *http.Request) (any, error) {
		return struct{}{}, decodeControl(r, &struct{}{}, nil, s.FinishWebhookKeyRotation)
	})
	handle("POST", "/agent-webhook", func(r *http.Request) (any, error) {
		var q struct{ URL, Key string }
		return struct{}{}, decodeControl(r, &q, nil, func() error { return s.SetAgentWebhook(q.URL, q.Key) })
	})
	handle("POST", "/agent-webhook/rotate", func(r *http.Request) (any, error) {
		var q struct{ Key string }
		return struct{}{}, decodeControl(r, &q, nil, func() error { return s.RotateAgentWebhookKey(q.Key) })
	})
	handle("GET", "/deliveries", func(r *http.Request) (any, error) {
		return controlDeliveries(r, "unified", s.Deliveries, s.WaitForDeliveries)
	})
	handle("GET", "/agent-deliveries", func(r *http.Request) (any, error) {
		return controlDeliveries(r, "agent", s.AgentDeliveries, s.WaitForAgentDeliveries)
	})
	handle("POST", "/deliveries/{id}/redeliver", func(r *http.Request) (any, error) {
		return struct{}{}, s.Redeliver(r.PathValue("id"))
	})
	handle("GET", "/requests", func(*http.Request) (any, error) {
		var out []controlRequest
		for _, q := range s.Requests() {
			h := q.Header.Clone()
			h.Del("Authorization")
			out = append(out, controlRequest{q.Method, q.Path, q.Query, h, string(q.Body)})
		}
		return results(out), nil
	})
	handle("POST", "/fail-next", func(r *http.Request) (any, error) {
		var q struct {
			Count, Status int
			RetryAfter    string `json:"retry_after"`
		}
		return struct{}{}, decodeControl(r, &q, func() error {
			if q.Count < 0 || q.Status < 400 || q.Status > 599 {
				return badControl("count must be 0 or more and status 400 to 599, got %d and %d", q.Count, q.Status)
			}
			return nil
		}, func() error { s.FailNext(q.Count, q.Status, q.RetryAfter); return nil })
	})
	handle("POST", "/sync-duration", func(r *http.Request) (any, error) {
		var q struct {
			Milliseconds int64
		}
		return struct{}{}, decodeControl(r, &q, func() error {
			return requiredValue("milliseconds", "a positive number", q.Milliseconds > 0)
		}, func() error { s.SetSyncDuration(time.Duration(q.Milliseconds) * time.Millisecond); return nil })
	})
	handle("GET", "/clock", func(*http.Request) (any, error) { return controlClock{s.now()}, nil })
	handle("POST", "/clock/advance", func(r *http.Request) (any, error) {
		var q struct{ Milliseconds int64 }
		var now time.Time
		err := decodeControl(r, &q, func() error {
			return requiredValue("milliseconds", "a positive number", q.Milliseconds > 0)
		}, func() error { now = s.AdvanceClock(time.Duration(q.Milliseconds) * time.Millisecond); return nil })
		return controlClock{now}, err
	})
	handle("POST", "/callback-origins", func(r *http.Request) (any, error) {
		var q struct{ Origins []string }
		return struct{}{}, decodeControl(r, &q, nil, func() error { return s.AllowCallbackOrigins(q.Origins...) })
	})
	mux.HandleFunc(ControlPath+"/", func(w http.ResponseWriter, r *http.Request) {
		writeReply(w, reply{http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no control %s %s: see cmd/mergetest's README for the control API", r.Method, r.URL.Path)}})
	})
}

// decodeControl decodes r's JSON body into q, refusing unknown fields, then
// runs check and, when it passes, do.
func decodeControl(r *http.Request, q any, check, do func() error) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(q); err != nil && err != io.EOF {
		return badControl("the body is not the JSON object this control takes: %v", err)
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	return do()
}

// required fails when the string field name is empty.
func required(name, v string) error {
	return requiredValue(name, "a non-empty string", v != "")
}

// requiredValue fails, saying what field name must be, unless ok.
func requiredValue(name, what string, ok bool) error {
	if ok {
		return nil
	}
	return badControl("%s must be %s", name, what)
}

// results wraps a list so that an empty one is [], not null.
func results[T any](list []T) map[string][]T {
	if list == nil {
		list = []T{}
	}
	return map[string][]T{"results": list}
}

// controlAccount is a Linked Account as the control API shows it: with
// its account token, and with the public token on a completed link.
type controlAccount struct {
	ID                      string    `json:"id"`
	AccountToken            string    `json:"account_token"`
	PublicToken             string    `json:"public_token,omitempty"`
	IsRelink                bool      `json:"is_relink"`
	Integration             string    `json:"integration"`
	IntegrationName         string    `json:"integration_name"`
	Category                string    `json:"category"`
	EndUserOriginID         string    `json:"end_user_origin_id"`
	EndUserOrganizationName string    `json:"end_user_organization_name"`
	EndUserEmailAddress     string    `json:"end_user_email_address"`
	Status                  string    `json:"status"`
	IsTestAccount           bool      `json:"is_test_account"`
	CompletedAt             time.Time `json:"completed_at"`
}

// controlAccountOf shows a; LinkedAccounts leaves out the account token,
// so it is read here.
func (s *Server) controlAccountOf(a LinkedAccount) controlAccount {
	token := a.AccountToken
	if token == "" {
		token = locked(s, func() string {
			if acct := s.accountByID(a.ID); acct != nil {
				return acct.token
			}
			return ""
		})
	}
	return controlAccount{a.ID, token, a.PublicToken, a.IsRelink, a.Integration, a.IntegrationName, a.Category,
		a.EndUserOriginID, a.EndUserOrganizationName, a.EndUserEmailAddress, a.Status, a.IsTestAccount, a.CompletedAt}
}

// controlAccountAfter answers a control that changed the account the path
// names with the account as it is now, unless err.
func (s *Server) controlAccountAfter(r *http.Request, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	for _, a := range s.LinkedAccounts() {
		if a.ID == r.PathValue("id") {
			return s.controlAccountOf(a), nil
		}
	}
	return nil, ErrUnknownAccount
}

func (s *Server) controlCompleteLink(r *http.Request) (any, error) {
	var q struct{ Link, Integration string }
	var a *LinkedAccount
	err := decodeControl(r, &q, func() error { return required("link", q.Link) },
		func() (err error) { a, err = s.CompleteLink(q.Link, q.Integration); return err })
	if err != nil {
		return nil, err
	}
	return s.controlAccountOf(*a), nil
}

// controlIssue is an issue as the control API shows it.
type controlIssue struct {
	ID               string    `json:"id"`
	LinkedAccountID  string    `json:"linked_account_id"`
	Status           string    `json:"status"`
	ErrorDescription string    `json:"error_description"`
	IsMuted          bool      `json:"is_muted"`
	FirstIncident    time.Time `json:"first_incident_time"`
	LastIncident     time.Time `json:"last_incident_time"`
}

func controlIssueOf(is Issue) controlIssue {
	return controlIssue(is)
}

// controlDelivery is a finished delivery as the control API shows it: the
// payload as the exact text sent, which the signature signs, and every
// header of the last attempt.
type controlDelivery struct {
	ID               string      `json:"id"`
	API              string      `json:"api"`
	Event            string      `json:"event"`
	LinkedAccountID  string      `json:"linked_account_id,omitempty"`
	RegisteredUserID string      `json:"registered_user_id,omitempty"`
	URL              string      `json:"url"`
	Attempts         int         `json:"attempts"`
	StatusCode       int         `json:"status_code"`
	Error            string      `json:"error,omitempty"`
	Signature        string      `json:"signature"`
	Headers          http.Header `json:"headers"`
	Payload          string      `json:"payload"`
}

// controlDeliveries lists the finished deliveries of one API, waiting for
// the number the wait parameter gives, for at most timeout_ms (default and
// most MaxDeliveryWait), when it is set.
func controlDeliveries(r *http.Request, api string, list func() []Delivery, waitFor func(context.Context, int) ([]Delivery, error)) (any, error) {
	ds := list()
	if w := r.URL.Query().Get("wait"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return nil, badControl("wait must be a number of deliveries, 0 or more, got %q", w)
		}
		timeout := MaxDeliveryWait
		if t := r.URL.Query().Get("timeout_ms"); t != "" {
			ms, err := strconv.Atoi(t)
			if err != nil || ms <= 0 || time.Duration(ms)*time.Millisecond > MaxDeliveryWait {
				return nil, badControl("timeout_ms must be a positive number of milliseconds up to %d, got %q", MaxDeliveryWait.Milliseconds(), t)
			}
			timeout = time.Duration(ms) * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if ds, err = waitFor(ctx, n); err != nil {
			status := http.StatusBadRequest
			if ctx.Err() != nil {
				status = http.StatusRequestTimeout
			}
			return nil, &controlError{status, fmt.Errorf("%d of the %d deliveries waited for finished: %w", len(ds), n, err)}
		}
	}
	var out []controlDelivery
	for _, d := range ds {
		c := controlDelivery{ID: d.ID, API: api, Event: d.Event, LinkedAccountID: d.LinkedAccountID, RegisteredUserID: d.RegisteredUserID,
			URL: d.URL, Attempts: d.Attempts, StatusCode: d.StatusCode, Headers: d.Header, Payload: string(d.Payload)}
		if d.Err != nil {
			c.Error = d.Err.Error()
		}
		c.Signature = d.Header.Get(mergelink.SignatureHeader)
		if api == "agent" {
			c.Signature = d.Header.Get(AgentSignatureHeader)
		}
		out = append(out, c)
	}
	return results(out), nil
}

// controlRequest is an API request as the control API shows it: without
// its Authorization header, as Request's JSON.
type controlRequest struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   url.Values  `json:"query"`
	Headers http.Header `json:"headers"`
	Body    string      `json:"body"`
}

// controlClock is the server's time, as the clock controls answer it.
type controlClock struct {
	Now time.Time `json:"now"`
}
