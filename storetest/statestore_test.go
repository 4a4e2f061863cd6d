package storetest

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// agenthandler.SQLStateStore on SQLite and (when MERGELINK_TEST_POSTGRES is
// set) PostgreSQL: a state is taken once, by one of concurrent takers, not
// after it expires, and the table keeps no state in clear.
func TestSQLStateStore(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) (*sql.DB, bool){
		"sqlite":   func(t testing.TB) (*sql.DB, bool) { return sqlite(t), false },
		"postgres": func(t testing.TB) (*sql.DB, bool) { return postgres(t), true },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, pg := open(t)
			ctx := context.Background()
			now := time.Now()
			table := "states_" + time.Now().Format("150405_000000")
			store, err := agenthandler.NewSQLStateStore(db, agenthandler.SQLStateStoreOptions{Postgres: pg, Table: table, Now: func() time.Time { return now }})
			require.NoError(t, err)
			require.NoError(t, store.CreateTable(ctx))
			require.NoError(t, store.CreateTable(ctx), "idempotent")

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
	_, err := agenthandler.NewSQLStateStore(nil, agenthandler.SQLStateStoreOptions{})
	assert.Error(t, err)
	_, err = agenthandler.NewSQLStateStore(&sql.DB{}, agenthandler.SQLStateStoreOptions{Table: "x; DROP TABLE y"})
	assert.Error(t, err)
}
