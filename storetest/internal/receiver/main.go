// Command receiver is one replica of the fleet test: a mergelink
// WebhookHandler on a shared delivery store (PostgreSQL or Redis) whose
// function appends the delivery's Linked Account id to a file when it
// completes. The fleet test runs several, kills one with SIGKILL, and
// counts the lines. It logs, to stderr, the deliveries whose outcome it
// could not record.
//
//	receiver -addr 127.0.0.1:9000 -store postgres -url postgres://... -table t -completions c.log
//
// With -tx LEDGER (PostgreSQL only) it is sqlstore's transactional
// handler instead, whose function inserts the delivery's Linked Account id
// into the table LEDGER through the transaction; with -die-at N it kills
// itself (SIGKILL) in its N-th call, after that insert and before the
// commit. On PostgreSQL it calls CreateTable at start, as every replica
// of a real receiver may.
//
// It prints "listening" once it serves.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/redisstore"
	"github.com/mergelink/mergelink/sqlstore"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	kind := flag.String("store", "", "postgres or redis")
	url := flag.String("url", "", "the store's URL")
	name := flag.String("name", "", "the table (postgres) or key prefix (redis)")
	lease := flag.Duration("lease", mergelink.DefaultDeliveryLease, "the delivery lease")
	work := flag.Duration("work", 0, "how long fn works before it completes")
	path := flag.String("completions", "", "file to which fn appends each completed delivery's id")
	key := flag.String("key", "", "the webhook signature key")
	ledger := flag.String("tx", "", "the ledger table of the transactional handler (postgres)")
	dieAt := flag.Int64("die-at", 0, "with -tx, SIGKILL itself in this call of fn, before the commit")
	flag.Parse()

	var store mergelink.DeliveryStore
	switch *kind {
	case "postgres":
		db, err := sql.Open("pgx", *url)
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxIdleConns(64)
		sqlStore := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: *name})
		if err := sqlStore.CreateTable(context.Background()); err != nil {
			return err
		}
		if *ledger != "" {
			return serve(*addr, transactional(sqlStore, *ledger, *dieAt, *work, *key, *lease))
		}
		store = sqlStore
	case "redis":
		opt, err := redis.ParseURL(*url)
		if err != nil {
			return err
		}
		opt.PoolSize = 64
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		store = redisstore.New(rdb, redisstore.Options{Prefix: *name})
	default:
		return fmt.Errorf("-store %q: want postgres or redis", *kind)
	}
	out, err := os.OpenFile(*path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()

	h, err := mergelink.NewWebhookHandler(func(ctx context.Context, ev *mergelink.WebhookEvent) error {
		if err := wait(ctx, *work); err != nil {
			return err
		}
		// One write of a short line to an O_APPEND file: whole, even when
		// the process is killed right after.
		_, err := out.WriteString(ev.LinkedAccount.ID + "\n")
		return err
	}, []string{*key}, mergelink.WithDuplicateStore(store), mergelink.WithDeliveryLease(*lease),
		mergelink.WithWebhookLogger(logger))
	if err != nil {
		return err
	}
	return serve(*addr, h)
}

// logger logs the handler's warnings to stderr.
var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// transactional is the handler of -tx.
func transactional(store *sqlstore.Store, ledger string, dieAt int64, work time.Duration, key string, lease time.Duration) http.Handler {
	var calls atomic.Int64
	h, err := sqlstore.NewWebhookHandler(store, func(ctx context.Context, tx *sql.Tx, ev *mergelink.WebhookEvent) error {
		if err := wait(ctx, work); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+ledger+" (account_id, delivery_key) VALUES ($1, $2)", ev.LinkedAccount.ID, ev.DeliveryKey()); err != nil {
			return err
		}
		if calls.Add(1) == dieAt {
			fmt.Fprintln(os.Stderr, "receiver: dying between fn and commit")
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		return nil
	}, []string{key}, mergelink.WithDeliveryLease(lease), mergelink.WithWebhookLogger(logger))
	if err != nil {
		panic(err) // the arguments are the program's own
	}
	return h
}

// wait waits d, or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serve serves h on addr until SIGTERM.
func serve(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Println("listening")
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
