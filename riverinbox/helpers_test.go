package riverinbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/mergelink/mergelink"
)

const webhookKey = "riverinbox-test-key"

// openSQLite opens a new SQLite file in t's temporary folder, one
// connection at a time as riversqlite advises, and runs River's
// migrations on it.
func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "river.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	migrator, err := rivermigrate.New(riversqlite.New(db), nil)
	require.NoError(t, err)
	_, err = migrator.Migrate(context.Background(), rivermigrate.DirectionUp, nil)
	require.NoError(t, err)
	return db
}

// fastRetries retries a failed job at once, so that tests wait for no
// backoff.
type fastRetries struct{}

func (fastRetries) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }

// sqliteClient returns a River client on db, working workers (none: an
// insert-only client) in the default queue, with short polls and retries.
func sqliteClient(t testing.TB, db *sql.DB, workers *river.Workers) *river.Client[*sql.Tx] {
	t.Helper()
	cfg := &river.Config{Workers: workers, RetryPolicy: fastRetries{}, FetchPollInterval: 20 * time.Millisecond, FetchCooldown: 5 * time.Millisecond, TestOnly: true}
	if workers != nil {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
	}
	client, err := river.NewClient(riversqlite.New(db), cfg)
	require.NoError(t, err)
	return client
}

// signed is a POST of body to path with a Unified API signature.
func signed(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	r.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, webhookKey))
	return r
}

// serve sends r to h and returns the answer.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// linked is a LinkedAccount.linked body for account id.
func linked(id string) []byte {
	return []byte(`{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"` + id + `"},"data":{"account_token":"tok-` + id + `"}}`)
}

// countJobs counts the jobs of kind in the database.
func countJobs(t testing.TB, db *sql.DB, kind string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM river_job WHERE kind = ?", kind).Scan(&n))
	return n
}
