package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for DATABASE_URL
	_ "modernc.org/sqlite"             // the "sqlite" driver, pure Go

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/cli"
	"github.com/mergelink/mergelink/riverinbox"
	"github.com/mergelink/mergelink/sqlstore"
)

// keysEnv is the environment variable that holds the webhook signature
// keys, comma-separated.
const keysEnv = "MERGE_WEBHOOK_KEYS"

// webhookPath is where the server receives webhooks.
const webhookPath = "/webhooks"

// databaseEnv is the environment variable that, when set, names the
// PostgreSQL database to use instead of the SQLite file.
const databaseEnv = "DATABASE_URL"

// run serves webhooks until ctx ends, with the command-line args (without
// the program name) and the environment env, logging to logs, and returns
// the exit status; with -disconnect, it disconnects one Linked Account
// instead. extra options go to the client of -disconnect after the
// region's, so that a test can point it at mergetest.
func run(ctx context.Context, args []string, env func(string) string, logs io.Writer, extra ...mergelink.Option) int {
	fs := flag.NewFlagSet("webhookserver", flag.ContinueOnError)
	fs.SetOutput(logs)
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on")
	dbPath := fs.String("db", "webhookserver.db", "the SQLite file that keeps accounts and processed deliveries, unless "+databaseEnv+" is set")
	disconnectID := fs.String("disconnect", "", "disconnect the Linked Account with this id, as a Disconnect button does, then exit: "+
		"Merge deletes it (with its stored account token and "+cli.APIKeyEnv+") and sends LinkedAccount.deleted")
	region := fs.String("region", "us", "the region of -disconnect's call: us, eu or apac")
	queue := fs.String("queue", queueInline, "how deliveries are processed: "+queueInline+" (while Merge waits for the answer), "+
		queueBoth+" (answered once queued in River, in the same database, and worked in this process), "+
		queueReceive+" (answered once queued; other processes work them) or "+queueWork+" (only work the queue: no listener)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: webhookserver [flags]\n\n"+
			"Receives Merge webhooks at %s, verified with the signature keys in %s\n"+
			"(comma-separated, both during a rotation). Keeps account tokens, sealed with\n"+
			"AES-256-GCM under the base64 key in %s, and the deliveries it processed,\n"+
			"in the SQLite file -db, or in PostgreSQL when %s is set (then several\n"+
			"copies form a fleet).\n\n", webhookPath, keysEnv, sealKeyEnv, databaseEnv)
		fs.PrintDefaults()
	}
	if exit, done := cli.ParseFlags(fs, args, logs); done {
		return exit
	}
	if *disconnectID != "" {
		return runDisconnect(ctx, *disconnectID, *region, *dbPath, env, logs, extra)
	}
	if !slices.Contains(queueModes, *queue) {
		return cli.Report(logs, "webhookserver", cli.Usage(fmt.Errorf("-queue %q: give one of %s", *queue, strings.Join(queueModes, ", "))), nil)
	}
	keys := parseKeys(env(keysEnv))
	if len(keys) == 0 && *queue != queueWork {
		return cli.Report(logs, "webhookserver", cli.Usage(errors.New(keysEnv+" is not set: export the signature key of Merge's dashboard (Webhooks, Security); during a rotation give both keys, comma-separated")), nil)
	}
	seal, err := newSealer(env(sealKeyEnv))
	if err != nil {
		return cli.Report(logs, "webhookserver", cli.Usage(err), nil)
	}

	logger := slog.New(slog.NewTextHandler(logs, nil))
	db, accts, deliveries, where, err := openStores(ctx, env(databaseEnv), *dbPath, seal)
	if err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	defer db.Close()
	h, stopWorkers, err := newServer(ctx, *queue, keys, accts, deliveries, logger, logs)
	if err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	defer stopWorkers()
	if h == nil {
		logger.Info("working queued Merge webhooks", "store", where)
		<-ctx.Done()
	} else {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return cli.Report(logs, "webhookserver", err, nil)
		}
		logger.Info("receiving Merge webhooks", "url", "http://"+ln.Addr().String()+webhookPath, "keys", len(keys), "store", where, "queue", *queue)
		if err := cli.Serve(ctx, ln, h); err != nil {
			return cli.Report(logs, "webhookserver", err, nil)
		}
	}
	stopWorkers()
	logger.Info("stopped")
	return cli.ExitOK
}

// newServer returns the handler of the -queue mode (nil for queueWork)
// and the function that stops its workers (one that does nothing when it
// has none), which may be called more than once.
func newServer(ctx context.Context, mode string, keys []string, accts *accounts, deliveries *sqlstore.Store, logger *slog.Logger, logs io.Writer) (http.Handler, func(), error) {
	if mode == queueInline {
		h, err := newHandler(keys, accts, deliveries, logger)
		return h, func() {}, err
	}
	if accts.dialect == sqlstore.SQLite {
		accts.db.SetMaxOpenConns(1) // as River advises for SQLite: one writer
	}
	client, err := newQueue(ctx, mode, accts, logger, logs)
	if err != nil {
		return nil, nil, err
	}
	stop := func() {}
	if mode != queueReceive {
		if stop, err = startQueue(ctx, client); err != nil {
			return nil, nil, err
		}
	}
	if mode == queueWork {
		return nil, sync.OnceFunc(stop), nil
	}
	inbox, err := riverinbox.NewHandler(client, keys, riverinbox.Options{Logger: logger}, mergelink.WithWebhookLogger(logger))
	if err != nil {
		stop()
		return nil, nil, err
	}
	return routes(inbox), sync.OnceFunc(stop), nil
}

