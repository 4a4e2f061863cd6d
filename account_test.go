package mergelink_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// accountDetailsJSON has every field of Merge's AccountDetails schema.
const accountDetailsJSON = `{
	"id": "0496d4c2-42e6-4072-80b3-7b69bfdc76fd",
	"integration": "BambooHR",
	"integration_slug": "bamboohr",
	"category": "hris",
	"end_user_origin_id": "user-42",
	"end_user_organization_name": "Example Org",
	"end_user_email_address": "jane@example.com",
	"status": "RELINK_NEEDED",
	"webhook_listener_url": "https://api.merge.dev/api/integrations/webhook-listener/abc",
	"is_duplicate": false,
	"account_type": "PRODUCTION",
	"completed_at": "2026-01-02T03:04:05Z",
	"instance_id": "tenant-7",
	"instance_display_value": "Example (EU)"
}`

// syncStatusJSON is one SyncStatus with every field of Merge's schema.
const syncStatusJSON = `{"model_name":"Employee","model_id":"hris.Employee","last_sync_start":"2026-01-02T03:04:05Z",` +
	`"next_sync_start":"2026-01-03T03:04:05Z","last_sync_result":"DONE","last_sync_finished":"2026-01-02T03:09:05Z",` +
	`"status":"SYNCING","is_initial_sync":false,"selective_sync_configurations_usage":"IN_NEXT_SYNC"}`

// accountCall is one call of an Account, with what it must send.
type accountCall struct {
	name   string
	method string
	path   string // below /api/{category}/v1/
	query  string
	body   string // the JSON body sent; "" for none
	answer string
	do     func(ctx context.Context, a *mergelink.Account) (any, error)
}

// accountCalls lists every call of an Account, with valid input.
func accountCalls() []accountCall {
	type employee struct {
		ID string `json:"id"`
	}
	return []accountCall{
		{"Details", http.MethodGet, "account-details", "", "", accountDetailsJSON,
			func(ctx context.Context, a *mergelink.Account) (any, error) { return a.Details(ctx) }},
		{"Delete", http.MethodPost, "delete-account", "", "", `{}`,
			func(ctx context.Context, a *mergelink.Account) (any, error) { return nil, a.Delete(ctx) }},
		{"RegenerateToken", http.MethodPost, "account-token/regenerate", "", "",
			`{"linked_account_id":"0496d4c2-42e6-4072-80b3-7b69bfdc76fd","account_token":"tok-NEW-7781"}`,
			func(ctx context.Context, a *mergelink.Account) (any, error) { return a.RegenerateToken(ctx) }},
		{"SyncStatus", http.MethodGet, "sync-status", "", "", `{"next":null,"previous":null,"results":[` + syncStatusJSON + `]}`,
			func(ctx context.Context, a *mergelink.Account) (any, error) { return readAll(a.SyncStatus(ctx)) }},
		{"Resync", http.MethodPost, "sync-status/resync", "", "", `[` + syncStatusJSON + `]`,
			func(ctx context.Context, a *mergelink.Account) (any, error) { return a.Resync(ctx) }},
		{"Do GET", http.MethodGet, "employees/emp%201", "expand=manager", "", `{"id":"emp 1"}`,
			func(ctx context.Context, a *mergelink.Account) (any, error) {
				var e employee
				err := a.Do(ctx, http.MethodGet, "employees/"+url.PathEscape("emp 1")+"?expand=manager", nil, &e)
				return e, err
			}},
		{"Do POST", http.MethodPost, "passthrough", "", `{"method":"GET","path":"/x"}`, `{"status":200}`,
			func(ctx context.Context, a *mergelink.Account) (any, error) {
				var out map[string]any
				err := a.Do(ctx, http.MethodPost, "passthrough", map[string]string{"method": "GET", "path": "/x"}, &out)
				return out, err
			}},
		{"Do DELETE without out", http.MethodDelete, "employees/e1", "", "", ``,
			func(ctx context.Context, a *mergelink.Account) (any, error) {
				return nil, a.Do(ctx, http.MethodDelete, "employees/e1", nil, nil)
			}},
		{"Paginate", http.MethodGet, "employees", "page_size=2", "", `{"next":null,"previous":null,"results":[{"id":"e1"}]}`,
			func(ctx context.Context, a *mergelink.Account) (any, error) {
				return readAll(mergelink.Paginate[employee](ctx, a, "employees", url.Values{"page_size": {"2"}}))
			}},
	}
}

