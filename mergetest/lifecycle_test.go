package mergetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

const lifecycleKey = "whsec-lifecycle"

// linked starts a server with opts, links an end user in category with
// integration, and returns the server, an SDK client for it and the
// account.
func linked(t *testing.T, category, integration string, opts ...mergetest.ServerOption) (*mergetest.Server, *mergelink.Client, *mergetest.LinkedAccount) {
	t.Helper()
	srv := mergetest.NewTestServer(t, opts...)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	lt := newLinkToken(t, srv, map[string]any{"categories": []string{category}, "end_user_origin_id": "user-" + category})
	acct, err := srv.CompleteLink(lt, integration)
	require.NoError(t, err)
	return srv, c, acct
}

func TestAccountDetailsReflectTheAccount(t *testing.T) {
	t.Parallel()
	srv, c, acct := linked(t, "hris", "bamboohr")
	ctx := context.Background()
	a := c.Account(mergelink.CategoryHRIS, acct.AccountToken)
	d, err := a.Details(ctx)
	require.NoError(t, err)
	assert.Equal(t, acct.ID, d.ID)
	assert.Equal(t, "BambooHR", d.Integration)
	assert.Equal(t, "bamboohr", d.IntegrationSlug)
	assert.Equal(t, mergelink.CategoryHRIS, d.Category)
	assert.Equal(t, "user-hris", d.EndUserOriginID)
	assert.Equal(t, acct.EndUserEmailAddress, d.EndUserEmailAddress)
	assert.Equal(t, mergelink.LinkedAccountComplete, d.Status)
	assert.Equal(t, "PRODUCTION", d.AccountType)
	assert.True(t, acct.CompletedAt.Equal(d.CompletedAt))

	// Merge's status changes show, and the relink params name the account.
	require.NoError(t, srv.SetLinkedAccountStatus(acct.ID, mergetest.StatusRelinkNeeded))
	d, err = a.Details(ctx)
	require.NoError(t, err)
	assert.Equal(t, mergelink.LinkedAccountRelinkNeeded, d.Status)
	ml, err := c.CreateMagicLink(ctx, d.RelinkParams())
	require.NoError(t, err)
	again, err := srv.CompleteLink(ml.URL, "")
	require.NoError(t, err)
	assert.True(t, again.IsRelink, "the relink params relink the account")
	assert.Equal(t, acct.ID, again.ID)
	assert.Equal(t, acct.AccountToken, again.AccountToken)

	// The path is the account's category.
	_, err = c.Account(mergelink.CategoryATS, acct.AccountToken).Details(ctx)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
	_, err = c.Account(mergelink.CategoryHRIS, "not-a-token").Details(ctx)
	assert.ErrorIs(t, err, mergelink.ErrUnauthorized)
}

