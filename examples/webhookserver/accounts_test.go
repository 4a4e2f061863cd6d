package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/mergelink/mergelink/sqlstore"
)

// lockedSignal is a SQLite connector whose connections report on locked
// each statement that finds the database locked.
type lockedSignal struct {
	dsn    string
	locked chan struct{}
}

func (c lockedSignal) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return signalConn{conn, c.locked}, nil
}

func (lockedSignal) Driver() driver.Driver { return &sqlite.Driver{} }

type signalConn struct {
	driver.Conn
	locked chan struct{}
}

func (c signalConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	if err != nil && strings.Contains(err.Error(), "database is locked") {
		select {
		case c.locked <- struct{}{}:
		default:
		}
	}
	return res, err
}

// A server that finds the SQLite file locked by another (a receiver and a
// worker starting together) tries again until it is free.
func TestAccountsTableWhileSQLiteIsLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webhookserver.db")
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE") // the other server's write lock
	require.NoError(t, err)

	locked := make(chan struct{}, 1)
	db := sql.OpenDB(lockedSignal{dsn: "file:" + path, locked: locked}) // no busy timeout: locked at once
	t.Cleanup(func() { db.Close() })
	done := make(chan error, 1)
	go func() { done <- (&accounts{db: db, dialect: sqlstore.SQLite}).createTable(context.Background()) }()
	<-locked // its first try found the lock
	_, err = conn.ExecContext(context.Background(), "COMMIT")
	require.NoError(t, err)
	require.NoError(t, <-done, "created once the other server let go")
	_, err = db.Exec("SELECT count(*) FROM webhookserver_accounts")
	assert.NoError(t, err)
}