// Every call of an Account sends its method to its path below the
// account's category, with the account token in X-Account-Token beside
// the API key, a body only where one is sent, and an Idempotency-Key on
// each write.
func TestAccountWire(t *testing.T) {
	t.Parallel()
	for _, category := range []mergelink.Category{mergelink.CategoryHRIS, mergelink.CategoryATS, mergelink.CategoryFileStorage} {
		for _, call := range accountCalls() {
			t.Run(string(category)+"/"+call.name, func(t *testing.T) {
				t.Parallel()
				c, mux := setup(t)
				rec := newWireRecorder(t, wireAnswer{200, call.answer})
				mux.Handle("/api/", rec)
				_, err := call.do(context.Background(), c.Account(category, secretAccountToken))
				require.NoError(t, err)
				reqs := rec.requests()
				require.Len(t, reqs, 1)
				r := reqs[0]
				assert.Equal(t, call.method, r.Method)
				assert.Equal(t, "/api/"+string(category)+"/v1/"+call.path, r.Path)
				assert.Equal(t, call.query, r.RawQuery)
				assert.Equal(t, []string{secretAccountToken}, r.Header.Values(mergelink.AccountTokenHeader))
				assertUnifiedHeaders(t, r, call.body != "")
				if call.body == "" {
					assert.Empty(t, r.Body)
				} else {
					assert.JSONEq(t, call.body, string(r.Body))
				}
				if call.method != http.MethodGet && call.method != http.MethodHead && call.method != http.MethodOptions {
					assert.Regexp(t, uuidV4, r.Header.Get("Idempotency-Key"), "every write carries one")
				} else {
					assert.Empty(t, r.Header.Get("Idempotency-Key"))
				}
			})
		}
	}
}

func TestAccountDecodes(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	answers := map[string]string{}
	for _, call := range accountCalls() {
		answers["/api/hris/v1/"+call.path] = call.answer
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, answers[r.URL.EscapedPath()])
	})
	ctx := context.Background()
	a := c.Account(mergelink.CategoryHRIS, secretAccountToken)

	d, err := a.Details(ctx)
	require.NoError(t, err)
	no := false
	assert.Equal(t, &mergelink.AccountDetails{
		ID: "0496d4c2-42e6-4072-80b3-7b69bfdc76fd", Integration: "BambooHR", IntegrationSlug: "bamboohr",
		Category: mergelink.CategoryHRIS, EndUserOriginID: "user-42", EndUserOrganizationName: "Example Org",
		EndUserEmailAddress: "jane@example.com", Status: mergelink.LinkedAccountRelinkNeeded,
		WebhookListenerURL: "https://api.merge.dev/api/integrations/webhook-listener/abc", IsDuplicate: &no,
		AccountType: "PRODUCTION", CompletedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		InstanceID: "tenant-7", InstanceDisplayValue: "Example (EU)",
	}, d)

	want := mergelink.SyncStatus{
		ModelName: "Employee", ModelID: "hris.Employee",
		LastSyncStart: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), NextSyncStart: time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC),
		LastSyncResult: mergelink.SyncDone, LastSyncFinished: time.Date(2026, 1, 2, 3, 9, 5, 0, time.UTC),
		Status: mergelink.SyncSyncing, SelectiveSyncConfigurationsUsage: "IN_NEXT_SYNC",
	}
	sts, err := readAll(a.SyncStatus(ctx))
	require.NoError(t, err)
	assert.Equal(t, []mergelink.SyncStatus{want}, sts)
	sts, err = a.Resync(ctx)
	require.NoError(t, err)
	assert.Equal(t, []mergelink.SyncStatus{want}, sts)

	nt, err := a.RegenerateToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, &mergelink.AccountToken{AccountToken: "tok-NEW-7781", ID: "0496d4c2-42e6-4072-80b3-7b69bfdc76fd"}, nt)
	for _, verb := range verbs {
		assert.NotContains(t, fmt.Sprintf(verb, nt), "tok-NEW-7781", verb)
	}
}

