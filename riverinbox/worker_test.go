package riverinbox_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/riverinbox"
)

// The workers get the typed events of the queued deliveries; a failing
// function is retried until Options.MaxAttempts, and no more.
func TestWorkerDecodesAndRetries(t *testing.T) {
	db := openSQLite(t)
	events := make(chan string, 10)
	runs := map[string]int{}
	var mu sync.Mutex
	w, err := riverinbox.NewWorker(func(_ context.Context, job *river.Job[riverinbox.Args], ev *mergelink.WebhookEvent) error {
		mu.Lock()
		defer mu.Unlock()
		runs[ev.LinkedAccount.ID]++
		if ev.LinkedAccount.ID == "fails" {
			if runs["fails"] == 3 {
				events <- "fails gave up"
			}
			return errors.New("always fails")
		}
		tok, _ := ev.AccountToken()
		events <- ev.LinkedAccount.ID + " " + tok + " " + strconv.Itoa(job.Attempt) + " " + ev.DeliveryKey()[:8]
		return nil
	})
	require.NoError(t, err)
	aw, err := riverinbox.NewAgentWorker(func(_ context.Context, _ *river.Job[riverinbox.AgentArgs], ev *agenthandler.WebhookEvent) error {
		events <- "agent " + string(ev.Type())
		return nil
	})
	require.NoError(t, err)
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	river.AddWorker(workers, aw)
	client := sqliteClient(t, db, workers)
	inbox, err := riverinbox.NewHandler(client, []string{webhookKey}, riverinbox.Options{MaxAttempts: 3})
	require.NoError(t, err)
	agentInbox, err := riverinbox.NewAgentHandler(client, []string{webhookKey}, riverinbox.Options{})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	defer client.Stop(context.Background())

	require.Equal(t, http.StatusOK, serve(inbox, signed(linked("a"))).Code)
	require.Equal(t, http.StatusOK, serve(inbox, signed(linked("fails"))).Code)
	old := []byte(`{"event":"CREDENTIAL_CREATED","created_at":"` + time.Now().Add(-time.Hour).Format(time.RFC3339) + `"}`)
	r := httptest.NewRequest(http.MethodPost, "/agent", bytes.NewReader(old))
	r.Header.Set(agenthandler.SignatureHeader, agenthandler.SignWebhook(old, webhookKey))
	require.Equal(t, http.StatusOK, serve(agentInbox, r).Code)

	ev, err := mergelink.ParseWebhook(linked("a"), mergelink.SignWebhook(linked("a"), webhookKey), webhookKey)
	require.NoError(t, err)
	got := map[string]bool{}
	for range 3 {
		got[<-events] = true
	}
	assert.Equal(t, map[string]bool{"a tok-a 1 " + ev.DeliveryKey()[:8]: true, "fails gave up": true, "agent credential.created": true}, got)
	require.NoError(t, client.Stop(context.Background()))
	mu.Lock()
	assert.Equal(t, 3, runs["fails"], "MaxAttempts bounds the runs")
	mu.Unlock()
	var state string
	require.NoError(t, db.QueryRow("SELECT state FROM river_job WHERE max_attempts = 3 AND attempt = 3").Scan(&state))
	assert.Equal(t, "discarded", state)
}

// The SQLite journey, in one process: 10,000 distinct and 2,000 duplicate
// deliveries through the inbox, concurrently, while workers write a
// ledger row through the job's transaction and complete the job in it;
// a tenth of the runs fail after writing (rolled back and retried), and the
// worker client is stopped mid-job twice and replaced. Every delivery's
// ledger row is there exactly once.
func TestJourneySQLite(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("12,000 deliveries, a load test: skipped with -short and under -race (.ci/run runs it without)")
	}
	const distinct, duplicates = 10_000, 2_000
	db := openSQLite(t)
	_, err := db.Exec("CREATE TABLE ledger (account_id TEXT NOT NULL, delivery_key TEXT NOT NULL)")
	require.NoError(t, err)
	var committed atomic.Int64
	all := make(chan struct{})
	w, err := riverinbox.NewWorker(func(ctx context.Context, job *river.Job[riverinbox.Args], ev *mergelink.WebhookEvent) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "INSERT INTO ledger VALUES (?, ?)", ev.LinkedAccount.ID, ev.DeliveryKey()); err != nil {
			return err
		}
		if rand.IntN(10) == 0 {
			return errors.New("failed after writing: rolled back")
		}
		if _, err := river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		if committed.Add(1) == distinct {
			close(all)
		}
		return nil
	})
	require.NoError(t, err)
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	inbox, err := riverinbox.NewHandler(sqliteClient(t, db, nil), []string{webhookKey}, riverinbox.Options{MaxAttempts: 100})
	require.NoError(t, err)
	client := sqliteClient(t, db, workers)
	require.NoError(t, client.Start(context.Background()))

	begin := time.Now()
	order := rand.Perm(distinct + duplicates)
	var sent atomic.Int64
	var failures atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if rec := serve(inbox, signed(linked("acct-"+strconv.Itoa(i%distinct)))); rec.Code != http.StatusOK {
					failures.Add(1)
				}
				sent.Add(1)
			}
		}()
	}
	stops := 0
	for n, i := range order {
		next <- i
		if n == 4_000 || n == 8_000 { // stop the workers mid-job, cancelling what runs, and start new ones
			require.NoError(t, client.StopAndCancel(context.Background()))
			client = sqliteClient(t, db, workers)
			require.NoError(t, client.Start(context.Background()))
			stops++
		}
	}
	close(next)
	wg.Wait()
	assert.Zero(t, failures.Load(), "deliveries not answered 200")
	received := time.Since(begin)
	<-all
	worked := time.Since(begin)
	require.NoError(t, client.Stop(context.Background()))

	var rows, keys, left int
	require.NoError(t, db.QueryRow("SELECT count(*), count(DISTINCT account_id) FROM ledger").Scan(&rows, &keys))
	require.NoError(t, db.QueryRow("SELECT count(*) FROM river_job WHERE state <> 'completed'").Scan(&left))
	assert.Equal(t, distinct, keys, "deliveries with a ledger row (0 lost)")
	assert.Equal(t, distinct, rows, "ledger rows (0 duplicated)")
	assert.Zero(t, left, "jobs not completed")
	assert.Equal(t, distinct, countJobs(t, db, riverinbox.Args{}.Kind()), "one job per delivery")
	t.Logf("SQLite journey: %d deliveries (%d distinct) received in %v, worked in %v; workers stopped mid-job %d times: %d ledger rows for %d deliveries",
		sent.Load(), distinct, received.Round(time.Millisecond), worked.Round(time.Millisecond), stops, rows, keys)
}
