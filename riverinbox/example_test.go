package riverinbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/riverinbox"
)

// A receiver that answers Merge at once, and a worker whose effect (an
// account's token saved) happens exactly once: it is written in a
// transaction that also completes the job (river.JobCompleteTx), so both
// commit together or not at all. The queue is in a SQLite file here; on
// PostgreSQL, use riverpgxv5 (pgxpool.Pool.Begin and
// river.JobCompleteTx[*riverpgxv5.Driver]) or riverdatabasesql the same
// way.
func ExampleNewWorker() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "inbox")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // as riversqlite advises
	db.Exec("CREATE TABLE accounts (id TEXT PRIMARY KEY, token TEXT NOT NULL)")

	// River's tables, made by its migrator (or: river migrate-up).
	driver := riversqlite.New(db)
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		log.Fatal(err)
	}

	saved := make(chan string)
	worker, err := riverinbox.NewWorker(func(ctx context.Context, job *river.Job[riverinbox.Args], ev *mergelink.WebhookEvent) error {
		tok, ok := ev.AccountToken()
		if !ok {
			return nil // another event: nothing to save
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "INSERT INTO accounts VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET token = excluded.token", ev.LinkedAccount.ID, tok); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		saved <- ev.LinkedAccount.ID
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	client, err := river.NewClient(driver, &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		Workers: workers,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer client.Stop(ctx)

	inbox, err := riverinbox.NewHandler(client, []string{"whk_example"}, riverinbox.Options{MaxAttempts: 10})
	if err != nil {
		log.Fatal(err)
	}
	// http.Handle("/webhooks", inbox) in a server; here, one delivery sent
	// twice, as Merge does when an answer is lost.
	body := []byte(`{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"la-1"},"data":{"account_token":"tok-1"}}`)
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, "whk_example"))
		rec := httptest.NewRecorder()
		inbox.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	fmt.Println("saved", <-saved)
	// Output:
	// 200
	// 200
	// saved la-1
}
