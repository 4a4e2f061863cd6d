// Command receiver is one replica of the fleet test: a mergelink
// WebhookHandler on a shared delivery store (PostgreSQL or Redis) whose
// function appends the delivery's Linked Account id to a file when it
// completes. The fleet test runs several, kills one with SIGKILL, and
// counts the lines. It logs, to stderr, the deliveries whose outcome it
// could not record.
//
//	receiver -addr 127.0.0.1:9000 -store postgres -url postgres://... -table t -completions c.log
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
		store = sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: *name})
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
		if *work > 0 {
			t := time.NewTimer(*work)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		// One write of a short line to an O_APPEND file: whole, even when
		// the process is killed right after.
		_, err := out.WriteString(ev.LinkedAccount.ID + "\n")
		return err
	}, []string{*key}, mergelink.WithDuplicateStore(store), mergelink.WithDeliveryLease(*lease),
		mergelink.WithWebhookLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
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
