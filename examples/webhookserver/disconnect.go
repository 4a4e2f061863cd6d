package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/accountstore"
)

// categoryOf returns the category of the stored account with a Linked
// Account id, which its calls after the link go to.
func (a *accounts) categoryOf(ctx context.Context, id string) (mergelink.Category, error) {
	var category string
	err := a.db.QueryRowContext(ctx, a.q(`SELECT category FROM webhookserver_accounts WHERE linked_account_id = $1`,
		`SELECT category FROM webhookserver_accounts WHERE linked_account_id = ?`), id).Scan(&category)
	return mergelink.Category(category), err
}

// remove forgets the account with a Linked Account id, and its token,
// through q; it reports whether there was one.
func (a *accounts) remove(ctx context.Context, q execer, id string) (bool, error) {
	res, err := q.ExecContext(ctx, a.q(`DELETE FROM webhookserver_accounts WHERE linked_account_id = $1`,
		`DELETE FROM webhookserver_accounts WHERE linked_account_id = ?`), id)
	if err != nil {
		return false, fmt.Errorf("forget account %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// errNotStored is disconnect's error for an id the server holds no token
// of.
var errNotStored = errors.New("no account token is stored for this Linked Account: only accounts whose LinkedAccount.linked webhook this server received can be disconnected")

// disconnect does what a Disconnect button does: it deletes the Linked
// Account with id at Merge, with the account token stored for it, then
// forgets the token. Merge then sends LinkedAccount.deleted, which the
// server takes as the same request. It returns the account it
// disconnected.
func disconnect(ctx context.Context, c *mergelink.Client, accts *accounts, id string) (accountstore.Account, error) {
	acc, ok, err := accts.byID(ctx, id)
	if err == nil && !ok {
		err = errNotStored
	}
	if err != nil {
		return acc, fmt.Errorf("linked account %s: %w", id, err)
	}
	category, err := accts.categoryOf(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || err == nil && category == "" {
		err = errors.New("its category is not stored (an account stored before categories were): disconnect it in Merge's dashboard")
	}
	if err != nil {
		return acc, fmt.Errorf("linked account %s: %w", id, err)
	}
	if err := c.Account(category, acc.AccountToken).Delete(ctx); err != nil {
		return acc, fmt.Errorf("deleting Linked Account %s at Merge: %w", id, err)
	}
	if _, err := accts.remove(ctx, accts.db, id); err != nil {
		return acc, err
	}
	return acc, nil
}
