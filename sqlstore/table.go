package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// This file holds what the package's two tables, the deliveries' and the
// callback states', share: the rules for their names, the rendering of
// their statements, and a CreateTable safe from every replica at once.

var tableName = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$`)

// maxName is the longest name PostgreSQL keeps whole (NAMEDATALEN-1);
// indexSuffix ends the name of a table's index, after the table's.
const (
	maxName     = 63
	indexSuffix = "_expires_at"
)

// checkTable adds to c the problems of a table name: not a plain SQL name
// (schema.table only on PostgreSQL), or one PostgreSQL would cut, its
// index's included.
func checkTable(c *validate.Checker, d Dialect, name string) {
	if !tableName.MatchString(name) || (d == SQLite && strings.Contains(name, ".")) {
		c.Add("Table", "must be letters, digits and underscores, optionally schema.table on PostgreSQL", name)
	} else if schema, bare := splitTable(name); len(schema) > maxName || len(bare)+len(indexSuffix) > maxName {
		c.Add("Table", fmt.Sprintf("the schema must be at most %d bytes and the table at most %d (PostgreSQL cuts names past %d, so two longer names could share a table, and the index is named table%s)", maxName, maxName-len(indexSuffix), maxName, indexSuffix), name)
	}
}

// splitTable splits "schema.table" into its parts; schema is empty when
// there is none.
func splitTable(name string) (schema, bare string) {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

// sqlitePlaceholder turns $N into SQLite's ?N.
var sqlitePlaceholder = strings.NewReplacer("$1", "?1", "$2", "?2", "$3", "?3", "$4", "?4")

// renderer returns what writes a statement for table in dialect d: {t}
// becomes the table, {i} its name without the schema (for its index), and
// $N SQLite's ?N there.
func renderer(d Dialect, table string) func(string) string {
	_, bare := splitTable(table)
	r := strings.NewReplacer("{t}", table, "{i}", bare)
	return func(q string) string {
		q = r.Replace(q)
		if d == SQLite {
			q = sqlitePlaceholder.Replace(q)
		}
		return q
	}
}

// createTable runs ddl, which creates table if it does not exist. Every
// replica may call it at start, all at once: on PostgreSQL it runs in a
// transaction under an advisory lock named after the table (CREATE ... IF
// NOT EXISTS alone is not safe against concurrent calls there); on SQLite
// it tries again, with short waits, while the database is locked by
// another connection.
func createTable(ctx context.Context, db *sql.DB, d Dialect, table string, ddl []string) error {
	wait := time.Millisecond
	for {
		err := createTableOnce(ctx, db, d, table, ddl)
		if err == nil {
			return nil
		}
		if d != SQLite || !locked(err) {
			return fmt.Errorf("sqlstore: create table %s: %w", table, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			wait = min(2*wait, 100*time.Millisecond)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlstore: create table %s: %w (after: %w)", table, ctx.Err(), err)
		}
	}
}

func createTableOnce(ctx context.Context, db *sql.DB, d Dialect, table string, ddl []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	if d == Postgres {
		h := fnv.New64a()
		h.Write([]byte("mergelink sqlstore CreateTable " + table))
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
			return err
		}
	}
	for _, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// locked reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED,
// which the busy timeout does not always absorb (while several
// connections set up a new database, say). The drivers differ in their
// error types but agree on the text.
func locked(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "database table is locked") || strings.Contains(msg, "SQLITE_BUSY")
}
