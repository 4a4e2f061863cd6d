package storetest

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/sqlstore"
)

// The environment variables that name the servers; .ci/services sets them.
const (
	envPostgres = "MERGELINK_TEST_POSTGRES"
	envRedis    = "MERGELINK_TEST_REDIS"
)

// postgres opens the test PostgreSQL, or skips the test when
// MERGELINK_TEST_POSTGRES is unset.
func postgres(t testing.TB) *sql.DB {
	t.Helper()
	url := os.Getenv(envPostgres)
	if url == "" {
		t.Skip(envPostgres + " is not set: this test needs a real PostgreSQL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); .ci/services starts one")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatalf("%s: %v", envPostgres, err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(100)
	db.SetMaxIdleConns(100)
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("%s=%s: %v", envPostgres, url, err)
	}
	return db
}

// sqliteDSN is how the tests and the receivers open SQLite: WAL and a busy
// timeout, as sqlstore's doc advises.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
}

// sqlite opens a new SQLite database in a temporary folder.
func sqlite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "deliveries.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// redisClient returns a client of the test Redis, or skips the test when
// MERGELINK_TEST_REDIS is unset.
func redisClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	url := os.Getenv(envRedis)
	if url == "" {
		t.Skip(envRedis + " is not set: this test needs a real Redis 7 (e.g. redis://127.0.0.1:6379/0); .ci/services starts one")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", envRedis, err)
	}
	opt.PoolSize = 100
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("%s=%s: %v", envRedis, url, err)
	}
	return rdb
}

var tableSeq atomic.Int64

// newTable returns a table name no other test of any run uses.
func newTable() string {
	return fmt.Sprintf("deliveries_%d_%d", time.Now().UnixNano(), tableSeq.Add(1))
}

// newSQLStore makes a store on a fresh table of db.
func newSQLStore(t testing.TB, db *sql.DB, o sqlstore.Options) *sqlstore.Store {
	t.Helper()
	if o.Table == "" {
		o.Table = newTable()
	}
	s := sqlstore.New(db, o)
	if err := s.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.Dialect == sqlstore.Postgres {
		t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + o.Table) })
	}
	return s
}

// postSigned sends body, signed with key as Merge signs, to h and returns
// the status.
func postSigned(h http.Handler, body, key string) int {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook([]byte(body), key))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// startReceiver starts the receiver bin with args, its stderr to stderr,
// and waits until it serves.
func startReceiver(t *testing.T, bin string, stderr io.Writer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "listening\n" {
		t.Fatalf("the receiver %v did not start: %q, %v", args, line, err)
	}
	return cmd
}
