// Package sqlstore is a mergelink.DeliveryStore on database/sql, so that
// every replica of a webhook receiver shares one record of which
// deliveries were processed: PostgreSQL and SQLite (MySQL has no
// RETURNING, which the one-round-trip claim needs). It takes the caller's
// *sql.DB and imports no driver.
//
// The store keeps one table, made by Store.CreateTable or by hand:
//
//	CREATE TABLE IF NOT EXISTS mergelink_deliveries (
//		delivery_key TEXT PRIMARY KEY,  -- hex SHA-256 of the signed body
//		owner        TEXT NOT NULL,     -- the claim's owner token
//		state        SMALLINT NOT NULL, -- 0 claimed, 1 processed
//		expires_at   BIGINT NOT NULL    -- Unix ms: the lease end, or the TTL end once processed
//	);
//	CREATE INDEX IF NOT EXISTS mergelink_deliveries_expires_at ON mergelink_deliveries (expires_at);
//
// CreateTable is safe to call from every replica at start, all at once.
// Table names are at most 52 bytes (PostgreSQL cuts names past 63, and
// the index's name adds "_expires_at").
//
// NewWebhookHandler and NewAgentWebhookHandler run the handler's function
// in a transaction that also records the delivery's success, so that the
// function's writes through it happen exactly once per delivery.
//
// Begin is one statement (an upsert that claims a new or expired key and
// returns the row), Done one more: two round trips for a first delivery,
// one for a duplicate. Expired rows are deleted by Done itself, a batch
// every SweepEvery calls, so no goroutine runs in the background.
//
// Times come from the replicas' clocks (Options.Now), not the database's,
// so that PostgreSQL and SQLite behave alike: keep the replicas' clocks in
// step (NTP) to well within a lease.
//
// For SQLite, open the database with a busy timeout and WAL, for example
// "file:deliveries.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
// with modernc.org/sqlite; a claim that still meets a locked database
// fails, and the handler answers 503 so that Merge retries.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/internal/validate"
)

// Dialect is the SQL dialect of the database.
type Dialect int

// The dialects.
const (
	Postgres Dialect = iota + 1
	SQLite
)

func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "Postgres"
	case SQLite:
		return "SQLite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Defaults of Options.
const (
	DefaultTable      = "mergelink_deliveries"
	DefaultSweepEvery = 1000
)

// Options configures New.
type Options struct {
	// Dialect is the database's; required.
	Dialect Dialect
	// Table is the table's name, DefaultTable when empty: letters,
	// digits and underscores, on PostgreSQL optionally after a schema and
	// a dot; at most 52 bytes (63 for the schema), so that PostgreSQL
	// keeps it and its index's name whole.
	Table string
	// TTL is how long a success is remembered, delivery.DefaultTTL (24h)
	// when 0.
	TTL time.Duration
	// SweepEvery: every SweepEvery-th Done also deletes up to 1000 rows
	// that expired (claims an hour after their lease). 0 means
	// DefaultSweepEvery; negative turns sweeping off (delete them
	// yourself).
	SweepEvery int
	// Now is the clock, time.Now when nil; tests pass their own.
	Now func() time.Time
}

// Store is a delivery store in a SQL table. It is safe for concurrent use,
// and by several processes on one database.
type Store struct {
	db    *sql.DB
	err   error // what is wrong with the options
	table string
	ttl   time.Duration
	sweep int
	now   func() time.Time

	dialect                                 Dialect
	begin, success, failure, held, sweepSQL string
	ddl                                     []string
	dones                                   atomic.Int64
}