// Delete removes the account: its token then gets 401, its id leaves the
// lists, and LinkedAccount.deleted reaches the webhook handler.
func TestAccountDelete(t *testing.T) {
	t.Parallel()
	events := make(chan *mergelink.WebhookEvent, 16)
	h, err := mergelink.NewWebhookHandler(func(_ context.Context, ev *mergelink.WebhookEvent) error {
		events <- ev
		return nil
	}, []string{lifecycleKey})
	require.NoError(t, err)
	hooks := newHandlerServer(t, h)
	srv, c, acct := linked(t, "ats", "greenhouse", mergetest.WithWebhook(hooks, lifecycleKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	ctx := context.Background()
	a := c.Account(mergelink.CategoryATS, acct.AccountToken)

	require.NoError(t, a.Delete(ctx))
	_, err = a.Details(ctx)
	assert.ErrorIs(t, err, mergelink.ErrUnauthorized)
	assert.ErrorIs(t, a.Delete(ctx), mergelink.ErrUnauthorized, "a second delete")
	assert.Empty(t, srv.LinkedAccounts())
	ids, err := readAllSeq(c.ListLinkedAccounts(ctx, mergelink.LinkedAccountsParams{PathCategory: mergelink.CategoryATS}))
	require.NoError(t, err)
	assert.Empty(t, ids)

	var got []mergelink.EventType
	for len(got) < 3 {
		select {
		case ev := <-events:
			got = append(got, ev.Type())
			if gone, ok := ev.Deleted(); ok {
				assert.Equal(t, acct.ID, gone.ID)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("webhooks received: %v", got)
		}
	}
	assert.Equal(t, []mergelink.EventType{mergelink.EventLinkedAccountLinked, mergelink.EventLinkedAccountSyncedInitial, mergelink.EventLinkedAccountDeleted}, got)
}

// A delete that meets a transient failure is retried, with the same
// Idempotency-Key, and succeeds.
func TestAccountDeleteRetried(t *testing.T) {
	t.Parallel()
	srv, c, acct := linked(t, "hris", "bamboohr")
	srv.FailNext(1, http.StatusBadGateway, "")
	require.NoError(t, c.Account(mergelink.CategoryHRIS, acct.AccountToken).Delete(context.Background()))
	assert.Empty(t, srv.LinkedAccounts())
}

func TestAccountRegenerateToken(t *testing.T) {
	t.Parallel()
	_, c, acct := linked(t, "hris", "bamboohr")
	ctx := context.Background()
	old := c.Account(mergelink.CategoryHRIS, acct.AccountToken)
	nt, err := old.RegenerateToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, acct.ID, nt.ID)
	assert.NotEqual(t, acct.AccountToken, nt.AccountToken)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", nt, nt, *nt), nt.AccountToken)

	_, err = old.Details(ctx)
	assert.ErrorIs(t, err, mergelink.ErrUnauthorized, "the old token fails")
	d, err := c.Account(mergelink.CategoryHRIS, nt.AccountToken).Details(ctx)
	require.NoError(t, err, "the new token works")
	assert.Equal(t, acct.ID, d.ID)
}

// Syncs move from SYNCING to DONE on the server's clock, and Resync
// restarts them.
func TestAccountSyncStatus(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	srv, c, acct := linked(t, "hris", "bamboohr", mergetest.WithClock(clk.Now))
	srv.SetSyncDuration(10 * time.Minute)
	ctx := context.Background()
	a := c.Account(mergelink.CategoryHRIS, acct.AccountToken)
	statuses := func() []mergelink.SyncStatus {
		t.Helper()
		sts, err := readAllSeq(a.SyncStatus(ctx))
		require.NoError(t, err)
		require.NotEmpty(t, sts)
		return sts
	}

	for _, st := range statuses() {
		assert.Equal(t, mergelink.SyncSyncing, st.Status, st.ModelID)
		assert.True(t, st.IsInitialSync, st.ModelID)
		assert.Equal(t, clk.Now(), st.LastSyncStart, st.ModelID)
		assert.True(t, st.LastSyncFinished.IsZero(), st.ModelID)
	}
	clk.Advance(10*time.Minute - time.Second)
	assert.Equal(t, mergelink.SyncSyncing, statuses()[0].Status)

	clk.Advance(time.Second)
	done := clk.Now()
	models := map[string]bool{}
	for _, st := range statuses() {
		models[st.ModelID] = true
		assert.Equal(t, mergelink.SyncDone, st.Status, st.ModelID)
		assert.Equal(t, mergelink.SyncDone, st.LastSyncResult, st.ModelID)
		assert.False(t, st.IsInitialSync, st.ModelID)
		assert.Equal(t, done, st.LastSyncFinished, st.ModelID)
		assert.True(t, st.NextSyncStart.After(done), st.ModelID)
	}
	assert.True(t, models["hris.Employee"], "models %v", models)

	clk.Advance(time.Hour)
	sts, err := a.Resync(ctx)
	require.NoError(t, err)
	require.Len(t, sts, len(models))
	for _, st := range append(sts, statuses()...) {
		assert.Equal(t, mergelink.SyncSyncing, st.Status, st.ModelID)
		assert.Equal(t, mergelink.SyncDone, st.LastSyncResult, "the last sync before the resync")
		assert.False(t, st.IsInitialSync)
		assert.Equal(t, clk.Now(), st.LastSyncStart)
	}
	clk.Advance(10 * time.Minute)
	assert.Equal(t, mergelink.SyncDone, statuses()[0].Status)

	// Pages: one model a page, every model read.
	var paged []string
	for st, err := range mergelink.Paginate[mergelink.SyncStatus](ctx, a, "sync-status", url.Values{"page_size": {"1"}}) {
		require.NoError(t, err)
		paged = append(paged, st.ModelID)
	}
	assert.Len(t, paged, len(models))
}

func TestIssues(t *testing.T) {
	t.Parallel()
	events := make(chan *mergelink.WebhookEvent, 16)
	h, err := mergelink.NewWebhookHandler(func(_ context.Context, ev *mergelink.WebhookEvent) error {
		if ev.Type().Model() == "Issue" {
			events <- ev
		}
		return nil
	}, []string{lifecycleKey})
	require.NoError(t, err)
	hooks := newHandlerServer(t, h)
	srv, c, acct := linked(t, "hris", "bamboohr", mergetest.WithWebhook(hooks, lifecycleKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	other, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"categories": []string{"ats"}, "end_user_origin_id": "other"}), "lever")
	require.NoError(t, err)
	ctx := context.Background()

	perms, err := srv.RaiseIssue(acct.ID, "Missing Permissions")
	require.NoError(t, err)
	creds, err := srv.RaiseIssue(other.ID, "Bad Credentials")
	require.NoError(t, err)
	again, err := srv.RaiseIssue(acct.ID, "Missing Permissions")
	require.NoError(t, err)
	assert.Equal(t, perms.ID, again.ID, "an ongoing issue raised again is the same issue")
	_, err = srv.RaiseIssue("no-such-account", "x")
	assert.ErrorIs(t, err, mergetest.ErrUnknownAccount)

	ids := func(p mergelink.IssuesParams) []string {
		t.Helper()
		var out []string
		for is, err := range c.ListIssues(ctx, p) {
			require.NoError(t, err)
			out = append(out, is.ID)
		}
		return out
	}
	assert.Equal(t, []string{perms.ID, creds.ID}, ids(mergelink.IssuesParams{}))
	assert.Equal(t, []string{perms.ID, creds.ID}, ids(mergelink.IssuesParams{PageSize: 1}), "one issue a page")
	assert.Equal(t, []string{perms.ID}, ids(mergelink.IssuesParams{LinkedAccountID: acct.ID}))
	assert.Equal(t, []string{creds.ID}, ids(mergelink.IssuesParams{AccountToken: other.AccountToken}))
	assert.Equal(t, []string{creds.ID}, ids(mergelink.IssuesParams{IntegrationName: "Lever"}))
	assert.Empty(t, ids(mergelink.IssuesParams{Status: mergelink.IssueResolved}))
	assert.Empty(t, ids(mergelink.IssuesParams{FirstIncidentTimeAfter: time.Now().Add(time.Hour)}))

	require.NoError(t, srv.ResolveIssue(creds.ID))
	assert.Equal(t, []string{creds.ID}, ids(mergelink.IssuesParams{Status: mergelink.IssueResolved}))
	require.NoError(t, srv.MuteIssue(perms.ID))
	yes := true
	assert.Equal(t, []string{creds.ID}, ids(mergelink.IssuesParams{}), "muted issues are hidden")
	assert.Equal(t, []string{perms.ID, creds.ID}, ids(mergelink.IssuesParams{IncludeMuted: &yes}))

	var got []mergelink.EventType
	for len(got) < 4 {
		select {
		case ev := <-events:
			got = append(got, ev.Type())
			is, ok := ev.Issue()
			assert.True(t, ok)
			assert.Contains(t, []string{perms.ID, creds.ID}, is.ID)
		case <-time.After(10 * time.Second):
			t.Fatalf("issue webhooks received: %v", got)
		}
	}
	slices.Sort(got)
	assert.Equal(t, []mergelink.EventType{mergelink.EventIssueMuted, mergelink.EventIssueNew, mergelink.EventIssueNew, mergelink.EventIssueResolved}, got)
}

type employee struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
	WorkEmail string `json:"work_email"`
}

