package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/sqlstore"
)

// The fleet test's shape, from issue 12.
const (
	fleetReplicas    = 4
	fleetDistinct    = 10000
	fleetDuplicates  = 2000
	fleetConnections = 64
	fleetLease       = 3 * time.Second // how long the killed replica's claims block their deliveries
	fleetWork        = time.Millisecond
	fleetKillAfter   = 3000 // answers before the kill
	fleetKey         = "fleet-webhook-key"
)

// A fleet of receiver processes on one PostgreSQL: every delivery completes
// at least once although a replica is killed mid-run.
func TestFleetPostgres(t *testing.T) {
	db := postgres(t)
	table := newTable()
	newSQLStore(t, db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: table})
	runFleet(t, "postgres", os.Getenv(envPostgres), table, func() (claimed, done int) {
		require.NoError(t, db.QueryRow("SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1) FROM "+table).Scan(&claimed, &done))
		return claimed, done
	})
}

// The same fleet on one Redis.
func TestFleetRedis(t *testing.T) {
	rdb := redisClient(t)
	prefix := newTable() + ":"
	runFleet(t, "redis", os.Getenv(envRedis), prefix, func() (claimed, done int) {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			switch v := rdb.Get(ctx, iter.Val()).Val(); {
			case v == "d":
				done++
			case strings.HasPrefix(v, "c:"):
				claimed++
			}
		}
		require.NoError(t, iter.Err())
		return claimed, done
	})
}

// unrecordedLog matches a receiver's warning that it could not record a
// delivery's outcome, and takes the delivery's id.
var unrecordedLog = regexp.MustCompile(`(?:claim lost|failed to record the outcome).* event\.linked_account_id=(la-\d+)`)

// retriedLog matches a receiver's warning that it answered 5xx before fn
// completed because the store was slow or failed.
var retriedLog = regexp.MustCompile(`claim granted too late|duplicate store failed|handler function failed.*context deadline exceeded`)

// fleetDelivery is one signed webhook.
type fleetDelivery struct {
	id   string
	body []byte
	sig  string
}

// replica is one receiver process.
type replica struct {
	addr string
	cmd  *exec.Cmd
}

func runFleet(t *testing.T, store, url, name string, count func() (claimed, done int)) {
	if testing.Short() {
		t.Skip("runs 4 receiver processes and 12,000 deliveries; skipped with -short")
	}
	bin := buildReceiver(t)
	dir := t.TempDir()
	completions := filepath.Join(dir, "completions.log")
	logs := filepath.Join(dir, "receivers.log")
	logFile, err := os.OpenFile(logs, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer logFile.Close()
	start := func(addr string) *replica {
		cmd := startReceiver(t, bin, logFile, "-addr", addr, "-store", store, "-url", url, "-name", name,
			"-lease", fleetLease.String(), "-work", fleetWork.String(), "-completions", completions, "-key", fleetKey)
		return &replica{addr: addr, cmd: cmd}
	}
	replicas := make([]*replica, fleetReplicas)
	var mu sync.Mutex // guards replicas
	for i := range replicas {
		replicas[i] = start(freeAddr(t))
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range replicas {
			r.cmd.Process.Signal(syscall.SIGTERM)
			r.cmd.Wait()
		}
	})

	distinct, jobs := fleetJobs()

	// The sender: 64 connections, each delivery to a random replica,
	// retried on 5xx and connection errors until a 2xx, as Merge does.
	tr := &http.Transport{MaxIdleConnsPerHost: fleetConnections, MaxConnsPerHost: fleetConnections}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var answered atomic.Int64
	killed := make(chan struct{})
	var inFlightAtKill map[string]bool
	inFlight := map[*replica]map[*fleetDelivery]int{} // guarded by mu
	queue := make(chan int)
	var failures []string
	var wg sync.WaitGroup
	begin := time.Now()
	for range fleetConnections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				d := &jobs[j]
				if err := deliver(client, d, func() *replica {
					mu.Lock()
					defer mu.Unlock()
					r := replicas[rand.IntN(len(replicas))]
					if inFlight[r] == nil {
						inFlight[r] = map[*fleetDelivery]int{}
					}
					inFlight[r][d]++
					return r
				}, func(r *replica) {
					mu.Lock()
					defer mu.Unlock()
					if inFlight[r][d]--; inFlight[r][d] == 0 {
						delete(inFlight[r], d)
					}
				}); err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
				if answered.Add(1) == fleetKillAfter {
					close(killed)
				}
			}
		}()
	}
	// The killer: SIGKILL replica 0 mid-run, note what it was serving,
	// and start it again on its address.
	restarted := make(chan error, 1)
	go func() {
		<-killed
		mu.Lock()
		victim := replicas[0]
		require.NoError(t, victim.cmd.Process.Kill()) // SIGKILL
		inFlightAtKill = map[string]bool{}
		for d := range inFlight[victim] {
			inFlightAtKill[d.id] = true
		}
		mu.Unlock()
		victim.cmd.Wait()
		r := start(victim.addr)
		mu.Lock()
		replicas[0] = r
		mu.Unlock()
		restarted <- nil
	}()
	for j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	require.NoError(t, <-restarted)
	elapsed := time.Since(begin)
	require.Empty(t, failures, "every delivery finally got a 2xx")

	// What the functions completed, from the replicas' own record.
	raw, err := os.ReadFile(completions)
	require.NoError(t, err)
	completed := map[string]int{}
	for _, id := range strings.Fields(string(raw)) {
		completed[id]++
	}
	// The deliveries whose outcome a replica could not record in time
	// (the store was too slow under load, or the claim's lease ran out):
	// the guarantee allows these to run twice, as the killed ones.
	rawLogs, err := os.ReadFile(logs)
	require.NoError(t, err)
	unrecorded := map[string]bool{}
	retried := 0 // answered 5xx without completing fn, under load: Merge retries them
	for _, line := range strings.Split(string(rawLogs), "\n") {
		switch m := unrecordedLog.FindStringSubmatch(line); {
		case m != nil:
			unrecorded[m[1]] = true
		case retriedLog.MatchString(line):
			retried++
		case strings.TrimSpace(line) != "":
			t.Errorf("receiver logged: %s", line)
		}
	}
	twice, missing := 0, 0
	for _, d := range distinct {
		switch n := completed[d.id]; {
		case n == 0:
			missing++
		case n > 1:
			twice++
			assert.True(t, inFlightAtKill[d.id] || unrecorded[d.id], "%s completed %d times but was neither in flight on the killed replica nor logged as unrecorded", d.id, n)
		}
	}
	assert.Zero(t, missing, "deliveries whose fn never completed")
	assert.LessOrEqual(t, twice, len(inFlightAtKill)+len(unrecorded), "completed twice: at most those in flight on the killed replica or unrecorded")
	claimed, done := count()
	assert.LessOrEqual(t, claimed, len(unrecorded), "claims left after every delivery got its 2xx: only those whose success was not recorded, until their lease ends")
	assert.GreaterOrEqual(t, done, fleetDistinct-len(unrecorded), "successes recorded")
	t.Logf("%s fleet: %d deliveries (%d distinct) to %d replicas over %d connections in %v; replica 0 killed after %d answers with %d deliveries in flight; outcome not recorded in time for %d; 5xx under load %d; fn completed twice for %d",
		store, len(jobs), fleetDistinct, fleetReplicas, fleetConnections, elapsed.Round(time.Millisecond), fleetKillAfter, len(inFlightAtKill), len(unrecorded), retried, twice)
}

