package sqlstore_test

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"os"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/sqlstore"
)

// Every replica of a receiver opens the same PostgreSQL and passes the
// store to its handler: each delivery then runs once across the fleet.
func ExampleNew() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // with _ "github.com/jackc/pgx/v5/stdlib"
	if err != nil {
		log.Fatal(err)
	}
	store := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.Postgres})
	if err := store.CreateTable(ctx); err != nil { // or run the DDL of the package doc
		log.Fatal(err)
	}
	h, err := mergelink.NewWebhookHandler(func(ctx context.Context, ev *mergelink.WebhookEvent) error {
		return nil // store ev's account token, end with ctx
	}, []string{os.Getenv("MERGE_WEBHOOK_KEY")}, mergelink.WithDuplicateStore(store))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/webhooks", h)
}