// Do and Paginate reach the fake HRIS data through the account's token.
func TestEmployeesThroughDoAndPaginate(t *testing.T) {
	t.Parallel()
	srv, c, acct := linked(t, "hris", "bamboohr")
	ctx := context.Background()
	a := c.Account(mergelink.CategoryHRIS, acct.AccountToken)

	all, err := readAllSeq(mergelink.Paginate[employee](ctx, a, "employees", nil))
	require.NoError(t, err)
	assert.Len(t, all, mergetest.EmployeesPerAccount)

	require.NoError(t, srv.SetEmployeeCount(acct.ID, 7))
	before := len(srv.Requests())
	paged, err := readAllSeq(mergelink.Paginate[employee](ctx, a, "employees", url.Values{"page_size": {"2"}}))
	require.NoError(t, err)
	require.Len(t, paged, 7)
	assert.Equal(t, all, paged[:mergetest.EmployeesPerAccount], "the first employees stay")
	assert.Len(t, srv.Requests()[before:], 4, "pages of 2")
	seen := map[string]bool{}
	for _, e := range paged {
		assert.False(t, seen[e.ID], "employee %s twice", e.ID)
		seen[e.ID] = true
		assert.NotEmpty(t, e.FirstName)
	}

	var one employee
	require.NoError(t, a.Do(ctx, http.MethodGet, "employees/"+url.PathEscape(paged[6].ID), nil, &one))
	assert.Equal(t, paged[6], one)
	err = a.Do(ctx, http.MethodGet, "employees/no-such-id", nil, &one)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)

	// Each account sees its own employees; an ATS account has none.
	lt := newLinkToken(t, srv, map[string]any{"categories": []string{"ats"}, "end_user_origin_id": "ats-user"})
	ats, err := srv.CompleteLink(lt, "greenhouse")
	require.NoError(t, err)
	_, err = readAllSeq(mergelink.Paginate[employee](ctx, c.Account(mergelink.CategoryATS, ats.AccountToken), "employees", nil))
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
	assert.Error(t, srv.SetEmployeeCount(ats.ID, 3))

	// After a delete, the token reaches nothing.
	require.NoError(t, a.Delete(ctx))
	_, err = readAllSeq(mergelink.Paginate[employee](ctx, a, "employees", nil))
	assert.ErrorIs(t, err, mergelink.ErrUnauthorized)
}

