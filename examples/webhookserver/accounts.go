package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/accountstore"
	"github.com/mergelink/mergelink/sqlstore"
)

// accounts keeps the accounts that LinkedAccount webhooks carry in a SQL
// table, their tokens sealed. Several servers may share it.
type accounts struct {
	db      *sql.DB
	dialect sqlstore.Dialect
	seal    *sealer
}

const accountsDDL = `CREATE TABLE IF NOT EXISTS webhookserver_accounts (
	linked_account_id  TEXT PRIMARY KEY,
	end_user_origin_id TEXT NOT NULL,
	integration        TEXT NOT NULL,
	sealed_token       %s NOT NULL,
	category           TEXT NOT NULL DEFAULT ''
)`

// createTable creates the accounts table if it does not exist. Every
// replica calls it at start, perhaps all at once, as sqlstore's CreateTable
// allows. PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against
// concurrent calls (one of them can fail on a unique index of the
// catalog), so there it runs in a transaction under an advisory lock. On
// SQLite a server that starts beside another (a receiver and a worker on
// one file) can find the new database locked in a way the busy timeout
// does not absorb, so it tries again, with short waits, while it is.
func (a *accounts) createTable(ctx context.Context) error {
	if a.dialect != sqlstore.Postgres {
		for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
			_, err := a.db.ExecContext(ctx, fmt.Sprintf(accountsDDL, "BLOB"))
			if err == nil || !strings.Contains(err.Error(), "database is locked") {
				return err
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return err
			}
		}
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('webhookserver_accounts'))`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(accountsDDL, "BYTEA")); err != nil {
		return err
	}
	return tx.Commit()
}

// q writes a query's placeholders as the dialect wants.
func (a *accounts) q(pg, sqlite string) string {
	if a.dialect == sqlstore.Postgres {
		return pg
	}
	return sqlite
}

// execer runs a statement: a *sql.DB, or a *sql.Tx whose other writes
// (a River job's completion) commit with it.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// save stores the account an event carries through q, if it carries a
// token, and reports whether it did.
func (a *accounts) save(ctx context.Context, q execer, ev *mergelink.WebhookEvent) (accountstore.Account, bool, error) {
	token, ok := ev.AccountToken()
	if !ok || token == "" || ev.LinkedAccount.ID == "" {
		return accountstore.Account{}, false, nil
	}
	acc := accountstore.Account{
		ID:              ev.LinkedAccount.ID,
		EndUserOriginID: ev.LinkedAccount.EndUserOriginID,
		Integration:     ev.LinkedAccount.Integration,
		AccountToken:    token,
	}
	_, err := q.ExecContext(ctx, a.q(
		`INSERT INTO webhookserver_accounts VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (linked_account_id) DO UPDATE SET end_user_origin_id = excluded.end_user_origin_id,
			integration = excluded.integration, sealed_token = excluded.sealed_token, category = excluded.category`,
		`INSERT INTO webhookserver_accounts VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (linked_account_id) DO UPDATE SET end_user_origin_id = excluded.end_user_origin_id,
			integration = excluded.integration, sealed_token = excluded.sealed_token, category = excluded.category`),
		acc.ID, acc.EndUserOriginID, acc.Integration, a.seal.seal(acc.ID, token), ev.LinkedAccount.Category)
	if err != nil {
		return accountstore.Account{}, false, fmt.Errorf("store account %s: %w", acc.ID, err)
	}
	return acc, true, nil
}

// byID returns the account with a Linked Account id; ok is false when
// there is none.
func (a *accounts) byID(ctx context.Context, id string) (acc accountstore.Account, ok bool, err error) {
	return a.get(ctx, a.q(`linked_account_id = $1`, `linked_account_id = ?`), id)
}

// byOrigin returns the latest account of an end user origin id.
func (a *accounts) byOrigin(ctx context.Context, origin string) (acc accountstore.Account, ok bool, err error) {
	return a.get(ctx, a.q(`end_user_origin_id = $1`, `end_user_origin_id = ?`), origin)
}

func (a *accounts) get(ctx context.Context, where, arg string) (accountstore.Account, bool, error) {
	var acc accountstore.Account
	var sealed []byte
	err := a.db.QueryRowContext(ctx, `SELECT linked_account_id, end_user_origin_id, integration, sealed_token
		FROM webhookserver_accounts WHERE `+where+` LIMIT 1`, arg).Scan(&acc.ID, &acc.EndUserOriginID, &acc.Integration, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return acc, false, nil
	}
	if err != nil {
		return acc, false, err
	}
	if acc.AccountToken, err = a.seal.open(acc.ID, sealed); err != nil {
		return acc, false, err
	}
	return acc, true, nil
}