// A 2xx answer that lacks what a call returns is a *DecodeError, not a
// zero value taken for an answer.
func TestAccountIncompleteAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name, answer string
		do           func(a *mergelink.Account) error
	}{
		{"Details without id", `{"integration":"BambooHR"}`, func(a *mergelink.Account) error { _, err := a.Details(ctx); return err }},
		{"RegenerateToken without token", `{"linked_account_id":"x"}`, func(a *mergelink.Account) error { _, err := a.RegenerateToken(ctx); return err }},
		{"Resync not a list", `{"results":[]}`, func(a *mergelink.Account) error { _, err := a.Resync(ctx); return err }},
		{"SyncStatus without results", `{"next":null}`, func(a *mergelink.Account) error { _, err := readAll(a.SyncStatus(ctx)); return err }},
		{"Details with a bad time", `{"id":"x","completed_at":"yesterday"}`, func(a *mergelink.Account) error { _, err := a.Details(ctx); return err }},
		{"Do into the wrong type", `{"id":5}`, func(a *mergelink.Account) error {
			var out struct{ ID string }
			return a.Do(ctx, http.MethodGet, "employees/1", nil, &out)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.Handle("/api/", newWireRecorder(t, wireAnswer{200, tc.answer}))
			var de *mergelink.DecodeError
			assert.ErrorAs(t, tc.do(c.Account(mergelink.CategoryHRIS, secretAccountToken)), &de)
		})
	}
}

// Every error status comes back as an *APIError that matches its
// sentinel, for every call, and never shows the account token.
func TestAccountErrorStatuses(t *testing.T) {
	t.Parallel()
	sentinels := map[int]error{401: mergelink.ErrUnauthorized, 403: mergelink.ErrForbidden, 404: mergelink.ErrNotFound, 429: mergelink.ErrRateLimited, 500: mergelink.ErrServer, 503: mergelink.ErrServer}
	for _, status := range []int{400, 401, 403, 404, 409, 422, 429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, mergelink.WithMaxRetries(1))
			mux.Handle("/api/", newWireRecorder(t, wireAnswer{status, `{"detail":"refused"}`}))
			calls := append(accountCalls(), accountCall{name: "ListIssues", do: func(ctx context.Context, a *mergelink.Account) (any, error) {
				return readAll(c.ListIssues(ctx, mergelink.IssuesParams{AccountToken: secretAccountToken}))
			}})
			for _, call := range calls {
				_, err := call.do(context.Background(), c.Account(mergelink.CategoryHRIS, secretAccountToken))
				var apiErr *mergelink.APIError
				if assert.ErrorAs(t, err, &apiErr, call.name) {
					assert.Equal(t, status, apiErr.StatusCode, call.name)
				}
				if want := sentinels[status]; want != nil {
					assert.ErrorIs(t, err, want, call.name)
				}
				for _, verb := range verbs {
					assert.NotContains(t, fmt.Sprintf(verb, err), secretAccountToken, call.name)
				}
			}
		})
	}
}

// Wrong input is refused with a *ValidationError naming the field, and
// nothing is sent; the token never shows in it.
func TestAccountValidation(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	ctx := context.Background()
	good := c.Account(mergelink.CategoryHRIS, secretAccountToken)
	var zero mergelink.Client
	for _, tc := range []struct {
		name  string
		a     *mergelink.Account
		field string
	}{
		{"no category", c.Account("", secretAccountToken), "category"},
		{"unknown category", c.Account("payroll", secretAccountToken), "category"},
		{"no token", c.Account(mergelink.CategoryHRIS, ""), "accountToken"},
		{"blank token", c.Account(mergelink.CategoryHRIS, " \t"), "accountToken"},
		{"token of two lines", c.Account(mergelink.CategoryHRIS, secretAccountToken+"\r\nX-Other: 1"), "accountToken"},
		{"token with a space around", c.Account(mergelink.CategoryHRIS, secretAccountToken+" "), "accountToken"},
		{"token not UTF-8", c.Account(mergelink.CategoryHRIS, secretAccountToken+"\xff"), "accountToken"},
	} {
		for _, call := range accountCalls() {
			_, err := call.do(ctx, tc.a)
			var ve *mergelink.ValidationError
			if assert.ErrorAs(t, err, &ve, tc.name+" "+call.name) {
				assert.True(t, ve.Has(tc.field), "%s %s: %v", tc.name, call.name, err)
				assert.NotContains(t, err.Error(), secretAccountToken)
			}
		}
	}

	for name, a := range map[string]*mergelink.Account{"nil account": nil, "account of a zero client": zero.Account(mergelink.CategoryHRIS, secretAccountToken)} {
		for _, call := range accountCalls() {
			_, err := call.do(ctx, a)
			assert.ErrorIs(t, err, mergelink.ErrNoClient, name+" "+call.name)
		}
	}

	// Do's own input.
	type out struct{ ID string }
	var o out
	for _, tc := range []struct {
		name, method, path string
		body, out          any
		field              string
	}{
		{"lower-case method", "get", "employees", nil, &o, "method"},
		{"unknown method", "BREW", "employees", nil, &o, "method"},
		{"GET with a body", http.MethodGet, "employees", map[string]int{"a": 1}, &o, "body"},
		{"out not a pointer", http.MethodGet, "employees", nil, o, "out"},
		{"out a nil pointer", http.MethodGet, "employees", nil, (*out)(nil), "out"},
	} {
		err := good.Do(ctx, tc.method, tc.path, tc.body, tc.out)
		var ve *mergelink.ValidationError
		if assert.ErrorAs(t, err, &ve, tc.name) {
			assert.True(t, ve.Has(tc.field), "%s: %v", tc.name, err)
		}
	}
}