// The requests the server records print and marshal without the account
// token, in its header or in the issues filter.
func TestRequestsHideTheAccountToken(t *testing.T) {
	t.Parallel()
	srv, c, acct := linked(t, "hris", "bamboohr")
	ctx := context.Background()
	_, err := c.Account(mergelink.CategoryHRIS, acct.AccountToken).Details(ctx)
	require.NoError(t, err)
	_, err = readAllSeq(c.ListIssues(ctx, mergelink.IssuesParams{AccountToken: acct.AccountToken}))
	require.NoError(t, err)
	reqs := srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	for _, r := range reqs {
		out := fmt.Sprintf("%v %+v %#v %s", r, r, r, r)
		b, err := r.MarshalJSON()
		require.NoError(t, err)
		assert.NotContains(t, out+string(b), acct.AccountToken)
	}
}

// readAllSeq reads a listing to its end or first error.
func readAllSeq[T any](seq func(func(T, error) bool)) ([]T, error) {
	var all []T
	for v, err := range seq {
		if err != nil {
			return all, err
		}
		all = append(all, v)
	}
	return all, nil
}

// newHandlerServer serves h on a loopback port until the test ends, and
// returns its URL.
func newHandlerServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// An Idempotency-Key is scoped by the API key and the account token: the
// same key on another account's regenerate is that account's call, never
// a replay of the first account's new token.
func TestIdempotencyKeyScopedByAccountToken(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	var tokens [2]string
	for i := range tokens {
		lt := newLinkToken(t, srv, map[string]any{"categories": []string{"hris"}, "end_user_origin_id": fmt.Sprint("user-", i)})
		acct, err := srv.CompleteLink(lt, "bamboohr")
		require.NoError(t, err)
		tokens[i] = acct.AccountToken
	}
	const key = "41f11808-5387-4be5-9af2-852a372d61e3"
	var got [2]struct {
		LinkedAccountID string `json:"linked_account_id"`
		AccountToken    string `json:"account_token"`
	}
	for i, tok := range tokens {
		a := send(t, srv, "POST", "/api/hris/v1/account-token/regenerate", "", "X-Account-Token", tok, "Idempotency-Key", key)
		require.Equal(t, http.StatusOK, a.status, string(a.body))
		require.NoError(t, json.Unmarshal(a.body, &got[i]))
	}
	assert.NotEqual(t, got[0].LinkedAccountID, got[1].LinkedAccountID, "each account answered for itself")
	assert.NotEqual(t, got[0].AccountToken, got[1].AccountToken, "B never gets A's new token")
	again := send(t, srv, "POST", "/api/hris/v1/account-token/regenerate", "", "X-Account-Token", tokens[0], "Idempotency-Key", key)
	assert.JSONEq(t, fmt.Sprintf(`{"linked_account_id":%q,"account_token":%q}`, got[0].LinkedAccountID, got[0].AccountToken), string(again.body), "A's retry still gets A's answer")
}
