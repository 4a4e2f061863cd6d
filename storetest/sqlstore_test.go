package storetest

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/delivery/deliverytest"
	"github.com/mergelink/mergelink/internal/testnet"
	"github.com/mergelink/mergelink/sqlstore"
)

// dialects are the databases the SQL store runs on: SQLite always,
// PostgreSQL when MERGELINK_TEST_POSTGRES is set.
var dialects = []struct {
	name    string
	dialect sqlstore.Dialect
	open    func(testing.TB) *sql.DB
}{
	{"SQLite", sqlstore.SQLite, sqlite},
	{"Postgres", sqlstore.Postgres, postgres},
}

func TestSQLStoreContract(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			deliverytest.Run(t, func(t *testing.T, ttl time.Duration) deliverytest.Harness {
				clock := deliverytest.NewClock()
				return deliverytest.Harness{
					Store:   newSQLStore(t, db, sqlstore.Options{Dialect: d.dialect, TTL: ttl, Now: clock.Now}),
					Advance: clock.Advance,
				}
			})
		})
	}
}

// Every SweepEvery-th Done deletes successes past the TTL and claims an
// hour past their lease, and nothing else.
func TestSQLStoreSweepsExpiredRows(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			clock := deliverytest.NewClock()
			table := newTable()
			s := newSQLStore(t, db, sqlstore.Options{Dialect: d.dialect, Table: table, TTL: time.Hour, SweepEvery: 3, Now: clock.Now})
			ctx := context.Background()
			claim := func(key string) {
				state, err := s.Begin(ctx, key, "o", time.Minute)
				require.NoError(t, err)
				require.Equal(t, delivery.New, state)
			}
			claim("old-success")
			require.NoError(t, s.Done(ctx, "old-success", "o", true)) // 1st Done
			claim("stale-claim")                                      // never finished
			clock.Advance(61 * time.Minute)
			claim("young-claim")
			claim("young-success")
			require.NoError(t, s.Done(ctx, "young-success", "o", true)) // 2nd Done
			claim("recent-stale-claim")                                 // lease ends 1m after now
			clock.Advance(2 * time.Minute)
			require.NoError(t, s.Done(ctx, "never", "o", false)) // 3rd Done: sweeps
			var keys []string
			rows, err := db.Query("SELECT delivery_key FROM " + table + " ORDER BY delivery_key")
			require.NoError(t, err)
			for rows.Next() {
				var k string
				require.NoError(t, rows.Scan(&k))
				keys = append(keys, k)
			}
			require.NoError(t, rows.Err())
			assert.Equal(t, []string{"recent-stale-claim", "young-claim", "young-success"}, keys)
		})
	}
}

// CreateTable may run at every start; the DDL in the doc is what it runs.
func TestSQLStoreCreateTableTwice(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			s := newSQLStore(t, db, sqlstore.Options{Dialect: d.dialect})
			require.NoError(t, s.CreateTable(context.Background()))
		})
	}
}

// The default table is mergelink_deliveries, made by the DDL in the
// package doc.
func TestSQLStoreDefaultTableFromDocDDL(t *testing.T) {
	t.Parallel()
	db := sqlite(t)
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS mergelink_deliveries (
		delivery_key TEXT PRIMARY KEY,
		owner        TEXT NOT NULL,
		state        SMALLINT NOT NULL,
		expires_at   BIGINT NOT NULL
	);
	CREATE INDEX IF NOT EXISTS mergelink_deliveries_expires_at ON mergelink_deliveries (expires_at);`)
	require.NoError(t, err)
	s := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.SQLite})
	state, err := s.Begin(context.Background(), "k", "o", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, delivery.New, state)
	require.NoError(t, s.Done(context.Background(), "k", "o", true))
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM mergelink_deliveries WHERE state = 1").Scan(&n))
	assert.Equal(t, 1, n)
}

// With the database down, the handler answers 503 and never calls fn.
func TestSQLStoreDownHandlerAnswers503(t *testing.T) {
	t.Parallel()
	addr := testnet.RefusedAddr(t)
	db, err := sql.Open("pgx", "postgres://postgres@"+addr+"/postgres?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	closedSQLite := sqlite(t)
	closedSQLite.Close()
	for name, db := range map[string]*sql.DB{"Postgres refused": db, "SQLite closed": closedSQLite} {
		t.Run(name, func(t *testing.T) {
			dialect := sqlstore.Postgres
			if strings.HasPrefix(name, "SQLite") {
				dialect = sqlstore.SQLite
			}
			var calls atomic.Int32
			h, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error {
				calls.Add(1)
				return nil
			}, []string{"key"}, mergelink.WithDuplicateStore(sqlstore.New(db, sqlstore.Options{Dialect: dialect})))
			require.NoError(t, err)
			body := []byte(`{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"la-1"},"data":{"account_token":"tok"}}`)
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, "key"))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Equal(t, int32(0), calls.Load(), "fn was called with the store down")
		})
	}
}

// The longest table name allowed is kept whole by PostgreSQL, with its
// index's.
func TestSQLStoreLongestTableName(t *testing.T) {
	t.Parallel()
	db := postgres(t)
	table := newTable()
	table += strings.Repeat("x", 52-len(table))
	newSQLStore(t, db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: table})
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexname = $2", table, table+"_expires_at").Scan(&n))
	assert.Equal(t, 1, n, "the index has its whole name")
}

func TestSQLStoreWrongOptions(t *testing.T) {
	t.Parallel()
	db := sqlite(t)
	for _, tc := range []struct {
		name  string
		db    *sql.DB
		o     sqlstore.Options
		field string
	}{
		{"no dialect", db, sqlstore.Options{}, "Dialect"},
		{"no db", nil, sqlstore.Options{Dialect: sqlstore.SQLite}, "db"},
		{"bad table", db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: "x; DROP TABLE y"}, "Table"},
		{"schema on SQLite", db, sqlstore.Options{Dialect: sqlstore.SQLite, Table: "main.x"}, "Table"},
		{"negative TTL", db, sqlstore.Options{Dialect: sqlstore.SQLite, TTL: -time.Second}, "TTL"},
		// PostgreSQL cuts names at 63 bytes: two services whose tables
		// share a 63-byte prefix would share one table.
		{"table name PostgreSQL cuts", db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: strings.Repeat("t", 64)}, "Table"},
		{"index name PostgreSQL cuts", db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: strings.Repeat("t", 53)}, "Table"},
		{"schema name PostgreSQL cuts", db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: strings.Repeat("s", 64) + ".t"}, "Table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sqlstore.New(tc.db, tc.o)
			for _, err := range []error{
				s.CreateTable(context.Background()),
				func() error { _, err := s.Begin(context.Background(), "k", "o", time.Second); return err }(),
				s.Done(context.Background(), "k", "o", true),
			} {
				var verr *mergelink.ValidationError
				require.True(t, errors.As(err, &verr), "%v", err)
				assert.True(t, verr.Has(tc.field), "%v", err)
			}
		})
	}
}
