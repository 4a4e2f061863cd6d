package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/sqlstore"
)

// The store's tests on SQLite and PostgreSQL are in the storetest module,
// which holds the drivers; these need none.

func TestWrongOptionsFailEveryCall(t *testing.T) {
	t.Parallel()
	s := sqlstore.New(nil, sqlstore.Options{Table: "bad name"})
	for what, err := range map[string]error{
		"CreateTable": s.CreateTable(context.Background()),
		"Begin":       func() error { _, err := s.Begin(context.Background(), "k", "o", time.Second); return err }(),
		"Done":        s.Done(context.Background(), "k", "o", true),
		"Sweep":       s.Sweep(context.Background()),
	} {
		var verr *mergelink.ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("%s: got %v, want a *ValidationError", what, err)
		}
		for _, field := range []string{"db", "Dialect", "Table"} {
			if !verr.Has(field) {
				t.Errorf("%s: %v does not name %s", what, err, field)
			}
		}
	}
}

func TestDialectString(t *testing.T) {
	t.Parallel()
	for d, want := range map[sqlstore.Dialect]string{sqlstore.Postgres: "Postgres", sqlstore.SQLite: "SQLite", 0: "Dialect(0)"} {
		if got := d.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(d), got, want)
		}
	}
}
