package mergelink_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/testnet"
	"github.com/mergelink/mergelink/mergetest"
)

// afterLinkCalls lists every call made with an account token: the
// Account's methods, Paginate, and ListIssues filtered by the token.
func afterLinkCalls(c *mergelink.Client, token string) []apiCall {
	a := c.Account(mergelink.CategoryHRIS, token)
	return []apiCall{
		{"Account.Details", func(ctx context.Context) (any, error) { return a.Details(ctx) }},
		{"Account.Delete", func(ctx context.Context) (any, error) { return nil, a.Delete(ctx) }},
		{"Account.RegenerateToken", func(ctx context.Context) (any, error) { return a.RegenerateToken(ctx) }},
		{"Account.SyncStatus", func(ctx context.Context) (any, error) { return readAll(a.SyncStatus(ctx)) }},
		{"Account.Resync", func(ctx context.Context) (any, error) { return a.Resync(ctx) }},
		{"Account.Do", func(ctx context.Context) (any, error) {
			// What Do decodes is the caller's own data, the token included
			// when the answer holds it: only the error is checked.
			var out map[string]any
			return nil, a.Do(ctx, http.MethodPost, "passthrough?token="+url.QueryEscape(token), map[string]string{"path": "/x"}, &out)
		}},
		{"Paginate", func(ctx context.Context) (any, error) {
			return readAll(mergelink.Paginate[map[string]any](ctx, a, "employees", url.Values{"q": {token}}))
		}},
		{"ListIssues", func(ctx context.Context) (any, error) {
			return readAll(c.ListIssues(ctx, mergelink.IssuesParams{AccountToken: token}))
		}},
	}
}

