package storetest

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/sqlstore"
)

// sqlstore.StateStore, an agenthandler.StateStore, on SQLite and (when
// MERGELINK_TEST_POSTGRES is set) PostgreSQL: a state is taken once, by one
// of concurrent takers, not after it expires, and the table keeps no state
// in clear.
func TestSQLStateStore(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) (*sql.DB, sqlstore.Dialect){
		"sqlite":   func(t testing.TB) (*sql.DB, sqlstore.Dialect) { return sqlite(t), sqlstore.SQLite },
		"postgres": func(t testing.TB) (*sql.DB, sqlstore.Dialect) { return postgres(t), sqlstore.Postgres },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, dialect := open(t)
			ctx := context.Background()
			now := time.Now()
			table := "states_" + time.Now().Format("150405_000000")
			var store agenthandler.StateStore = sqlstore.NewStateStore(db, sqlstore.StateOptions{Dialect: dialect, Table: table, Now: func() time.Time { return now }})
			require.NoError(t, store.(*sqlstore.StateStore).CreateTable(ctx))
			require.NoError(t, store.(*sqlstore.StateStore).CreateTable(ctx), "idempotent")

			require.NoError(t, store.Save(ctx, "s1", "user-1", now.Add(time.Minute)))
			require.NoError(t, store.Save(ctx, "short", "user-2", now.Add(time.Second)))
			var stored string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT state_hash FROM "+table+" WHERE value = 'user-1'").Scan(&stored))
			assert.NotContains(t, stored, "s1")
			assert.Len(t, stored, 64, "a SHA-256, in hex")

			v, ok, err := store.Take(ctx, "s1")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "user-1", v)
			_, ok, err = store.Take(ctx, "s1")
			require.NoError(t, err)
			assert.False(t, ok, "taken once")
			now = now.Add(2 * time.Second)
			_, ok, err = store.Take(ctx, "short")
			require.NoError(t, err)
			assert.False(t, ok, "expired")

			require.NoError(t, store.Save(ctx, "race", "v", now.Add(time.Minute)))
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, ok, err := store.Take(ctx, "race")
					assert.NoError(t, err)
					if ok {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, 1, wins)
		})
	}
	var ve *mergelink.ValidationError
	err := sqlstore.NewStateStore(nil, sqlstore.StateOptions{}).Save(context.Background(), "s", "v", time.Now())
	if assert.ErrorAs(t, err, &ve) {
		assert.True(t, ve.Has("db"))
		assert.True(t, ve.Has("Dialect"))
	}
	_, _, err = sqlstore.NewStateStore(&sql.DB{}, sqlstore.StateOptions{Dialect: sqlstore.Postgres, Table: "x; DROP TABLE y"}).Take(context.Background(), "s")
	if assert.ErrorAs(t, err, &ve) {
		assert.True(t, ve.Has("Table"))
	}
	err = sqlstore.NewStateStore(&sql.DB{}, sqlstore.StateOptions{Dialect: sqlstore.Postgres, Table: strings.Repeat("t", 53)}).CreateTable(context.Background())
	assert.ErrorAs(t, err, &ve, "a name PostgreSQL would cut, with its index's")
}
