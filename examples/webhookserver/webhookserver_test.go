package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/accountstore"
	"github.com/mergelink/mergelink/examples/internal/clitest"
	"github.com/mergelink/mergelink/mergetest"
	"github.com/mergelink/mergelink/sqlstore"
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

// testSealKey is a sealing key for the tests: 32 bytes, base64.
var testSealKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// openTestStores opens the stores in a new SQLite file, or in the
// PostgreSQL of MERGELINK_TEST_POSTGRES when pg is true.
func openTestStores(t *testing.T, pg bool) (*sql.DB, *accounts, *sqlstore.Store) {
	t.Helper()
	seal, err := newSealer(testSealKey)
	require.NoError(t, err)
	url := ""
	if pg {
		if url = os.Getenv("MERGELINK_TEST_POSTGRES"); url == "" {
			t.Skip("MERGELINK_TEST_POSTGRES is not set: this test needs a real PostgreSQL; .ci/services starts one")
		}
	}
	db, accts, deliveries, _, err := openStores(context.Background(), url, filepath.Join(t.TempDir(), "webhookserver.db"), seal)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db, accts, deliveries
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
	db, store, deliveries := openTestStores(t, false)
	logs := new(logBuffer)
	h, err := newHandler([]string{"old-key", "new-key"}, store, deliveries, slog.New(slog.NewTextHandler(logs, nil)))
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

	ctx := context.Background()
	byID, ok, err := store.byID(ctx, la.ID)
	require.NoError(t, err)
	require.True(t, ok, "the account is stored by its Linked Account id")
	assert.Equal(t, la.AccountToken, byID.AccountToken)
	assert.Equal(t, "acme-42", byID.EndUserOriginID)
	assert.Equal(t, "BambooHR", byID.Integration)
	byOrigin, ok, err := store.byOrigin(ctx, "acme-42")
	require.NoError(t, err)
	require.True(t, ok, "the account is stored by its end user origin id")
	assert.Equal(t, byID, byOrigin)

	var sealed []byte
	require.NoError(t, db.QueryRow("SELECT sealed_token FROM webhookserver_accounts").Scan(&sealed))
	assert.NotContains(t, string(sealed), la.AccountToken, "the token is sealed at rest")
	var processed int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM mergelink_deliveries WHERE state = 1").Scan(&processed))
	assert.Equal(t, len(ds), processed, "the processed deliveries are in the same database")

	assert.Contains(t, logs.String(), "account token stored")
	assert.Contains(t, logs.String(), "account.account_token="+accountstore.Mask(la.AccountToken))
	assert.NotContains(t, logs.String(), la.AccountToken, "logs show masked tokens only")
}

func TestRefusesForgedDeliveries(t *testing.T) {
	t.Parallel()
	_, store, deliveries := openTestStores(t, false)
	logs := new(logBuffer)
	h, err := newHandler([]string{"merge-key"}, store, deliveries, slog.New(slog.NewTextHandler(logs, nil)))
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
	_, ok, err := store.byOrigin(context.Background(), "acme-42")
	require.NoError(t, err)
	assert.False(t, ok, "a forged delivery stores nothing")
	assert.Contains(t, logs.String(), "status=401")

	// The same body under Merge's key is taken: the refusals were the
	// signature's.
	assert.Equal(t, http.StatusOK, post(mergelink.SignWebhook(payload, "merge-key")))
	a, ok, err := store.byOrigin(context.Background(), "acme-42")
	require.NoError(t, err)
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
		switch k {
		case keysEnv:
			return "old-key,new-key"
		case sealKeyEnv:
			return testSealKey
		}
		return ""
	}
	dbPath := filepath.Join(t.TempDir(), "w.db")
	out := clitest.Start(func(logs io.Writer) int {
		return run(ctx, []string{"-addr", "127.0.0.1:0", "-db", dbPath}, env, logs)
	})
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

func TestRunWithoutSealingKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, want string }{
		{"", "TOKEN_SEALING_KEY is not set"},
		{"not base64!", "is not base64"},
		{base64.StdEncoding.EncodeToString([]byte("16 bytes, short!")), "holds 16 bytes, AES-256 needs 32"},
	} {
		var logs bytes.Buffer
		env := func(k string) string {
			if k == keysEnv {
				return "merge-key"
			}
			if k == sealKeyEnv {
				return tc.key
			}
			return ""
		}
		code := run(context.Background(), []string{"-db", filepath.Join(t.TempDir(), "w.db")}, env, &logs)
		assert.Equal(t, 2, code)
		assert.Contains(t, logs.String(), tc.want)
		assert.Contains(t, logs.String(), "openssl rand -base64 32", "it says how to make a key")
	}
}

func TestSealer(t *testing.T) {
	t.Parallel()
	s, err := newSealer(testSealKey)
	require.NoError(t, err)
	sealed := s.seal("la-1", "account-token-1234567890")
	assert.NotEqual(t, sealed, s.seal("la-1", "account-token-1234567890"), "a fresh nonce each time")
	token, err := s.open("la-1", sealed)
	require.NoError(t, err)
	assert.Equal(t, "account-token-1234567890", token)

	_, err = s.open("la-2", sealed)
	assert.ErrorIs(t, err, errUnseal, "a sealed token moved to another account does not open")
	other, err := newSealer(base64.StdEncoding.EncodeToString([]byte("another key, 32 bytes long......")))
	require.NoError(t, err)
	_, err = other.open("la-1", sealed)
	assert.ErrorIs(t, err, errUnseal, "another key does not open it")
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	_, err = s.open("la-1", tampered)
	assert.ErrorIs(t, err, errUnseal)
	_, err = s.open("la-1", sealed[:5])
	assert.ErrorIs(t, err, errUnseal)
}