// fleetJobs returns 10,000 distinct deliveries, and them with 2,000
// byte-identical copies of some in random order.
func fleetJobs() (distinct, jobs []fleetDelivery) {
	distinct = make([]fleetDelivery, fleetDistinct)
	for i := range distinct {
		id := fmt.Sprintf("la-%05d", i)
		body := []byte(`{"hook":{"id":"hook-1","event":"LinkedAccount.linked","target":"https://receiver.example/webhooks"},` +
			`"linked_account":{"id":"` + id + `","end_user_origin_id":"origin-` + id + `"},` +
			`"data":{"account_token":"tok-` + id + `","is_relink":false}}`)
		distinct[i] = fleetDelivery{id: id, body: body, sig: mergelink.SignWebhook(body, fleetKey)}
	}
	jobs = append([]fleetDelivery(nil), distinct...)
	for range fleetDuplicates {
		jobs = append(jobs, distinct[rand.IntN(fleetDistinct)])
	}
	rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	return distinct, jobs
}

// deliver sends d until a replica answers 2xx, picking a random replica
// for each try (pick) and telling when the try ended (end). It fails on a
// 4xx, or after two minutes.
func deliver(client *http.Client, d *fleetDelivery, pick func() *replica, end func(*replica)) error {
	deadline := time.Now().Add(2 * time.Minute)
	wait := 5 * time.Millisecond
	for {
		r := pick()
		status, err := post(client, r.addr, d)
		end(r)
		switch {
		case err == nil && status < 300:
			return nil
		case err == nil && status < 500:
			return fmt.Errorf("%s: status %d", d.id, status)
		case time.Now().After(deadline):
			return fmt.Errorf("%s: no 2xx within 2 minutes (last: %d, %v)", d.id, status, err)
		}
		time.Sleep(wait) // Merge's backoff, shortened
		wait = min(2*wait, 200*time.Millisecond)
	}
}

func post(client *http.Client, addr string, d *fleetDelivery) (int, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks", bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set(mergelink.SignatureHeader, d.sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

var (
	receiverOnce sync.Once
	receiverDir  string
	receiverBin  string
	receiverErr  error
)

func TestMain(m *testing.M) {
	if dialect := os.Getenv(envCreateTableChild); dialect != "" {
		createTableChild(dialect)
	}
	code := m.Run()
	if receiverDir != "" {
		os.RemoveAll(receiverDir)
	}
	os.Exit(code)
}

// buildReceiver builds ./internal/receiver once per run.
func buildReceiver(t *testing.T) string {
	t.Helper()
	receiverOnce.Do(func() {
		receiverDir, receiverErr = os.MkdirTemp("", "mergelink-receiver-")
		if receiverErr != nil {
			return
		}
		receiverBin = filepath.Join(receiverDir, "receiver")
		out, err := exec.Command("go", "build", "-o", receiverBin, "./internal/receiver").CombinedOutput()
		if err != nil {
			receiverErr = errors.New("go build ./internal/receiver: " + err.Error() + "\n" + string(out))
		}
	})
	require.NoError(t, receiverErr)
	return receiverBin
}
