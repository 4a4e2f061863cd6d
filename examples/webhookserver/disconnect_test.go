package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

// -disconnect deletes the Linked Account at Merge with its stored token and
// forgets the token; the LinkedAccount.deleted webhook that follows, like
// one for an account deleted in the dashboard, drops a token too.
func TestDisconnect(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "w.db")
	seal, err := newSealer(testSealKey)
	require.NoError(t, err)
	db, accts, deliveries, _, err := openStores(context.Background(), "", dbPath, seal)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	logs := new(logBuffer)
	h, err := newHandler([]string{"merge-key"}, accts, deliveries, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	receiver := httptest.NewServer(h)
	t.Cleanup(receiver.Close)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(receiver.URL+webhookPath, "merge-key"))
	ctx := context.Background()

	la := linkAccount(t, srv)
	_, err = srv.WaitForDeliveries(ctx, 2)
	require.NoError(t, err)
	category, err := accts.categoryOf(ctx, la.ID)
	require.NoError(t, err)
	assert.Equal(t, mergelink.CategoryHRIS, category, "the category is stored with the token")

	env := func(k string) string {
		switch k {
		case "MERGE_API_KEY":
			return srv.APIKey()
		case sealKeyEnv:
			return testSealKey
		}
		return ""
	}
	var out bytes.Buffer
	code := run(ctx, []string{"-disconnect", la.ID, "-db", dbPath}, env, &out, srv.ClientOptions()...)
	require.Equal(t, 0, code, out.String())
	assert.Contains(t, out.String(), "Linked Account disconnected")
	assert.NotContains(t, out.String(), la.AccountToken)
	assert.Empty(t, srv.LinkedAccounts(), "Merge deleted the account")
	var deletes int
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == "/api/hris/v1/delete-account" {
			deletes++
			assert.Equal(t, la.AccountToken, r.Header.Get(mergetest.AccountTokenHeader))
		}
	}
	assert.Equal(t, 1, deletes)
	_, ok, err := accts.byID(ctx, la.ID)
	require.NoError(t, err)
	assert.False(t, ok, "the token is forgotten")
	ds, err := srv.WaitForDeliveries(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, string(mergelink.EventLinkedAccountDeleted), ds[2].Event)
	assert.Equal(t, http.StatusOK, ds[2].StatusCode)

	// Again: nothing is stored for it any more, and nothing is sent.
	out.Reset()
	before := len(srv.Requests())
	code = run(ctx, []string{"-disconnect", la.ID, "-db", dbPath}, env, &out, srv.ClientOptions()...)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "no account token is stored")
	assert.Len(t, srv.Requests(), before)

	// Deleted in the dashboard: the webhook drops the token.
	other := linkAccount(t, srv)
	_, err = srv.WaitForDeliveries(ctx, 5)
	require.NoError(t, err)
	_, ok, err = accts.byID(ctx, other.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, srv.DeleteLinkedAccount(other.ID))
	ds, err = srv.WaitForDeliveries(ctx, 6)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, ds[5].StatusCode)
	_, ok, err = accts.byID(ctx, other.ID)
	require.NoError(t, err)
	assert.False(t, ok, "LinkedAccount.deleted drops the token")
	assert.Contains(t, logs.String(), "Linked Account deleted")
	assert.NotContains(t, logs.String(), other.AccountToken)

	// Without the API key, nothing is done.
	out.Reset()
	code = run(ctx, []string{"-disconnect", other.ID, "-db", dbPath}, func(k string) string {
		if k == sealKeyEnv {
			return testSealKey
		}
		return ""
	}, &out)
	assert.Equal(t, 2, code)
	assert.Contains(t, out.String(), "MERGE_API_KEY")
}
