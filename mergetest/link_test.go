package mergetest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

func TestCompleteLinkCreatesAccount(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	tok := newLinkToken(t, srv, map[string]any{"categories": []string{"hris", "ats"}})
	la, err := srv.CompleteLink(tok, "greenhouse")
	require.NoError(t, err)
	assert.Len(t, la.ID, 36)
	assert.Len(t, la.AccountToken, 40)
	assert.Len(t, la.PublicToken, 40)
	assert.NotEqual(t, la.AccountToken, la.PublicToken)
	assert.False(t, la.IsRelink)
	assert.Equal(t, "greenhouse", la.Integration)
	assert.Equal(t, "Greenhouse", la.IntegrationName)
	assert.Equal(t, "ats", la.Category, "the first of the token's categories that Greenhouse offers")
	assert.Equal(t, "12345678910", la.EndUserOriginID)
	assert.Equal(t, "Example Organization", la.EndUserOrganizationName)
	assert.Equal(t, "jane@example.com", la.EndUserEmailAddress)
	assert.Equal(t, "COMPLETE", la.Status)
	assert.False(t, la.CompletedAt.IsZero())

	held := srv.LinkedAccounts()
	require.Len(t, held, 1)
	assert.Equal(t, la.ID, held[0].ID)
	assert.Equal(t, la.AccountToken, held[0].AccountToken)
	assert.Empty(t, held[0].PublicToken)

	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%d", "%t", "%x"} {
		s := fmt.Sprintf(format, *la)
		assert.NotContains(t, s, la.AccountToken, format)
		assert.NotContains(t, s, la.PublicToken, format)
		assert.Contains(t, s, la.ID, format)
	}
}

func TestLinkTokenIsSingleUse(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	tok := newLinkToken(t, srv, nil)
	_, err := srv.CompleteLink(tok, "lever")
	require.NoError(t, err)
	_, err = srv.CompleteLink(tok, "lever")
	assert.ErrorIs(t, err, mergetest.ErrLinkUsed)
	_, err = srv.CompleteLink("no-such-token", "lever")
	assert.ErrorIs(t, err, mergetest.ErrUnknownLink)
	assert.Len(t, srv.LinkedAccounts(), 1)
}

func TestRelinkKeepsIDAndToken(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	first, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	again, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_organization_name": "Renamed Inc"}), "lever")
	require.NoError(t, err)
	assert.True(t, again.IsRelink, "same origin id, same category")
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, first.AccountToken, again.AccountToken)
	assert.NotEqual(t, first.PublicToken, again.PublicToken)
	assert.Equal(t, "Renamed Inc", again.EndUserOrganizationName)
	assert.Equal(t, "lever", again.Integration)

	other, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "someone-else"}), "greenhouse")
	require.NoError(t, err)
	assert.False(t, other.IsRelink)
	assert.NotEqual(t, first.ID, other.ID)
	assert.NotEqual(t, first.AccountToken, other.AccountToken)
	assert.Len(t, srv.LinkedAccounts(), 2)
}

// A Linked Account is the pair (end_user_origin_id, category linked): the
// same origin id in another category makes a second account and leaves the
// first as it was; each pair relinks only itself.
func TestLinkedAccountIdentityIsOriginIDAndCategory(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	link := func(integration string, cats ...string) *mergetest.LinkedAccount {
		t.Helper()
		la, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "tenant-1", "categories": cats}), integration)
		require.NoError(t, err)
		return la
	}
	hris := link("bamboohr", "hris")
	ats := link("greenhouse", "ats")
	assert.False(t, ats.IsRelink, "an ATS link does not relink the HRIS account")
	assert.NotEqual(t, hris.ID, ats.ID)
	assert.NotEqual(t, hris.AccountToken, ats.AccountToken)
	assert.Equal(t, "ats", ats.Category)

	held := srv.LinkedAccounts()
	require.Len(t, held, 2)
	assert.Equal(t, "hris", held[0].Category, "the HRIS account is still an HRIS account")
	assert.Equal(t, "bamboohr", held[0].Integration)

	// The category linked decides, whatever the token's order: a token
	// for ats and hris linked with an HRIS integration relinks the HRIS
	// account.
	again := link("workday", "ats", "hris")
	assert.True(t, again.IsRelink)
	assert.Equal(t, hris.ID, again.ID)
	assert.Equal(t, hris.AccountToken, again.AccountToken)
	assert.Equal(t, "hris", again.Category)
	againATS := link("lever", "hris", "ats")
	assert.Equal(t, ats.ID, againATS.ID)
	assert.Len(t, srv.LinkedAccounts(), 2)
}