// Two servers on one PostgreSQL form a fleet: copies of one delivery sent
// to both at once are processed once, and each server reads the account
// the other stored.
func TestFleetOnPostgres(t *testing.T) {
	t.Parallel()
	_, accts1, deliveries1 := openTestStores(t, true)
	_, accts2, deliveries2 := openTestStores(t, true)
	var stored atomic.Int32
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	counting := func(accts *accounts, d *sqlstore.Store) http.Handler {
		h, err := newHandler([]string{"merge-key"}, accts, countingStore{d, &stored}, logger)
		require.NoError(t, err)
		return h
	}
	servers := []http.Handler{counting(accts1, deliveries1), counting(accts2, deliveries2)}
	id := fmt.Sprintf("la-%d", os.Getpid()) + fmt.Sprint(time.Now().UnixNano())
	payload := []byte(`{"hook": {"id": "h1", "event": "LinkedAccount.linked", "target": "https://example.com"},
		"linked_account": {"id": "` + id + `", "end_user_origin_id": "origin-` + id + `"},
		"data": {"account_token": "account-token-` + id + `", "is_relink": false}}`)
	sig := mergelink.SignWebhook(payload, "merge-key")
	codes := make(chan int, 20)
	for i := range 20 {
		go func() {
			for {
				req := httptest.NewRequest(http.MethodPost, webhookPath, bytes.NewReader(payload))
				req.Header.Set(mergelink.SignatureHeader, sig)
				rec := httptest.NewRecorder()
				servers[i%2].ServeHTTP(rec, req)
				if rec.Code != http.StatusServiceUnavailable { // busy elsewhere: retry, as Merge does
					codes <- rec.Code
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	for range 20 {
		assert.Equal(t, http.StatusOK, <-codes)
	}
	assert.Equal(t, int32(1), stored.Load(), "one copy was processed")
	a, ok, err := accts2.byOrigin(context.Background(), "origin-"+id)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "account-token-"+id, a.AccountToken)
}

// countingStore counts the claims its store grants.
type countingStore struct {
	*sqlstore.Store
	granted *atomic.Int32
}

func (s countingStore) Begin(ctx context.Context, key, owner string, lease time.Duration) (mergelink.DeliveryState, error) {
	state, err := s.Store.Begin(ctx, key, owner, lease)
	if state == mergelink.DeliveryNew && err == nil {
		s.granted.Add(1)
	}
	return state, err
}

// A DATABASE_URL the driver cannot parse is reported without its secrets:
// the password in its user info or in a password query parameter.
func TestBadDatabaseURLHidesThePassword(t *testing.T) {
	t.Parallel()
	const password = "pg-PASSWORD-s3cret"
	for _, url := range []string{
		"postgres://app@db.example/app?password=" + password + "&sslmode=bogus",
		"postgres://app:" + password + "@db.example/app?sslmode=bogus",
		"postgres://app@db.example:notaport/app?password=" + password,
	} {
		var logs bytes.Buffer
		env := func(k string) string {
			switch k {
			case keysEnv:
				return "merge-key"
			case sealKeyEnv:
				return testSealKey
			case databaseEnv:
				return url
			}
			return ""
		}
		code := run(context.Background(), nil, env, &logs)
		assert.NotEqual(t, 0, code, url)
		assert.Contains(t, logs.String(), databaseEnv, "the error names the variable")
		assert.Contains(t, logs.String(), "db.example", "the error shows the host")
		assert.NotContains(t, logs.String(), password)
	}
}

// Replicas that start together on a new PostgreSQL database all create
// the accounts table, and none fails.
func TestAccountsTableFromManyReplicasAtOnce(t *testing.T) {
	t.Parallel()
	url := os.Getenv("MERGELINK_TEST_POSTGRES")
	if url == "" {
		t.Skip("MERGELINK_TEST_POSTGRES is not set: this test needs a real PostgreSQL; .ci/services starts one")
	}
	admin, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	for round := range 10 {
		schema := fmt.Sprintf("webhookserver_replicas_%d_%d", time.Now().UnixNano(), round)
		_, err := admin.Exec("CREATE SCHEMA " + schema)
		require.NoError(t, err)
		t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })

		u, err := neturl.Parse(url)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", schema) // pgx sends it as a run-time parameter
		u.RawQuery = q.Encode()

		const replicas = 8
		errs := make(chan error, replicas)
		start := make(chan struct{})
		for range replicas {
			db, err := sql.Open("pgx", u.String())
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			require.NoError(t, db.Ping()) // connected before the start
			go func() {
				<-start
				errs <- (&accounts{db: db, dialect: sqlstore.Postgres}).createTable(context.Background())
			}()
		}
		close(start)
		for range replicas {
			assert.NoError(t, <-errs, "round %d", round)
		}
	}
}