// TestSecretsNeverShowAfterTheLink drives every failure path of the calls
// made with an account token and checks that the token shows in no error,
// returned value (any fmt verb) or log line, text or JSON.
func TestSecretsNeverShowAfterTheLink(t *testing.T) {
	t.Parallel()
	lc := newLeakCheck(t, testAPIKey, leakAccountToken)
	ctx := context.Background()

	t.Run("validation", func(t *testing.T) {
		c := noRequestClient(t)
		for _, bad := range []string{leakAccountToken + "\n", " " + leakAccountToken, leakAccountToken + "\xff"} {
			for _, call := range afterLinkCalls(c, bad) {
				_, err := call.do(ctx)
				var ve *mergelink.ValidationError
				assert.ErrorAs(t, err, &ve, call.name)
				lc.err(call.name+" with a bad token", err)
			}
		}
		a := c.Account(mergelink.CategoryHRIS, leakAccountToken)
		lc.err("Do with a path holding the token", a.Do(ctx, http.MethodGet, "/x?account_token="+leakAccountToken, nil, nil))
		lc.err("Do with a scheme", a.Do(ctx, http.MethodGet, "https://evil.example/?t="+leakAccountToken, nil, nil))
		for i, refused := range []string{
			"https://user:" + leakAccountToken + "@evil.example/employees",
			"//user:" + leakAccountToken + "@evil.example/employees",
			"employees#" + leakAccountToken,
			"employees/../x#" + leakAccountToken,
		} {
			err := a.Do(ctx, http.MethodGet, refused, nil, nil)
			var ve *mergelink.ValidationError
			assert.ErrorAs(t, err, &ve, i)
			lc.err(fmt.Sprint("Do with refused path ", i), err)
			_, err = readAll(mergelink.Paginate[any](ctx, a, refused, nil))
			assert.ErrorAs(t, err, &ve, i)
			lc.err(fmt.Sprint("Paginate with refused path ", i), err)
		}
		_, err := readAll(mergelink.Paginate[any](ctx, a, "employees?t="+leakAccountToken, nil))
		lc.err("Paginate with a query in the path", err)
	})

	t.Run("API errors of every status class", func(t *testing.T) {
		srv := mergetest.NewTestServer(t, mergetest.WithAPIKey(testAPIKey))
		c, err := mergelink.NewClient(testAPIKey, append(srv.ClientOptions(), mergelink.WithMaxRetries(1), mergelink.WithLogger(lc.logger))...)
		require.NoError(t, err)
		for _, status := range []int{400, 401, 403, 404, 409, 422, 429, 500, 501, 502, 503} {
			srv.FailNext(1<<20, status, "0")
			for _, call := range afterLinkCalls(c, leakAccountToken) {
				_, err := call.do(ctx)
				var apiErr *mergelink.APIError
				if assert.ErrorAs(t, err, &apiErr, call.name) {
					assert.Equal(t, status, apiErr.StatusCode, call.name)
				}
				lc.err(fmt.Sprintf("%s answered %d", call.name, status), err)
			}
		}
		srv.FailNext(0, 500, "")
		for _, call := range afterLinkCalls(c, leakAccountToken) { // a token mergetest does not know
			v, err := call.do(ctx)
			lc.result(call.name+" with an unknown token", v, err)
		}
	})

	t.Run("transport errors", func(t *testing.T) {
		addr := testnet.RefusedAddr(t)
		c, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL("http://"+addr+"/api"), mergelink.WithMaxRetries(1),
			mergelink.WithRetryWait(time.Millisecond, time.Millisecond), mergelink.WithLogger(lc.logger))
		require.NoError(t, err)
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		for _, call := range afterLinkCalls(c, leakAccountToken) {
			_, err := call.do(ctx)
			lc.err(call.name+" refused", err)
			_, err = call.do(canceled)
			assert.ErrorIs(t, err, context.Canceled, call.name)
			lc.err(call.name+" canceled", err)
		}
	})

	t.Run("2xx answers that do not decode", func(t *testing.T) {
		c, mux := setup(t, mergelink.WithLogger(lc.logger))
		var mu sync.Mutex
		var answer string
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			io.WriteString(w, answer)
		})
		tok := `"account_token":"` + leakAccountToken + `"`
		decodeErrors := 0
		for i, body := range []string{
			`not JSON ` + leakAccountToken,
			`{` + tok,
			`{` + tok + `,"id":5,"linked_account_id":7}`,
			`{` + tok + `,"results":[{"model_name":5}],"next":"` + leakAccountToken + `"}`,
			`{` + tok + `,"results":[],"next":"https://evil.example/?cursor=` + leakAccountToken + `"}`,
			`[{` + tok + `}]`,
		} {
			mu.Lock()
			answer = body
			mu.Unlock()
			for _, call := range afterLinkCalls(c, leakAccountToken) {
				v, err := call.do(ctx)
				var de *mergelink.DecodeError
				if errors.As(err, &de) {
					decodeErrors++
				}
				lc.result(fmt.Sprintf("%s answered body %d", call.name, i), v, err)
			}
		}
		assert.Greater(t, decodeErrors, 25, "DecodeErrors")
	})

	t.Run("mergetest end to end", func(t *testing.T) {
		srv := mergetest.NewTestServer(t, mergetest.WithAPIKey(testAPIKey))
		c, err := mergelink.NewClient(testAPIKey, append(srv.ClientOptions(), mergelink.WithLogger(lc.logger))...)
		require.NoError(t, err)
		lt, err := c.CreateLinkToken(ctx, mergelink.LinkTokenParams{
			EndUserEmailAddress: "jane@example.com", EndUserOrganizationName: "Example", EndUserOriginID: "user-after",
			Categories: []mergelink.Category{mergelink.CategoryHRIS},
		})
		require.NoError(t, err)
		acct, err := srv.CompleteLink(lt.LinkToken, "bamboohr")
		require.NoError(t, err)
		lc.add(acct.AccountToken)
		_, err = srv.RaiseIssue(acct.ID, "Missing Permissions")
		require.NoError(t, err)
		a := c.Account(mergelink.CategoryHRIS, acct.AccountToken)
		lc.value("Account", a)
		for _, call := range afterLinkCalls(c, acct.AccountToken)[:1] {
			v, err := call.do(ctx)
			require.NoError(t, err)
			lc.value(call.name, v)
		}
		sts, err := readAll(a.SyncStatus(ctx))
		require.NoError(t, err)
		lc.value("sync statuses", sts)
		issues, err := readAll(c.ListIssues(ctx, mergelink.IssuesParams{AccountToken: acct.AccountToken}))
		require.NoError(t, err)
		require.Len(t, issues, 1)
		lc.value("issues", issues)
		lc.value("IssuesParams", mergelink.IssuesParams{AccountToken: acct.AccountToken})
		emps, err := readAll(mergelink.Paginate[map[string]any](ctx, a, "employees", nil))
		require.NoError(t, err)
		lc.value("employees", emps)
		nt, err := a.RegenerateToken(ctx)
		require.NoError(t, err)
		lc.add(nt.AccountToken)
		lc.value("regenerated AccountToken", nt)
		lc.value("regenerated AccountToken value", *nt)
		_, err = a.Details(ctx)
		lc.err("Details with the old token", err)
		b := c.Account(mergelink.CategoryHRIS, nt.AccountToken)
		require.NoError(t, b.Delete(ctx))
		lc.err("Delete twice", b.Delete(ctx))
		lc.value("the requests mergetest received", srv.Requests())
	})

	_, _ = lc.logs()
	assert.Greater(t, lc.checked, 1000, "checks run")
}