// openStores opens PostgreSQL at url when it is set, or else the SQLite
// file path, and creates the tables of accounts and of deliveries. where
// says which, without the URL's password.
func openStores(ctx context.Context, url, path string, seal *sealer) (db *sql.DB, accts *accounts, deliveries *sqlstore.Store, where string, err error) {
	dialect := sqlstore.SQLite
	if url != "" {
		dialect, where = sqlstore.Postgres, "postgres"
		db, err = sql.Open("pgx", url)
	} else {
		where = "sqlite:" + path
		db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	}
	if err != nil {
		return nil, nil, nil, "", databaseError(url, err)
	}
	accts = &accounts{db: db, dialect: dialect, seal: seal}
	deliveries = sqlstore.New(db, sqlstore.Options{Dialect: dialect})
	if err = accts.createTable(ctx); err == nil {
		err = deliveries.CreateTable(ctx) // safe from every replica at once
	}
	if err != nil {
		db.Close()
		return nil, nil, nil, "", fmt.Errorf("%s: %w", where, databaseError(url, err))
	}
	return db, accts, deliveries, where, nil
}

// databaseError returns err without the secrets of DATABASE_URL, url:
// when pgx cannot parse a URL, its error quotes it, hiding a password in
// the user info but not one in the query (?password=). The URL then shows
// as the SDK shows every URL, with the reason pgx gives when it does not
// quote the URL too.
func databaseError(url string, err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return err
	}
	reason := "it does not parse"
	var ue *neturl.Error
	if inner := errors.Unwrap(pe); inner != nil && !errors.As(inner, &ue) {
		reason += ": " + inner.Error()
	}
	return fmt.Errorf("%s %s: %s: write it as postgres://user:password@host:port/database?sslmode=require", databaseEnv, cli.QuoteURL(url), reason)
}

// runDisconnect disconnects the Linked Account with id, whose token the
// database at dbPath (or DATABASE_URL) holds, and returns the exit status.
func runDisconnect(ctx context.Context, id, region, dbPath string, env func(string) string, logs io.Writer, extra []mergelink.Option) int {
	c, err := cli.NewClient(env, region, extra...)
	if err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	seal, err := newSealer(env(sealKeyEnv))
	if err != nil {
		return cli.Report(logs, "webhookserver", cli.Usage(err), nil)
	}
	db, accts, _, _, err := openStores(ctx, env(databaseEnv), dbPath, seal)
	if err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	defer db.Close()
	a, err := disconnect(ctx, c, accts, id)
	if err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	slog.New(slog.NewTextHandler(logs, nil)).Info("Linked Account disconnected: Merge deleted it and will send LinkedAccount.deleted", "account", a)
	return cli.ExitOK
}

// parseKeys splits a comma-separated list of keys, dropping blanks.
func parseKeys(s string) []string {
	var keys []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// newHandler returns the server's handler: POST webhookPath takes webhooks
// signed with one of keys, keeps the account tokens they carry in accts
// and runs each delivery once across every server that shares deliveries.
// It fails as mergelink.NewWebhookHandler does.
func newHandler(keys []string, accts *accounts, deliveries mergelink.DeliveryStore, logger *slog.Logger) (http.Handler, error) {
	wh, err := mergelink.NewWebhookHandler(func(ctx context.Context, ev *mergelink.WebhookEvent) error {
		msg, attrs, err := process(ctx, accts.db, accts, ev)
		if err != nil {
			return err // answered 500: Merge retries
		}
		logger.InfoContext(ctx, msg, attrs...)
		return nil
	}, keys, mergelink.WithDuplicateStore(deliveries), mergelink.WithWebhookLogger(logger))
	if err != nil {
		return nil, err
	}
	return routes(wh), nil
}

// routes serves h at webhookPath.
func routes(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(webhookPath, h)
	return mux
}

// process does what the server does with one verified event, writing
// through q: it keeps the account token a LinkedAccount webhook carries,
// or forgets the token of a deleted account. It returns what to log once
// q's writes are committed, and fails when a write does.
func process(ctx context.Context, q execer, accts *accounts, ev *mergelink.WebhookEvent) (msg string, attrs []any, err error) {
	if gone, deleted := ev.Deleted(); deleted {
		// Disconnected here (-disconnect), in Merge's dashboard or by
		// Merge: the token no longer works, so it is not kept.
		known, err := accts.remove(ctx, q, gone.ID)
		if err != nil {
			return "", nil, err
		}
		return "Linked Account deleted", []any{"linked_account_id", gone.ID, "token_dropped", known}, nil
	}
	a, ok, err := accts.save(ctx, q, ev)
	switch {
	case err != nil:
		return "", nil, err
	case ok:
		return "account token stored", []any{"event", ev.Type(), "account", a}, nil
	case ev.IsTest():
		return "test webhook from Merge's dashboard received", nil, nil
	}
	return "webhook received", []any{"event", ev}, nil
}
