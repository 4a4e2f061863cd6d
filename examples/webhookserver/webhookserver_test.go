package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/accountstore"
	"github.com/mergelink/mergelink/examples/internal/clitest"
	"github.com/mergelink/mergelink/mergetest"
)

// logBuffer is a bytes.Buffer that handlers may log to concurrently.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// linkAccount creates a Magic Link on srv for end user acme-42 and
// completes it, as the end user would.
func linkAccount(t *testing.T, srv *mergetest.Server) *mergetest.LinkedAccount {
	t.Helper()
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ml, err := c.CreateMagicLink(context.Background(), mergelink.MagicLinkParams{
		EndUserEmailAddress:     "jane@acme.example",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "acme-42",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
		Integration:             "bamboohr",
	})
	require.NoError(t, err)
	la, err := srv.CompleteLink(ml.LinkToken, "")
	require.NoError(t, err)
	return la
}

func TestStoresSignedDeliveries(t *testing.T) {
	t.Parallel()
	store := new(accountstore.Store)
	logs := new(logBuffer)
	h, err := newHandler([]string{"old-key", "new-key"}, store, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	receiver := httptest.NewServer(h)
	t.Cleanup(receiver.Close)
	// Merge signs with the new key during the rotation.
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(receiver.URL+webhookPath, "new-key"))

	la := linkAccount(t, srv)
	ds, err := srv.WaitForDeliveries(context.Background(), 2)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, http.StatusOK, d.StatusCode, "%s", d)
	}

	byID, ok := store.ByID(la.ID)
	require.True(t, ok, "the account is stored by its Linked Account id")
	assert.Equal(t, la.AccountToken, byID.AccountToken)
	assert.Equal(t, "acme-42", byID.EndUserOriginID)
	assert.Equal(t, "BambooHR", byID.Integration)
	byOrigin, ok := store.ByOrigin("acme-42")
	require.True(t, ok, "the account is stored by its end user origin id")
	assert.Equal(t, byID, byOrigin)

	assert.Contains(t, logs.String(), "account token stored")
	assert.Contains(t, logs.String(), "account.account_token="+accountstore.Mask(la.AccountToken))
	assert.NotContains(t, logs.String(), la.AccountToken, "logs show masked tokens only")
}

func TestRefusesForgedDeliveries(t *testing.T) {
	t.Parallel()
	store := new(accountstore.Store)
	logs := new(logBuffer)
	h, err := newHandler([]string{"merge-key"}, store, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)

	payload := []byte(`{"hook": {"id": "h1", "event": "LinkedAccount.linked", "target": "https://example.com"},
		"linked_account": {"id": "la-forged", "end_user_origin_id": "acme-42"},
		"data": {"account_token": "forged-account-token-1234567890", "is_relink": false}}`)
	post := func(signature string) int {
		req := httptest.NewRequest(http.MethodPost, webhookPath, bytes.NewReader(payload))
		if signature != "" {
			req.Header.Set(mergelink.SignatureHeader, signature)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}

	assert.Equal(t, http.StatusUnauthorized, post(mergelink.SignWebhook(payload, "attacker-key")))
	assert.Equal(t, http.StatusUnauthorized, post(""))
	_, ok := store.ByOrigin("acme-42")
	assert.False(t, ok, "a forged delivery stores nothing")
	assert.Contains(t, logs.String(), "status=401")

	// The same body under Merge's key is taken: the refusals were the
	// signature's.
	assert.Equal(t, http.StatusOK, post(mergelink.SignWebhook(payload, "merge-key")))
	a, ok := store.ByOrigin("acme-42")
	require.True(t, ok)
	assert.Equal(t, "la-forged", a.ID)
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"old", "new"}, parseKeys(" old , new ,"))
	assert.Empty(t, parseKeys(" , "))
}

var listening = regexp.MustCompile(`url=(http://\S+)`)

func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := func(k string) string {
		if k == keysEnv {
			return "old-key,new-key"
		}
		return ""
	}
	out := clitest.Start(func(logs io.Writer) int { return run(ctx, []string{"-addr", "127.0.0.1:0"}, env, logs) })
	first, ok := out.Next(t)
	require.True(t, ok, "run ended without a line")
	m := listening.FindStringSubmatch(first)
	require.NotNil(t, m, first)

	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(m[1], "old-key"))
	la := linkAccount(t, srv)
	ds, err := srv.WaitForDeliveries(ctx, 2)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, http.StatusOK, d.StatusCode, "%s", d)
	}

	cancel()
	code, lines := out.Wait(t)
	assert.Equal(t, 0, code)
	logs := strings.Join(lines, "\n")
	assert.Contains(t, logs, "account.linked_account_id="+la.ID)
	assert.Contains(t, logs, `msg=stopped`)
	assert.NotContains(t, logs, la.AccountToken)
}

func TestRunWithoutKeys(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	code := run(context.Background(), nil, func(string) string { return " , " }, &logs)
	assert.Equal(t, 2, code)
	assert.Contains(t, logs.String(), "MERGE_WEBHOOK_KEYS is not set")
}

func TestHelpNamesTheEnvironment(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &logs)
	assert.Equal(t, 0, code)
	assert.Contains(t, logs.String(), "usage: webhookserver")
	assert.Contains(t, logs.String(), "MERGE_WEBHOOK_KEYS", "-h says where the keys come from")
	assert.Contains(t, logs.String(), "-addr")
}