// The path of Do and Paginate stays below the category's API: every way
// of naming another place is refused before anything is sent.
func TestAccountPathsStayBelowTheCategory(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	ctx := context.Background()
	a := c.Account(mergelink.CategoryHRIS, secretAccountToken)
	for _, path := range []string{
		"",
		"/employees",
		"//evil.example/employees",
		"https://evil.example/api/hris/v1/employees",
		"http:employees",
		"mailto:x@example.com",
		"..",
		"../ats/v1/candidates",
		"employees/../../ats/v1/candidates",
		"employees/%2e%2e/%2E%2E/ats",
		"./employees",
		"employees/.",
		"employees#frag",
		"employees\\..\\x",
		"employees\n",
		"employees\x00",
		"employees\x7f",
		"employees/\xff",
		"employees/%zz",
	} {
		err := a.Do(ctx, http.MethodGet, path, nil, nil)
		var ve *mergelink.ValidationError
		if assert.ErrorAs(t, err, &ve, "Do %q", path) {
			assert.True(t, ve.Has("path"), "%q: %v", path, err)
		}
		_, err = readAll(mergelink.Paginate[map[string]any](ctx, a, path, nil))
		assert.ErrorAs(t, err, &ve, "Paginate %q", path)
	}
	// Paginate takes its query apart, where it is encoded.
	_, err := readAll(mergelink.Paginate[map[string]any](ctx, a, "employees?page_size=1", nil))
	var ve *mergelink.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("path"))
	// A query in Do's path never shows in its errors: it may hold a secret.
	err = a.Do(ctx, http.MethodGet, "/issues?account_token="+secretAccountToken, nil, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secretAccountToken)
}

// An Account prints, logs and marshals without its token.
func TestAccountHidesItsToken(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	a := c.Account(mergelink.CategoryCRM, secretAccountToken)
	lc := newLeakCheck(t, secretAccountToken)
	lc.value("Account", a)
	lc.value("Accounts", []*mergelink.Account{a})
	lc.value("struct holding an Account", struct{ A *mergelink.Account }{a})
	lc.logger.Info("account", "a", a, "list", []*mergelink.Account{a})
	lc.logs()
	assert.Equal(t, mergelink.CategoryCRM, a.Category())
	assert.Contains(t, a.String(), "crm")
	var nilAccount *mergelink.Account
	assert.Equal(t, "mergelink.Account(nil)", fmt.Sprint(nilAccount))
}

// A canceled context stops a call before or while it is sent.
func TestAccountCanceled(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.Handle("/api/", newWireRecorder(t, wireAnswer{200, accountDetailsJSON}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, call := range accountCalls() {
		_, err := call.do(ctx, c.Account(mergelink.CategoryHRIS, secretAccountToken))
		assert.True(t, errors.Is(err, context.Canceled), "%s: %v", call.name, err)
		assert.False(t, strings.Contains(fmt.Sprint(err), secretAccountToken))
	}
}

// Account.Do retries a write only with an Idempotency-Key, the same on
// every attempt: a PATCH answered 503 is sent again carrying the key of its
// first attempt, so Merge can tell the retry from a second change.
func TestAccountDoWritesRetriedWithOneKey(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, mergelink.WithMaxRetries(2))
			rec := newWireRecorder(t, wireAnswer{503, `{"detail":"busy"}`}, wireAnswer{200, `{}`})
			mux.Handle("/api/", rec)
			require.NoError(t, c.Account(mergelink.CategoryHRIS, secretAccountToken).Do(context.Background(), method, "employees/e1", map[string]string{"first_name": "Ada"}, nil))
			reqs := rec.requests()
			require.Len(t, reqs, 2, "retried after the 503")
			key := reqs[0].Header.Get("Idempotency-Key")
			assert.Regexp(t, uuidV4, key)
			assert.Equal(t, key, reqs[1].Header.Get("Idempotency-Key"), "the retry carries the first attempt's key")
		})
	}
}