// New returns a store on db. Wrong options (no dialect, a bad table name,
// a negative TTL) do not fail here: every method then fails with a
// *mergelink.ValidationError that names them.
func New(db *sql.DB, o Options) *Store {
	s := &Store{db: db, table: o.Table, ttl: o.TTL, sweep: o.SweepEvery, now: o.Now}
	c := validate.New("sqlstore.Options")
	if db == nil {
		c.Add("db", "required: pass an open *sql.DB", "")
	}
	if o.Dialect != Postgres && o.Dialect != SQLite {
		c.Add("Dialect", "must be sqlstore.Postgres or sqlstore.SQLite", o.Dialect.String())
	}
	if s.table == "" {
		s.table = DefaultTable
	}
	checkTable(c, o.Dialect, s.table)
	if o.TTL < 0 {
		c.Add("TTL", "must not be negative (0 means 24h)", o.TTL.String())
	}
	if s.err = c.Err(); s.err != nil {
		return s
	}
	if s.ttl == 0 {
		s.ttl = delivery.DefaultTTL
	}
	if s.sweep == 0 {
		s.sweep = DefaultSweepEvery
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.prepare(o.Dialect)
	return s
}

// The statements, with $1... placeholders and {t} for the table.
const (
	// beginSQL claims a new key, or one whose row expired (a lease that
	// ran out, a success past its TTL); otherwise it leaves the row as it
	// is. Either way it returns the row, locked by the upsert, so that
	// concurrent claims are serialised by the database.
	beginSQL = `INSERT INTO {t} AS d (delivery_key, owner, state, expires_at) VALUES ($1, $2, 0, $3)
ON CONFLICT (delivery_key) DO UPDATE SET
	owner = CASE WHEN d.expires_at <= $4 THEN excluded.owner ELSE d.owner END,
	state = CASE WHEN d.expires_at <= $4 THEN 0 ELSE d.state END,
	expires_at = CASE WHEN d.expires_at <= $4 THEN excluded.expires_at ELSE d.expires_at END
RETURNING owner, state`
	// successSQL records a success over the owner's claim, over an
	// expired row, or where there is none (a late success after a
	// takeover and release); not over another's live claim or a success.
	successSQL = `INSERT INTO {t} AS d (delivery_key, owner, state, expires_at) VALUES ($1, $2, 1, $3)
ON CONFLICT (delivery_key) DO UPDATE SET owner = excluded.owner, state = 1, expires_at = excluded.expires_at
WHERE (d.state = 0 AND d.owner = excluded.owner) OR d.expires_at <= $4`
	// failureSQL forgets the owner's claim, or an expired row.
	failureSQL = `DELETE FROM {t} WHERE delivery_key = $1 AND ((state = 0 AND owner = $2) OR expires_at <= $3)`
	// heldSQL counts the rows failureSQL left: another's live claim or a
	// success.
	heldSQL  = `SELECT count(*) FROM {t} WHERE delivery_key = $1`
	sweepSQL = `DELETE FROM {t} WHERE delivery_key IN (SELECT delivery_key FROM {t} WHERE expires_at < $1 AND (state = 1 OR expires_at < $2) LIMIT 1000)`
)

var ddl = []string{
	`CREATE TABLE IF NOT EXISTS {t} (
	delivery_key TEXT PRIMARY KEY,
	owner        TEXT NOT NULL,
	state        SMALLINT NOT NULL,
	expires_at   BIGINT NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS {i}` + indexSuffix + ` ON {t} (expires_at)`,
}

func (s *Store) prepare(d Dialect) {
	s.dialect = d
	render := renderer(d, s.table)
	s.begin, s.success, s.failure, s.held, s.sweepSQL = render(beginSQL), render(successSQL), render(failureSQL), render(heldSQL), render(sweepSQL)
	for _, q := range ddl {
		s.ddl = append(s.ddl, render(q))
	}
}

// CreateTable creates the table and its index if they do not exist. Every
// replica may call it at start, all at once (see createTable). It fails
// with the database's error, ctx's when it ends first, or a
// *mergelink.ValidationError for wrong options.
func (s *Store) CreateTable(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	return createTable(ctx, s.db, s.dialect, s.table, s.ddl)
}

// Begin claims key for owner until lease ends: one statement. It fails
// with the database's error (the handler then answers 503), or a
// *mergelink.ValidationError for wrong options or arguments.
func (s *Store) Begin(ctx context.Context, key, owner string, lease time.Duration) (delivery.State, error) {
	if s.err != nil {
		return delivery.Busy, s.err
	}
	if err := delivery.CheckClaim(key, owner, lease); err != nil {
		return delivery.Busy, err
	}
	now := s.now()
	var got string
	var state int
	err := s.db.QueryRowContext(ctx, s.begin, key, owner, now.Add(lease).UnixMilli(), now.UnixMilli()).Scan(&got, &state)
	switch {
	case err != nil:
		return delivery.Busy, fmt.Errorf("sqlstore: claim delivery: %w", err)
	case state == 1:
		return delivery.Done, nil
	case got == owner:
		return delivery.New, nil
	}
	return delivery.Busy, nil
}

// Done ends owner's claim on key: one statement (two for a failure
// reported when the claim is no longer the owner's), and every
// SweepEvery-th call one more that deletes expired rows (whose failure is
// not Done's: the next sweep does it). A late outcome counts when no other
// owner holds a live claim (see delivery.Store). It fails with
// delivery.ErrClaimLost when another owner does or a success is recorded
// already, and with the database's error.
func (s *Store) Done(ctx context.Context, key, owner string, succeeded bool) error {
	if s.err != nil {
		return s.err
	}
	err := s.done(ctx, s.db, key, owner, succeeded)
	if s.sweep > 0 && s.dones.Add(1)%int64(s.sweep) == 0 {
		_ = s.Sweep(ctx) // the outcome is recorded; a failed sweep is done again at the next
	}
	return err
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// done records the outcome through db.
func (s *Store) done(ctx context.Context, db execer, key, owner string, succeeded bool) error {
	now := s.now()
	var res sql.Result
	var err error
	if succeeded {
		res, err = db.ExecContext(ctx, s.success, key, owner, now.Add(s.ttl).UnixMilli(), now.UnixMilli())
	} else {
		res, err = db.ExecContext(ctx, s.failure, key, owner, now.UnixMilli())
	}
	if err != nil {
		return fmt.Errorf("sqlstore: record delivery outcome: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: record delivery outcome: %w", err)
	}
	if n == 1 {
		return nil
	}
	if succeeded {
		return delivery.ErrClaimLost
	}
	if err := db.QueryRowContext(ctx, s.held, key).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: record delivery outcome: %w", err)
	}
	if n > 0 {
		return delivery.ErrClaimLost
	}
	return nil // nothing held the key: it is free, as a failure leaves it
}

// Sweep deletes up to 1000 expired rows: successes past their TTL and
// claims an hour past their lease (so that a late owner's Done still
// finds its claim). Done calls it every SweepEvery calls.
func (s *Store) Sweep(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	now := s.now()
	if _, err := s.db.ExecContext(ctx, s.sweepSQL, now.UnixMilli(), now.Add(-time.Hour).UnixMilli()); err != nil {
		return fmt.Errorf("sqlstore: delete expired deliveries: %w", err)
	}
	return nil
}
