// Command riverinbox is an inbox's start: webhooks received into a River
// queue on SQLite and worked once each. The release rehearsal builds and
// runs it in a fresh module that requires only
// github.com/mergelink/mergelink/riverinbox, fetched from the rehearsal's
// proxy, with River and its SQLite driver from the public proxy.
package main

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

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "riverinbox-try")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "queue.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	driver := riversqlite.New(db)
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		log.Fatal(err)
	}
	worked := make(chan string, 2)
	worker, err := riverinbox.NewWorker(func(_ context.Context, _ *river.Job[riverinbox.Args], ev *mergelink.WebhookEvent) error {
		worked <- ev.LinkedAccount.ID
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	client, err := river.NewClient(driver, &river.Config{Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}, Workers: workers})
	if err != nil {
		log.Fatal(err)
	}
	inbox, err := riverinbox.NewHandler(client, []string{"rehearsal-key"}, riverinbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"la-try"},"data":{"account_token":"tok"}}`)
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, "rehearsal-key"))
		rec := httptest.NewRecorder()
		inbox.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			log.Fatalf("delivery answered %d: %s", rec.Code, rec.Body)
		}
	}
	if err := client.Start(ctx); err != nil {
		log.Fatal(err)
	}
	id := <-worked
	if err := client.Stop(ctx); err != nil {
		log.Fatal(err)
	}
	if len(worked) != 0 {
		log.Fatal("one delivery sent twice was worked twice")
	}
	fmt.Printf("ok: riverinbox queued one delivery sent twice on SQLite and worked it once (%s)\n", id)
}
