package storetest

import (
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fleetTxKills is how many times the test kills replica 0 or 3 from
// outside, at random points of the run; replicas 1 and 2 kill themselves
// once each, between fn and the commit.
const fleetTxKills = 3

// A fleet of transactional receivers (sqlstore.NewWebhookHandler) on one
// PostgreSQL, killed several times at random points, some between fn's
// write and the commit: every delivery's ledger row, written through the
// transaction, is there exactly once.
func TestFleetPostgresTransactional(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 4 receiver processes and 12,000 deliveries; skipped with -short")
	}
	db := postgres(t)
	table := newTable()
	ledger := table + "_ledger"
	_, err := db.Exec("CREATE TABLE " + ledger + " (account_id TEXT NOT NULL, delivery_key TEXT NOT NULL)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + ledger); db.Exec("DROP TABLE IF EXISTS " + table) })
	bin := buildReceiver(t)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "receivers.log"))
	require.NoError(t, err)
	defer logFile.Close()

	// The replicas: each restarted when it dies, on its address, until the
	// end. The first life of replicas 1 and 2 kills itself between fn and
	// the commit, in a random call.
	var mu sync.Mutex
	cmds := make([]*exec.Cmd, fleetReplicas)
	addrs := make([]string, fleetReplicas)
	var stopping atomic.Bool
	var deaths, restarts sync.WaitGroup
	var start func(i int, dieAt int)
	start = func(i, dieAt int) {
		cmd := startReceiver(t, bin, logFile, "-addr", addrs[i], "-store", "postgres", "-url", os.Getenv(envPostgres), "-name", table,
			"-tx", ledger, "-die-at", strconv.Itoa(dieAt), "-lease", fleetLease.String(), "-work", fleetWork.String(), "-key", fleetKey)
		mu.Lock()
		cmds[i] = cmd
		mu.Unlock()
		deaths.Add(1)
		go func() {
			defer deaths.Done()
			cmd.Wait()
			if !stopping.Load() {
				restarts.Add(1)
				go func() { defer restarts.Done(); start(i, 0) }()
			}
		}()
	}
	var ready sync.WaitGroup
	for i := range addrs {
		addrs[i] = freeAddr(t)
		dieAt := 0
		if i == 1 || i == 2 {
			dieAt = 300 + rand.IntN(2000)
		}
		ready.Add(1)
		go func() { defer ready.Done(); start(i, dieAt) }() // all at once: each calls CreateTable at start
	}
	ready.Wait()
	defer func() {
		stopping.Store(true)
		restarts.Wait()
		mu.Lock()
		for _, c := range cmds {
			c.Process.Signal(syscall.SIGTERM)
		}
		mu.Unlock()
		deaths.Wait()
	}()

	distinct, jobs := fleetJobs()
	killAt := map[int64]bool{}
	for len(killAt) < fleetTxKills {
		killAt[int64(1000+rand.IntN(len(jobs)-2000))] = true
	}
	tr := &http.Transport{MaxIdleConnsPerHost: fleetConnections, MaxConnsPerHost: fleetConnections}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var answered atomic.Int64
	var failures []string
	queue := make(chan int)
	var wg sync.WaitGroup
	begin := time.Now()
	pick := func() *replica { return &replica{addr: addrs[rand.IntN(len(addrs))]} }
	for range fleetConnections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				if err := deliver(client, &jobs[j], pick, func(*replica) {}); err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
				if n := answered.Add(1); killAt[n] {
					mu.Lock()
					cmds[3*rand.IntN(2)].Process.Kill() // SIGKILL, wherever it is
					mu.Unlock()
				}
			}
		}()
	}
	for j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	elapsed := time.Since(begin)
	require.Empty(t, failures, "every delivery finally got a 2xx")

	rows, err := db.Query("SELECT account_id, count(*) FROM " + ledger + " GROUP BY account_id")
	require.NoError(t, err)
	written := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		require.NoError(t, rows.Scan(&id, &n))
		written[id] = n
	}
	require.NoError(t, rows.Err())
	lost, duplicated := 0, 0
	for _, d := range distinct {
		switch n := written[d.id]; {
		case n == 0:
			lost++
		case n > 1:
			duplicated++
		}
	}
	assert.Zero(t, lost, "deliveries whose ledger row is missing")
	assert.Zero(t, duplicated, "deliveries whose ledger row is there more than once")
	assert.Len(t, written, fleetDistinct, "ledger rows of no delivery")
	var recorded int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM "+table+" WHERE state = 1").Scan(&recorded))
	assert.Equal(t, fleetDistinct, recorded, "successes recorded")
	raw, err := os.ReadFile(logFile.Name())
	require.NoError(t, err)
	selfKills := strings.Count(string(raw), "dying between fn and commit")
	assert.Equal(t, 2, selfKills, "replicas killed between fn and the commit")
	t.Logf("transactional fleet: %d deliveries (%d distinct) to %d replicas over %d connections in %v; killed %d times from outside and %d times between fn and commit; 0 lost, 0 duplicated",
		len(jobs), fleetDistinct, fleetReplicas, fleetConnections, elapsed.Round(time.Millisecond), fleetTxKills, selfKills)
}
