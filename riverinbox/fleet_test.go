package riverinbox_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/riverinbox"
)

const (
	envPostgres = "MERGELINK_TEST_POSTGRES"
	// envReplica, set to "addr schema dieAt", makes the test binary a
	// fleet replica (see TestMain).
	envReplica     = "RIVERINBOX_FLEET_REPLICA"
	fleetReplicas  = 3
	fleetDistinct  = 10_000
	fleetCopies    = 2_000
	fleetConns     = 32
	fleetKills     = 3                                     // replicas SIGKILLed from outside, wherever they are
	fleetJobTimout = 2 * time.Second                       // a job's context ends then
	fleetRescue    = fleetJobTimout + 500*time.Millisecond // a running job of a dead worker is retried then
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(envReplica); spec != "" {
		if err := replica(spec); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pgRiver returns a River client on pool in schema, working workers (if
// any) with the fleet's timeouts.
func pgRiver(pool *pgxpool.Pool, schema string, workers *river.Workers) (*river.Client[pgx.Tx], error) {
	cfg := &river.Config{Schema: schema, Workers: workers, JobTimeout: fleetJobTimout, RescueStuckJobsAfter: fleetRescue,
		RetryPolicy: fastRetries{}, FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 5 * time.Millisecond}
	if workers != nil {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}}
	}
	return river.NewClient(riverpgxv5.New(pool), cfg)
}

// replica receives deliveries on addr and works them, writing a ledger
// row through each job's transaction; at its dieAt-th job (0: never) it
// SIGKILLs itself after the write and before the commit.
func replica(spec string) error {
	var addr, schema string
	var dieAt int64
	if _, err := fmt.Sscan(spec, &addr, &schema, &dieAt); err != nil {
		return err
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(envPostgres))
	if err != nil {
		return err
	}
	var jobs atomic.Int64
	w, err := riverinbox.NewWorker(func(ctx context.Context, job *river.Job[riverinbox.Args], ev *mergelink.WebhookEvent) error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if _, err := tx.Exec(ctx, "INSERT INTO "+schema+".ledger VALUES ($1, $2)", ev.LinkedAccount.ID, ev.DeliveryKey()); err != nil {
			return err
		}
		if jobs.Add(1) == dieAt {
			fmt.Println("dying mid-job")
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := pgRiver(pool, schema, workers)
	if err != nil {
		return err
	}
	inbox, err := riverinbox.NewHandler(client, []string{webhookKey}, riverinbox.Options{MaxAttempts: 100})
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	return http.Serve(ln, inbox)
}

// A fleet of 3 inbox processes on one PostgreSQL, each receiving and
// working, SIGKILLed from outside 3 times and mid-job (after the ledger
// write, before the commit) once each in their first life: every
// delivery's ledger row, written through JobCompleteTx's transaction, is
// there exactly once.
func TestFleetPostgres(t *testing.T) {
	url := os.Getenv(envPostgres)
	if url == "" {
		t.Skip("set " + envPostgres + " (a postgres:// URL) to run the fleet on a real PostgreSQL; .ci/services start DIR starts one")
	}
	if testing.Short() || raceDetector {
		t.Skip("runs 3 processes and 12,000 deliveries, a load test: skipped with -short and under -race (.ci/run runs it without)")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	schema := fmt.Sprintf("riverinbox_fleet_%d", time.Now().UnixNano())
	_, err = pool.Exec(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE "+schema+".ledger (account_id TEXT NOT NULL, delivery_key TEXT NOT NULL)")
	require.NoError(t, err)
	t.Cleanup(func() { pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema})
	require.NoError(t, err)
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(t, err)

	// The replicas, each restarted on its address when it dies.
	var mu sync.Mutex
	cmds := make([]*exec.Cmd, fleetReplicas)
	addrs := make([]string, fleetReplicas)
	var stopping atomic.Bool
	var selfKills atomic.Int64
	var lives sync.WaitGroup
	var start func(i int, dieAt int)
	start = func(i, dieAt int) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", envReplica, addrs[i], schema, dieAt))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(out)
		require.True(t, lines.Scan(), "replica %d started", i)
		mu.Lock()
		cmds[i] = cmd
		mu.Unlock()
		lives.Add(1)
		go func() {
			defer lives.Done()
			died := false
			for lines.Scan() {
				if lines.Text() == "dying mid-job" {
					selfKills.Add(1)
					died = true
				}
			}
			cmd.Wait()
			if !stopping.Load() {
				// A life killed from outside before its own death mid-job
				// hands that death on to the next one.
				next := 0
				if dieAt > 0 && !died {
					next = 100 + rand.IntN(1000)
				}
				start(i, next)
			}
		}()
	}
	for i := range addrs {
		addrs[i] = freeAddr(t)
		start(i, 500+rand.IntN(2000))
	}
	defer func() {
		stopping.Store(true)
		mu.Lock()
		for _, c := range cmds {
			c.Process.Signal(syscall.SIGTERM)
		}
		mu.Unlock()
		lives.Wait()
	}()

	total := fleetDistinct + fleetCopies
	killAt := map[int64]bool{}
	for len(killAt) < fleetKills {
		killAt[int64(1000+rand.IntN(total-2000))] = true
	}
	tr := &http.Transport{MaxIdleConnsPerHost: fleetConns, MaxConnsPerHost: fleetConns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var answered atomic.Int64
	var failures atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	begin := time.Now()
	for range fleetConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if !deliver(client, addrs, linked("acct-"+strconv.Itoa(i%fleetDistinct))) {
					failures.Add(1)
				}
				if killAt[answered.Add(1)] {
					mu.Lock()
					cmds[rand.IntN(fleetReplicas)].Process.Kill()
					mu.Unlock()
				}
			}
		}()
	}
	for _, i := range rand.Perm(total) {
		next <- i
	}
	close(next)
	wg.Wait()
	received := time.Since(begin)
	require.Zero(t, failures.Load(), "deliveries never answered 200")

	// The jobs of replicas that died mid-job are retried once River
	// rescues them (RescueStuckJobsAfter, checked every 30s).
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for left := -1; left != 0; {
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".river_job WHERE state <> 'completed'").Scan(&left))
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%d jobs not completed after 2 minutes", left)
		}
	}
	worked := time.Since(begin)
	var rows, keys, jobs int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT account_id) FROM "+schema+".ledger").Scan(&rows, &keys))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".river_job").Scan(&jobs))
	assert.Equal(t, fleetDistinct, keys, "deliveries with a ledger row (0 lost)")
	assert.Equal(t, fleetDistinct, rows, "ledger rows (0 duplicated)")
	assert.Equal(t, fleetDistinct, jobs, "one job per delivery")
	assert.GreaterOrEqual(t, selfKills.Load(), int64(1), "at least one replica died mid-job, between its ledger write and the commit (each tries once, unless the work ends first)")
	t.Logf("PostgreSQL fleet: %d deliveries (%d distinct) to %d processes over %d connections, received in %v, all worked in %v; killed %d times from outside and %d times mid-job; %d ledger rows for %d deliveries",
		total, fleetDistinct, fleetReplicas, fleetConns, received.Round(time.Millisecond), worked.Round(time.Millisecond), fleetKills, selfKills.Load(), rows, keys)
}

// deliver posts body, signed, to a random replica until one answers 200,
// as Merge retries; false after 200 tries.
func deliver(client *http.Client, addrs []string, body []byte) bool {
	sig := mergelink.SignWebhook(body, webhookKey)
	for range 200 {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addrs[rand.IntN(len(addrs))]+"/webhooks", bytes.NewReader(body))
		req.Header.Set(mergelink.SignatureHeader, sig)
		resp, err := client.Do(req)
		if err != nil { // a replica that died, or is starting again: another one
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return true
		}
	}
	return false
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
