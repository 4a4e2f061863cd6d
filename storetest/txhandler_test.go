package storetest

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/delivery/deliverytest"
	"github.com/mergelink/mergelink/sqlstore"
)

// txFixture is a store, a ledger table beside it, and a transactional
// handler whose fn writes one ledger row per call and then does what
// then says.
type txFixture struct {
	db     *sql.DB
	store  *sqlstore.Store
	clock  *deliverytest.Clock
	ledger string
	calls  atomic.Int32
	then   func(ctx context.Context, ev *mergelink.WebhookEvent) error
	h      http.Handler
}

func newTxFixture(t *testing.T, dialect sqlstore.Dialect, db *sql.DB) *txFixture {
	t.Helper()
	f := &txFixture{db: db, clock: deliverytest.NewClock(), ledger: newTable() + "_ledger"}
	f.store = newSQLStore(t, db, sqlstore.Options{Dialect: dialect, Now: f.clock.Now})
	_, err := db.Exec("CREATE TABLE " + f.ledger + " (account_id TEXT NOT NULL, delivery_key TEXT NOT NULL)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + f.ledger) })
	h, err := sqlstore.NewWebhookHandler(f.store, func(ctx context.Context, tx *sql.Tx, ev *mergelink.WebhookEvent) error {
		f.calls.Add(1)
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+f.ledger+" (account_id, delivery_key) VALUES ($1, $2)", ev.LinkedAccount.ID, ev.DeliveryKey()); err != nil {
			return err
		}
		if f.then != nil {
			return f.then(ctx, ev)
		}
		return nil
	}, []string{"key"}, mergelink.WithDeliveryLease(time.Minute))
	require.NoError(t, err)
	f.h = h
	return f
}

// post sends body signed and returns the status.
func (f *txFixture) post(body string) int { return postSigned(f.h, body, "key") }

// rows returns the ledger's rows for the delivery of body.
func (f *txFixture) rows(t *testing.T, body string) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.QueryRow("SELECT count(*) FROM "+f.ledger+" WHERE delivery_key = $1", delivery.Key([]byte(body))).Scan(&n))
	return n
}

func linkedBody(id string) string {
	return `{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"` + id + `"},"data":{"account_token":"tok"}}`
}

// fn's writes through the transaction and the recorded success commit
// together: once on success (copies do not run fn), never on a failure or
// when the claim was lost before the commit, on PostgreSQL and SQLite.
func TestTransactionalHandler(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			t.Run("success commits once", func(t *testing.T) {
				f := newTxFixture(t, d.dialect, db)
				body := linkedBody("la-1")
				for range 3 {
					assert.Equal(t, http.StatusOK, f.post(body))
				}
				assert.Equal(t, int32(1), f.calls.Load())
				assert.Equal(t, 1, f.rows(t, body))
			})
			t.Run("failure rolls back and releases the claim", func(t *testing.T) {
				f := newTxFixture(t, d.dialect, db)
				f.then = func(context.Context, *mergelink.WebhookEvent) error { return errors.New("boom") }
				body := linkedBody("la-2")
				assert.Equal(t, http.StatusInternalServerError, f.post(body))
				assert.Equal(t, 0, f.rows(t, body), "the failed call's write was rolled back")
				f.then = nil
				assert.Equal(t, http.StatusOK, f.post(body), "the retry runs at once")
				assert.Equal(t, 1, f.rows(t, body))
			})
			t.Run("claim lost before the commit rolls back", func(t *testing.T) {
				f := newTxFixture(t, d.dialect, db)
				body := linkedBody("la-3")
				f.then = func(ctx context.Context, ev *mergelink.WebhookEvent) error {
					// fn overran its lease and another copy took the
					// delivery over.
					f.clock.Advance(2 * time.Minute)
					state, err := f.store.Begin(context.Background(), ev.DeliveryKey(), "other-copy", time.Minute)
					if err != nil || state != delivery.New {
						return errors.Join(errors.New("takeover failed"), err)
					}
					return nil
				}
				if d.dialect == sqlstore.SQLite {
					t.Skip("SQLite: the takeover's write would wait for the open transaction's lock")
				}
				assert.Equal(t, http.StatusServiceUnavailable, f.post(body))
				assert.Equal(t, 0, f.rows(t, body), "nothing committed: the other copy runs fn")
			})
			t.Run("test payload runs in a transaction that records nothing", func(t *testing.T) {
				f := newTxFixture(t, d.dialect, db)
				body := `{"response":"Success! This URL will be notified."}`
				assert.Equal(t, http.StatusOK, f.post(body))
				assert.Equal(t, http.StatusOK, f.post(body))
				assert.Equal(t, 2, f.rows(t, body))
			})
		})
	}
}

// The Agent Handler's equivalent commits its writes with the success too.
func TestTransactionalAgentHandler(t *testing.T) {
	t.Parallel()
	db := sqlite(t)
	store := newSQLStore(t, db, sqlstore.Options{Dialect: sqlstore.SQLite})
	_, err := db.Exec("CREATE TABLE ledger (delivery_key TEXT NOT NULL)")
	require.NoError(t, err)
	h, err := sqlstore.NewAgentWebhookHandler(store, func(ctx context.Context, tx *sql.Tx, ev *agenthandler.WebhookEvent) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO ledger (delivery_key) VALUES ($1)", ev.DeliveryKey())
		return err
	}, []string{"key"})
	require.NoError(t, err)
	body := `{"id":"evt-1","event":"credential.created","data":{}}`
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set(agenthandler.SignatureHeader, agenthandler.SignWebhook([]byte(body), "key"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code)
	}
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM ledger WHERE delivery_key = $1", delivery.Key([]byte(body))).Scan(&n))
	assert.Equal(t, 1, n)
}

func TestTransactionalHandlerWrongArguments(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*sqlstore.Store{"nil store": nil, "wrong options": sqlstore.New(nil, sqlstore.Options{})} {
		_, err := sqlstore.NewWebhookHandler(s, nil, []string{"key"})
		var verr *mergelink.ValidationError
		require.ErrorAs(t, err, &verr, name)
	}
}
