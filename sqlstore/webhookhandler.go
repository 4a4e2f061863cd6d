package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/validate"
	"github.com/mergelink/mergelink/internal/webhookcore"
)

// NewWebhookHandler returns a mergelink.WebhookHandler whose fn runs in a
// transaction of store's database, in which the handler also records the
// delivery's success: fn's writes through tx and the record commit
// together or not at all. Whichever process dies and whenever, the writes
// fn makes through tx therefore happen exactly once per distinct delivery
// (distinct signed body), as long as Merge retries until it gets a 2xx; a
// 2xx means they are committed. What fn does outside tx (a call to another
// service, say) is still at least once: key it by ev.DeliveryKey().
//
// The delivery is claimed first, as with mergelink.WithDuplicateStore(store)
// (so that copies wait rather than run fn at the same time); fn's error
// rolls the transaction back and answers 500, and a transaction that does
// not commit (the database failed, or the claim's lease ran out and another
// copy took the delivery over) answers 503, so that Merge retries. fn and
// the commit share fn's context, which ends after four fifths of the lease.
// The dashboard's test payload runs fn in a transaction that records
// nothing. opts are those of mergelink.NewWebhookHandler; a
// WithDuplicateStore among them is overridden by store.
//
// On SQLite, open the database with "_txlock=immediate" (modernc.org/sqlite)
// so that a transaction that reads before it writes waits for the lock
// rather than failing.
//
// It fails as mergelink.NewWebhookHandler does, and with a
// *mergelink.ValidationError when store or fn is nil or store's options are
// wrong.
func NewWebhookHandler(store *Store, fn func(ctx context.Context, tx *sql.Tx, ev *mergelink.WebhookEvent) error, keys []string, opts ...mergelink.WebhookOption) (*mergelink.WebhookHandler, error) {
	call, opt, err := transactional(store, fn, "sqlstore.NewWebhookHandler")
	if err != nil {
		return nil, err
	}
	return mergelink.NewWebhookHandler(call, keys, append(opts, opt)...)
}

// NewAgentWebhookHandler is NewWebhookHandler for Agent Handler's
// webhooks: an agenthandler.WebhookHandler whose fn's writes through tx
// and the delivery's recorded success commit together. opts are those of
// agenthandler.NewWebhookHandler.
func NewAgentWebhookHandler(store *Store, fn func(ctx context.Context, tx *sql.Tx, ev *agenthandler.WebhookEvent) error, keys []string, opts ...agenthandler.WebhookOption) (*agenthandler.WebhookHandler, error) {
	call, opt, err := transactional(store, fn, "sqlstore.NewAgentWebhookHandler")
	if err != nil {
		return nil, err
	}
	return agenthandler.NewWebhookHandler(call, keys, append(opts, opt)...)
}

// txKey carries the transaction from Store.transact to fn.
type txKey struct{}

// transactional turns fn into a handler's function, which finds its
// transaction in its context, and the option that makes the handler run
// it through store's transactions.
func transactional[E any](store *Store, fn func(context.Context, *sql.Tx, E) error, params string) (func(context.Context, E) error, webhookcore.Option, error) {
	c := validate.New(params)
	if store == nil {
		c.Add("store", "required: pass the *sqlstore.Store whose database fn writes to", "")
	}
	if fn == nil {
		c.Add("fn", "required: pass the function that handles each event", "")
	}
	if err := c.Err(); err != nil {
		return nil, nil, err
	}
	if store.err != nil {
		return nil, nil, store.err
	}
	call := func(ctx context.Context, ev E) error {
		return fn(ctx, ctx.Value(txKey{}).(*sql.Tx), ev)
	}
	return call, webhookcore.WithTransact(store, store.transact), nil
}

// transact runs call in a transaction and, unless key is empty, records
// in it the success of owner's claim on key (a webhookcore.Transact).
func (s *Store) transact(ctx context.Context, key, owner string, call func(context.Context) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin transaction: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	if err := call(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err
	}
	if key != "" {
		if err := s.done(ctx, tx, key, owner, true); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit the delivery's transaction: %w", err)
	}
	return nil
}
