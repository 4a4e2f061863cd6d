package riverinbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/riverinbox"
	"github.com/mergelink/mergelink/sqlstore"
)

// benchWork is how long the function takes in BenchmarkAnswer.
const benchWork = 2 * time.Second

// queryCounter counts the queries (round trips) a pgx connection sends.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (*queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// benchPostgres returns a pool that counts its queries, in a new schema of
// its own with River's tables.
func benchPostgres(b *testing.B) (*pgxpool.Pool, *queryCounter, string) {
	url := os.Getenv(envPostgres)
	if url == "" {
		b.Skip("set " + envPostgres + " to measure on a real PostgreSQL")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	count := &queryCounter{}
	cfg.ConnConfig.Tracer = count
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	schema := fmt.Sprintf("riverinbox_bench_%d", time.Now().UnixNano())
	if _, err := pool.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Migrate(context.Background(), rivermigrate.DirectionUp, nil); err != nil {
		b.Fatal(err)
	}
	return pool, count, schema
}

// sendAll sends b.N distinct deliveries to h, 64 at a time, and reports
// the answers' p50 and p99, deliveries received per second and queries
// per delivery.
func sendAll(b *testing.B, h http.Handler, count *queryCounter) {
	latencies := make([]time.Duration, b.N)
	next := make(chan int)
	var wg sync.WaitGroup
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				if rec := serve(h, signed(linked(run+"-"+strconv.Itoa(i)))); rec.Code != http.StatusOK {
					b.Errorf("answered %d: %s", rec.Code, rec.Body)
				}
				latencies[i] = time.Since(start)
			}
		}()
	}
	before := count.n.Load()
	b.ResetTimer()
	begin := time.Now()
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "received/s")
	b.ReportMetric(float64(count.n.Load()-before)/float64(b.N), "queries/delivery")
}

// The answer to a delivery whose function takes 2s: inline on sqlstore,
// Merge waits for the function; through the inbox, for the job's insert.
// Run with -benchtime=256x.
func BenchmarkAnswer(b *testing.B) {
	pool, count, schema := benchPostgres(b)
	slow := func(ctx context.Context) error {
		t := time.NewTimer(benchWork)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.Run("inline-sqlstore", func(b *testing.B) {
		db := stdlib.OpenDBFromPool(pool)
		store := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: schema + "_deliveries"})
		if err := store.CreateTable(context.Background()); err != nil {
			b.Fatal(err)
		}
		h, err := sqlstore.NewWebhookHandler(store, func(ctx context.Context, _ *sql.Tx, _ *mergelink.WebhookEvent) error { return slow(ctx) }, []string{webhookKey})
		if err != nil {
			b.Fatal(err)
		}
		sendAll(b, h, count)
		pool.Exec(context.Background(), "DROP TABLE "+schema+"_deliveries")
	})
	b.Run("inbox", func(b *testing.B) {
		client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		h, err := riverinbox.NewHandler(client, []string{webhookKey}, riverinbox.Options{})
		if err != nil {
			b.Fatal(err)
		}
		sendAll(b, h, count)
	})
}

// Jobs worked per second, and queries per job, by one process's workers
// (100 at a time) whose function does nothing but complete the job in its
// transaction. Run with -benchtime=2000x.
func BenchmarkWork(b *testing.B) {
	pool, count, schema := benchPostgres(b)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	h, err := riverinbox.NewHandler(inserter, []string{webhookKey}, riverinbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range b.N {
		if rec := serve(h, signed(linked(run+"-"+strconv.Itoa(i)))); rec.Code != http.StatusOK {
			b.Fatalf("answered %d", rec.Code)
		}
	}
	var done atomic.Int64
	all := make(chan struct{})
	w, err := riverinbox.NewWorker(func(ctx context.Context, job *river.Job[riverinbox.Args], _ *mergelink.WebhookEvent) error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		if done.Add(1) == int64(b.N) {
			close(all)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: schema, Workers: workers,
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 100}}})
	if err != nil {
		b.Fatal(err)
	}
	before := count.n.Load()
	b.ResetTimer()
	begin := time.Now()
	if err := client.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	<-all
	elapsed := time.Since(begin)
	b.StopTimer()
	client.Stop(context.Background())
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "processed/s")
	b.ReportMetric(float64(count.n.Load()-before)/float64(b.N), "queries/job")
}
