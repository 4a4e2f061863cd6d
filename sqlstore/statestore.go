package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// DefaultStateTable is StateStore's table unless StateOptions.Table sets
// another.
const DefaultStateTable = "mergelink_callback_states"

// StateOptions configures NewStateStore.
type StateOptions struct {
	// Dialect is the database's; required.
	Dialect Dialect
	// Table is the table's name, DefaultStateTable when empty, under the
	// rules of Options.Table.
	Table string
	// Now is the clock, time.Now when nil; tests pass their own.
	Now func() time.Time
}

// StateStore is an agenthandler.StateStore in a SQL table, so that every
// replica of an app shares the states of its callback links and the
// replica that the browser comes back to can check one another replica
// saved (agenthandler.ParseStoredCallback). It keeps each state's SHA-256,
// never the state. Its table, made by CreateTable (safe from every replica
// at once, as Store's) or by hand:
//
//	CREATE TABLE IF NOT EXISTS mergelink_callback_states (
//		state_hash TEXT PRIMARY KEY, -- hex SHA-256 of the state
//		value      TEXT NOT NULL,    -- what the app saved with it
//		expires_at BIGINT NOT NULL   -- Unix ms
//	);
//	CREATE INDEX IF NOT EXISTS mergelink_callback_states_expires_at ON mergelink_callback_states (expires_at);
//
// It is safe for concurrent use, and by several processes on one
// database. SQLite needs 3.35 or later (DELETE ... RETURNING).
type StateStore struct {
	db      *sql.DB
	err     error // what is wrong with the options
	dialect Dialect
	table   string
	now     func() time.Time

	ddl                  []string
	sweepSQL, save, take string
}

// The state table's statements, with $1... placeholders and {t} for the
// table.
var stateDDL = []string{
	`CREATE TABLE IF NOT EXISTS {t} (
	state_hash TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	expires_at BIGINT NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS {i}` + indexSuffix + ` ON {t} (expires_at)`,
}

const (
	stateSweepSQL = `DELETE FROM {t} WHERE expires_at <= $1`
	stateSaveSQL  = `INSERT INTO {t} (state_hash, value, expires_at) VALUES ($1, $2, $3)`
	// stateTakeSQL deletes and returns in one statement, so that of
	// concurrent Takes, on any replica, one wins.
	stateTakeSQL = `DELETE FROM {t} WHERE state_hash = $1 RETURNING value, expires_at`
)

// NewStateStore returns a StateStore on db. Wrong options (no dialect, a
// bad table name) do not fail here: every method then fails with a
// *mergelink.ValidationError that names them.
func NewStateStore(db *sql.DB, o StateOptions) *StateStore {
	s := &StateStore{db: db, dialect: o.Dialect, table: o.Table, now: o.Now}
	c := validate.New("sqlstore.StateOptions")
	if db == nil {
		c.Add("db", "required: pass an open *sql.DB", "")
	}
	if o.Dialect != Postgres && o.Dialect != SQLite {
		c.Add("Dialect", "must be sqlstore.Postgres or sqlstore.SQLite", o.Dialect.String())
	}
	if s.table == "" {
		s.table = DefaultStateTable
	}
	checkTable(c, o.Dialect, s.table)
	if s.err = c.Err(); s.err != nil {
		return s
	}
	if s.now == nil {
		s.now = time.Now
	}
	render := renderer(o.Dialect, s.table)
	for _, q := range stateDDL {
		s.ddl = append(s.ddl, render(q))
	}
	s.sweepSQL, s.save, s.take = render(stateSweepSQL), render(stateSaveSQL), render(stateTakeSQL)
	return s
}

// CreateTable creates the table and its index if they do not exist. Every
// replica may call it at start, all at once. It fails with the database's
// error, ctx's when it ends first, or a *mergelink.ValidationError for
// wrong options.
func (s *StateStore) CreateTable(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	return createTable(ctx, s.db, s.dialect, s.table, s.ddl)
}

// Save keeps state with value until expires, and deletes the states that
// have expired. It fails for an empty state, and when the database does.
func (s *StateStore) Save(ctx context.Context, state, value string, expires time.Time) error {
	if s.err != nil {
		return s.err
	}
	if state == "" {
		return errors.New("sqlstore: StateStore.Save: the state is empty: make one with agenthandler.NewState")
	}
	if _, err := s.db.ExecContext(ctx, s.sweepSQL, s.now().UnixMilli()); err != nil {
		return fmt.Errorf("sqlstore: deleting expired callback states: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.save, stateHash(state), value, expires.UnixMilli()); err != nil {
		return fmt.Errorf("sqlstore: saving a callback state: %w", err)
	}
	return nil
}

// Take deletes state and returns its value; ok is false when the table
// does not hold it or it has expired. Of concurrent Takes of one state, on
// any replica, at most one returns ok.
func (s *StateStore) Take(ctx context.Context, state string) (value string, ok bool, err error) {
	if s.err != nil {
		return "", false, s.err
	}
	var expires int64
	err = s.db.QueryRowContext(ctx, s.take, stateHash(state)).Scan(&value, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("sqlstore: taking a callback state: %w", err)
	case expires <= s.now().UnixMilli():
		return "", false, nil
	}
	return value, true, nil
}

// stateHash is what the table keeps of a state: its hex SHA-256.
func stateHash(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}
