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
	assert.True(t, again.IsRelink)
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
	_, err = srv.CompleteLink(open, "Not A Slug")
	assert.ErrorContains(t, err, "not an integration slug")
	_, err = srv.CompleteLink(open, "bamboohr")
	assert.ErrorContains(t, err, "offers none")
	la, err = srv.CompleteLink(open, "acme-ats")
	require.NoError(t, err, "a failed attempt does not use the token up; an unknown slug is accepted")
	assert.Equal(t, "Acme Ats", la.IntegrationName)
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
	require.Equal(t, http.StatusCreated, a.status)
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