// SetLinkedAccountStatus changes what the list shows and filters on; a
// relink sets the account back to COMPLETE.
func TestSetLinkedAccountStatus(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	for _, status := range []string{mergetest.StatusRelinkNeeded, mergetest.StatusIncomplete, mergetest.StatusIdle, mergetest.StatusComplete} {
		require.NoError(t, srv.SetLinkedAccountStatus(la.ID, status))
		assert.Equal(t, status, srv.LinkedAccounts()[0].Status)
		p := listAccounts(t, srv, "/api/ats/v1/linked-accounts?status="+status)
		require.Len(t, p.Results, 1, status)
		assert.Equal(t, status, p.Results[0].Status)
	}
	require.NoError(t, srv.SetLinkedAccountStatus(la.ID, mergetest.StatusRelinkNeeded))
	raw := send(t, srv, "GET", "/api/ats/v1/linked-accounts", "")
	assert.Contains(t, string(raw.body), `"status":"RELINK_NEEDED"`)
	again, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	assert.True(t, again.IsRelink)
	assert.Equal(t, mergetest.StatusComplete, again.Status)

	for _, bad := range []string{"", "complete", "DISABLED", "DONE"} {
		assert.ErrorContains(t, srv.SetLinkedAccountStatus(la.ID, bad), "status must be", bad)
	}
	assert.ErrorIs(t, srv.SetLinkedAccountStatus("nope", mergetest.StatusIdle), mergetest.ErrUnknownAccount)
}

// DeleteLinkedAccount takes the account out of every list, stops its
// public token, sends LinkedAccount.deleted after the account's earlier
// webhooks, and a new link of the same pair makes a new account.
func TestDeleteLinkedAccount(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey))
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	keep, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "keep"}), "greenhouse")
	require.NoError(t, err)

	require.NoError(t, srv.DeleteLinkedAccount(la.ID))
	assert.ErrorIs(t, srv.DeleteLinkedAccount(la.ID), mergetest.ErrUnknownAccount, "deleted once")
	held := srv.LinkedAccounts()
	require.Len(t, held, 1)
	assert.Equal(t, keep.ID, held[0].ID)
	assert.Empty(t, listAccounts(t, srv, "/api/ats/v1/linked-accounts?id="+la.ID).Results)
	a := send(t, srv, "GET", "/api/ats/v1/account-token/"+la.PublicToken, "")
	assert.Equal(t, http.StatusNotFound, a.status, "the public token died with the account")
	assert.ErrorIs(t, srv.SetLinkedAccountStatus(la.ID, mergetest.StatusIdle), mergetest.ErrUnknownAccount)

	ds, err := srv.WaitForDeliveries(waitCtx(t), 5)
	require.NoError(t, err)
	var events []string
	for _, d := range ds {
		if d.LinkedAccountID == la.ID {
			events = append(events, d.Event)
		}
	}
	assert.Equal(t, []string{"LinkedAccount.linked", "LinkedAccount.synced_initial", "LinkedAccount.deleted"}, events)
	last := ds[len(ds)-1]
	for _, d := range ds {
		if d.Event == "LinkedAccount.deleted" {
			last = d
		}
	}
	p := decodePayload(t, last.Payload)
	assert.Equal(t, la.ID, p.LinkedAccount.ID)
	assert.Equal(t, la.EndUserOriginID, p.LinkedAccount.EndUserOriginID)
	assert.NotContains(t, string(last.Payload), la.AccountToken, "a deleted account's webhook carries no token")
	require.NoError(t, mergelink.VerifyWebhookSignature(last.Payload, mergelink.SignWebhook(last.Payload, webhookKey), webhookKey))

	again, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	assert.False(t, again.IsRelink)
	assert.NotEqual(t, la.ID, again.ID)
	assert.NotEqual(t, la.AccountToken, again.AccountToken)
}

