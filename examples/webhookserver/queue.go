package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/riverinbox"
	"github.com/mergelink/mergelink/sqlstore"
)

// The values of -queue.
const (
	queueInline  = "inline"  // verify and process while Merge waits
	queueBoth    = "both"    // receive into River and work it here
	queueReceive = "receive" // receive into River only
	queueWork    = "work"    // work River's jobs only, no listener
)

// queueModes are the values -queue takes.
var queueModes = []string{queueInline, queueBoth, queueReceive, queueWork}

// migrationLock is the PostgreSQL advisory lock that makes servers
// starting together run River's migrations one at a time.
const migrationLock = 0x6d657267656c696e // "mergelin"

// stopTimeout bounds how long a stopping worker waits for its running
// jobs before cancelling them; a cancelled job is worked again later.
const stopTimeout = 10 * time.Second

// newQueue runs River's migrations on accts' database and returns a River
// client on it: with the worker of the deliveries' jobs unless mode is
// queueReceive. River's own logs go to logs at warn level.
//
// Its driver takes the server's *sql.DB: riverdatabasesql for PostgreSQL
// (through pgx's database/sql driver), riversqlite for SQLite. So a job's
// transaction is a *sql.Tx on either, the one accounts writes through.
func newQueue(ctx context.Context, mode string, accts *accounts, logger *slog.Logger, logs io.Writer) (*river.Client[*sql.Tx], error) {
	var driver riverdriver.Driver[*sql.Tx] = riverdatabasesql.New(accts.db)
	if accts.dialect == sqlstore.SQLite {
		driver = riversqlite.New(accts.db)
	}
	if err := migrate(ctx, accts, driver); err != nil {
		return nil, fmt.Errorf("migrating the queue (River): %w", err)
	}
	cfg := &river.Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if mode != queueReceive {
		worker, err := riverinbox.NewWorker(func(ctx context.Context, job *river.Job[riverinbox.Args], ev *mergelink.WebhookEvent) error {
			return work(ctx, accts, logger, job, ev)
		})
		if err != nil {
			return nil, err
		}
		cfg.Workers = river.NewWorkers()
		river.AddWorker(cfg.Workers, worker)
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}}
	}
	return river.NewClient(driver, cfg)
}

// work processes one queued event as the inline handler does, and
// completes its job in the same transaction (river.JobCompleteTx): the
// token is written, or dropped, and the job completed, together or not at
// all, so each delivery's effect happens once even when a worker dies
// mid-job and River works the job again. It logs after the commit.
func work(ctx context.Context, accts *accounts, logger *slog.Logger, job *river.Job[riverinbox.Args], ev *mergelink.WebhookEvent) error {
	tx, err := accts.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, does nothing
	msg, attrs, err := process(ctx, tx, accts, ev)
	if err != nil {
		return err // River retries the job with backoff
	}
	if _, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, job); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	logger.InfoContext(ctx, msg, append(attrs, "job", job.ID)...)
	return nil
}

// migrate runs River's migrations with its migrator, safely when several
// servers start at once: on PostgreSQL one at a time, under an advisory
// lock; on SQLite, where the server that loses the race fails on what the
// other made, by trying again (each failure means the other committed a
// step), up to 5 times.
func migrate(ctx context.Context, accts *accounts, driver riverdriver.Driver[*sql.Tx]) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if accts.dialect == sqlstore.Postgres {
		conn, err := accts.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
		_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	for attempt := 1; ; attempt++ {
		_, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err == nil || attempt == 5 || ctx.Err() != nil {
			return err
		}
	}
}

// startQueue starts client's workers and returns the function that stops
// them, waiting up to stopTimeout for the running jobs. The workers run
// until that function is called, not until ctx ends, so that a server
// stops receiving before its workers stop.
func startQueue(ctx context.Context, client *river.Client[*sql.Tx]) (stop func(), err error) {
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	return func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		if client.Stop(stopCtx) != nil {
			client.StopAndCancel(context.WithoutCancel(ctx))
		}
	}, nil
}
