package agenthandler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// SQLStateStore is a StateStore on database/sql, for PostgreSQL and SQLite
// (3.35 or later), so that every replica of an app shares the states. It
// keeps each state's SHA-256, never the state. Make its table once with
// CreateTable, or with your migrations:
//
//	CREATE TABLE mergelink_callback_states (
//	    state_hash TEXT PRIMARY KEY,
//	    value      TEXT NOT NULL,
//	    expires_at BIGINT NOT NULL -- Unix milliseconds
//	)
type SQLStateStore struct {
	db    *sql.DB
	table string
	// dollar is true for PostgreSQL's $1 placeholders, false for SQLite's ?.
	dollar bool
	now    func() time.Time
}

// SQLStateStoreOptions configure NewSQLStateStore.
type SQLStateStoreOptions struct {
	// Postgres selects PostgreSQL's placeholders ($1); false is SQLite.
	Postgres bool
	// Table is the table's name, mergelink_callback_states by default.
	Table string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// NewSQLStateStore returns a SQLStateStore on db. It fails when the table
// name is not a plain SQL name (letters, digits, '_', one optional schema).
func NewSQLStateStore(db *sql.DB, o SQLStateStoreOptions) (*SQLStateStore, error) {
	if o.Table == "" {
		o.Table = "mergelink_callback_states"
	}
	if !tableName.MatchString(o.Table) {
		return nil, fmt.Errorf("mergelink: NewSQLStateStore: table %q is not a plain SQL name", o.Table)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if db == nil {
		return nil, errors.New("mergelink: NewSQLStateStore: db is nil")
	}
	return &SQLStateStore{db: db, table: o.Table, dollar: o.Postgres, now: o.Now}, nil
}

// q writes a query's placeholders for the store's database.
func (s *SQLStateStore) q(query string) string {
	query = strings.ReplaceAll(query, "{table}", s.table)
	if !s.dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CreateTable creates the store's table when it does not exist.
func (s *SQLStateStore) CreateTable(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, s.q(`CREATE TABLE IF NOT EXISTS {table} (state_hash TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at BIGINT NOT NULL)`))
	if err != nil {
		return fmt.Errorf("mergelink: creating the callback state table: %w", err)
	}
	return nil
}

// Save keeps state until expires, and deletes the states that have
// expired. It fails for an empty state, and when the database does.
func (s *SQLStateStore) Save(ctx context.Context, state, value string, expires time.Time) error {
	if state == "" {
		return errors.New("mergelink: SQLStateStore.Save: the state is empty: use NewState")
	}
	now := s.now().UnixMilli()
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM {table} WHERE expires_at <= ?`), now); err != nil {
		return fmt.Errorf("mergelink: deleting expired callback states: %w", err)
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO {table} (state_hash, value, expires_at) VALUES (?, ?, ?)`), stateKey(state), value, expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("mergelink: saving the callback state: %w", err)
	}
	return nil
}

// Take deletes state and returns its value, in one statement (DELETE ...
// RETURNING), so that of concurrent Takes, on any replica, one wins.
func (s *SQLStateStore) Take(ctx context.Context, state string) (string, bool, error) {
	var value string
	var expires int64
	err := s.db.QueryRowContext(ctx, s.q(`DELETE FROM {table} WHERE state_hash = ? RETURNING value, expires_at`), stateKey(state)).Scan(&value, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("mergelink: taking the callback state: %w", err)
	case expires <= s.now().UnixMilli():
		return "", false, nil
	}
	return value, true, nil
}