// CompleteLink and CancelLink take the Magic Link URL as well as the
// token; a cancelled link creates nothing, sends nothing, and stays usable.
func TestCompleteLinkByMagicLinkURLAndCancel(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey))
	a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, map[string]any{"should_create_magic_link_url": true}))
	require.Equal(t, http.StatusOK, a.status)
	magic := a.json(t)["magic_link_url"].(string)

	require.NoError(t, srv.CancelLink(magic))
	require.NoError(t, srv.CancelLink(magic), "the end user may open Merge Link again")
	assert.Empty(t, srv.LinkedAccounts())
	status, body, _ := page(t, "POST", magic, url.Values{"action": {"cancel"}, "integration": {"lever"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<h1 id="status">Cancelled</h1>`)
	assert.Empty(t, srv.LinkedAccounts())

	la, err := srv.CompleteLink(magic, "lever")
	require.NoError(t, err)
	assert.Equal(t, "lever", la.Integration)
	_, err = srv.CompleteLink(magic, "lever")
	assert.ErrorIs(t, err, mergetest.ErrLinkUsed)
	assert.ErrorIs(t, srv.CancelLink(magic), mergetest.ErrLinkUsed)
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	assert.Len(t, ds, 2, "only the completed link's webhooks")

	_, err = srv.CompleteLink(srv.URL()+"/elsewhere/"+"x", "lever")
	assert.ErrorIs(t, err, mergetest.ErrUnknownLink)
	assert.ErrorIs(t, srv.CancelLink("nope"), mergetest.ErrUnknownLink)
	status, _, _ = page(t, "POST", magic, url.Values{"action": {"explode"}})
	assert.Equal(t, http.StatusBadRequest, status)
}

func TestCompleteLinkIntegrationRules(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	pinned := newLinkToken(t, srv, map[string]any{"integration": "lever"})
	_, err := srv.CompleteLink(pinned, "greenhouse")
	assert.ErrorContains(t, err, `is for "lever"`)
	la, err := srv.CompleteLink(pinned, "")
	require.NoError(t, err, "an empty integration takes the token's")
	assert.Equal(t, "lever", la.Integration)

	open := newLinkToken(t, srv, map[string]any{"end_user_origin_id": "o2"})
	_, err = srv.CompleteLink(open, "")
	assert.ErrorContains(t, err, "pass the integration")
	for _, slug := range []string{"Not A Slug", "acme-ats", "Lever"} {
		_, err = srv.CompleteLink(open, slug)
		assert.ErrorContains(t, err, "not an integration of the server's catalog", slug)
	}
	_, err = srv.CompleteLink(open, "bamboohr")
	assert.ErrorContains(t, err, "offers none")
	la, err = srv.CompleteLink(open, "ashby")
	require.NoError(t, err, "a failed attempt does not use the token up")
	assert.Equal(t, "Ashby", la.IntegrationName)
	assert.Equal(t, "ats", la.Category)
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLinkTokenExpires(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := mergetest.NewTestServer(t, mergetest.WithClock(clk.Now))
	short := newLinkToken(t, srv, nil) // the default 30 minutes
	week := newLinkToken(t, srv, map[string]any{"end_user_origin_id": "o2", "should_create_magic_link_url": true, "link_expiry_mins": 10080})

	clk.Advance(30 * time.Minute)
	_, err := srv.CompleteLink(short, "greenhouse")
	assert.ErrorIs(t, err, mergetest.ErrLinkExpired)

	clk.Advance(7*24*time.Hour - 30*time.Minute - time.Second)
	la, err := srv.CompleteLink(week, "greenhouse")
	require.NoError(t, err)
	assert.Equal(t, clk.Now(), la.CompletedAt)
}

func TestCompleteLinkAfterClose(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewServer()
	tok := newLinkToken(t, srv, nil)
	srv.Close()
	srv.Close() // twice is fine
	_, err := srv.CompleteLink(tok, "greenhouse")
	assert.ErrorIs(t, err, mergetest.ErrClosed)
}

// page fetches a hosted page without an API key, as a browser would.
func page(t *testing.T, method, u string, form url.Values) (int, string, *http.Response) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = client.PostForm(u, form)
	} else {
		resp, err = client.Get(u)
	}
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp
}

func TestHostedMagicLinkPage(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	a := send(t, srv, "POST", "/api/ats/v1/link-token", linkBody(t, map[string]any{
		"should_create_magic_link_url": true, "categories": []string{"ats", "hris"},
		"end_user_organization_name": "Acme <Corp>",
	}))
	require.Equal(t, http.StatusOK, a.status)
	magic := a.json(t)["magic_link_url"].(string)

	status, body, resp := page(t, "GET", magic, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, body, "Acme &lt;Corp&gt;", "the organization, escaped")
	assert.Contains(t, body, "jane@example.com")
	assert.Contains(t, body, "ats, hris")
	assert.Contains(t, body, `<option value="greenhouse">Greenhouse</option>`)
	assert.Contains(t, body, `<option value="bamboohr">BambooHR</option>`)
	assert.NotContains(t, body, `value="slack"`, "only the token's categories are offered")
	assert.Contains(t, body, `id="connect"`)

	status, body, _ = page(t, "POST", magic, url.Values{"integration": {"bamboohr"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `<h1 id="status">Connected</h1>`)
	assert.Contains(t, body, "BambooHR")
	accts := srv.LinkedAccounts()
	require.Len(t, accts, 1)
	assert.Equal(t, "hris", accts[0].Category)

	status, body, _ = page(t, "GET", magic, nil)
	assert.Equal(t, http.StatusGone, status, "the link was used")
	assert.Contains(t, body, `id="status"`)
	status, _, _ = page(t, "POST", magic, url.Values{"integration": {"bamboohr"}})
	assert.Equal(t, http.StatusGone, status)
	status, _, _ = page(t, "GET", srv.URL()+"/link/nope", nil)
	assert.Equal(t, http.StatusNotFound, status)
}

func TestHostedMagicLinkPagePinnedIntegration(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	tok := newLinkToken(t, srv, map[string]any{"integration": "greenhouse", "should_create_magic_link_url": true})
	_, body, _ := page(t, "GET", srv.URL()+"/link/"+tok, nil)
	assert.Contains(t, body, `<input type="hidden" name="integration" value="greenhouse">`)
	assert.NotContains(t, body, "<select")
	status, body, _ := page(t, "POST", srv.URL()+"/link/"+tok, url.Values{"integration": {"greenhouse"}})
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, strings.Contains(body, `id="status">Connected<`), body)
}
