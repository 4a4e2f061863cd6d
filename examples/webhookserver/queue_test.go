package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/clitest"
)

// queueEnv is the environment of a queue-mode run: the webhook key
// "merge-key" when withKeys, the sealing key, and DATABASE_URL when url is
// set.
func queueEnv(url string, withKeys bool) func(string) string {
	return func(k string) string {
		switch {
		case k == keysEnv && withKeys:
			return "merge-key"
		case k == sealKeyEnv:
			return testSealKey
		case k == databaseEnv:
			return url
		}
		return ""
	}
}

// startRun calls run with args in a goroutine.
func startRun(ctx context.Context, env func(string) string, args ...string) *clitest.Output {
	return clitest.Start(func(logs io.Writer) int { return run(ctx, args, env, logs) })
}

// waitFor reads out's lines until one contains s, and returns it.
func waitFor(t *testing.T, out *clitest.Output, s string) string {
	t.Helper()
	for {
		l, ok := out.Next(t)
		require.True(t, ok, "run ended before writing %q:\n%s", s, out)
		if strings.Contains(l, s) {
			return l
		}
	}
}

// webhookURL waits for a receiving run's first line and returns its URL.
func webhookURL(t *testing.T, out *clitest.Output) string {
	t.Helper()
	m := listening.FindStringSubmatch(waitFor(t, out, "receiving Merge webhooks"))
	require.NotNil(t, m)
	return m[1]
}

// linkedBody is a LinkedAccount.linked delivery for account id.
func linkedBody(id string) []byte {
	return []byte(`{"hook": {"id": "h1", "event": "LinkedAccount.linked", "target": "https://example.com"},
		"linked_account": {"id": "` + id + `", "end_user_origin_id": "origin-` + id + `", "integration": "BambooHR"},
		"data": {"account_token": "account-token-` + id + `", "is_relink": false}}`)
}

// postSigned posts body, signed with "merge-key", to url over loopback
// and returns the status.
func postSigned(t *testing.T, url string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, "merge-key"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// stored reports whether the database (url, or the SQLite file path)
// holds account id's token, and the states of the jobs of body's delivery.
func stored(t *testing.T, url, path, id string, body []byte) (bool, []string) {
	t.Helper()
	seal, err := newSealer(testSealKey)
	require.NoError(t, err)
	db, accts, _, _, err := openStores(context.Background(), url, path, seal)
	require.NoError(t, err)
	defer db.Close()
	a, ok, err := accts.byID(context.Background(), id)
	require.NoError(t, err)
	if ok {
		assert.Equal(t, "account-token-"+id, a.AccountToken)
	}
	sum := sha256.Sum256(body)
	rows, err := db.Query(accts.q(`SELECT state FROM river_job WHERE args->>'delivery_key' = $1`,
		`SELECT state FROM river_job WHERE json_extract(args, '$.delivery_key') = ?`), hex.EncodeToString(sum[:]))
	require.NoError(t, err)
	defer rows.Close()
	var states []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		states = append(states, s)
	}
	require.NoError(t, rows.Err())
	return ok, states
}

// count counts the lines that contain s.
func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// queueDatabase returns the PostgreSQL URL of the tests when pg is true
// (skipping t without one), or "" and a new SQLite file.
func queueDatabase(t *testing.T, pg bool) (url, path string) {
	t.Helper()
	if pg {
		if url = os.Getenv("MERGELINK_TEST_POSTGRES"); url == "" {
			t.Skip("MERGELINK_TEST_POSTGRES is not set: this test needs a real PostgreSQL; .ci/services starts one")
		}
	}
	return url, filepath.Join(t.TempDir(), "webhookserver.db")
}

// uniqueID is a Linked Account id no other run of the tests uses, as they
// may share a PostgreSQL.
func uniqueID(t *testing.T) string {
	return fmt.Sprintf("la-%s-%d-%d", t.Name(), os.Getpid(), time.Now().UnixNano())
}

// With -queue both, one process receives and works: a delivery sent twice
// is one job, whose token is stored once.
func TestQueueBothStoresOnce(t *testing.T) {
	t.Parallel()
	testQueueBoth(t, false)
}

// The queue tests on PostgreSQL run one after the other: a worker works
// every job of the database's River queue, another test's too.
func TestQueueOnPostgres(t *testing.T) {
	t.Parallel()
	t.Run("both", func(t *testing.T) { testQueueBoth(t, true) })
	t.Run("receive and work", func(t *testing.T) { testQueueReceiveAndWork(t, true) })
}

func testQueueBoth(t *testing.T, pg bool) {
	url, path := queueDatabase(t, pg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := startRun(ctx, queueEnv(url, true), "-queue", "both", "-addr", "127.0.0.1:0", "-db", path)
	target := webhookURL(t, out)

	id, body := sendTwice(t, target)
	waitFor(t, out, "account token stored")
	cancel()
	code, lines := out.Wait(t)
	assert.Equal(t, 0, code)
	assert.NotContains(t, out.String(), "account-token-"+id, "logs show masked tokens only")
	assertStoredOnce(t, url, path, id, body, lines)
}

// sendTwice posts one new LinkedAccount.linked delivery twice to target,
// as Merge does when an answer is lost, expecting 200 both times, and
// returns its Linked Account id and body.
func sendTwice(t *testing.T, target string) (id string, body []byte) {
	t.Helper()
	id = uniqueID(t)
	body = linkedBody(id)
	for range 2 {
		assert.Equal(t, http.StatusOK, postSigned(t, target, body))
	}
	return id, body
}

// assertStoredOnce checks that the worker, whose log lines are worked,
// stored the token of the delivery body once, and that its one job is
// completed.
func assertStoredOnce(t *testing.T, url, path, id string, body []byte, worked []string) {
	t.Helper()
	assert.Equal(t, 1, count(worked, "account token stored"), "the token is stored once:\n%s", strings.Join(worked, "\n"))
	ok, states := stored(t, url, path, id, body)
	assert.True(t, ok, "the token is stored")
	assert.Equal(t, []string{"completed"}, states, "one job for the two copies, completed")
}

// With -queue receive and -queue work as two runs started together on one
// SQLite file, one receives and the other works: a delivery sent twice is
// stored once, by the worker.
func TestQueueReceiveAndWorkRuns(t *testing.T) {
	t.Parallel()
	testQueueReceiveAndWork(t, false)
}

func testQueueReceiveAndWork(t *testing.T, pg bool) {
	url, path := queueDatabase(t, pg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	receiver := startRun(ctx, queueEnv(url, true), "-queue", "receive", "-addr", "127.0.0.1:0", "-db", path)
	worker := startRun(ctx, queueEnv(url, false), "-queue", "work", "-db", path) // needs no webhook key
	target := webhookURL(t, receiver)
	waitFor(t, worker, "working queued Merge webhooks")

	id, body := sendTwice(t, target)
	waitFor(t, worker, "account token stored")
	cancel()
	code, received := receiver.Wait(t)
	assert.Equal(t, 0, code)
	assert.Zero(t, count(received, "account token stored"), "the receiver works no job")
	code, worked := worker.Wait(t)
	assert.Equal(t, 0, code)
	assertStoredOnce(t, url, path, id, body, worked)
}

// A receiver answers once the delivery is queued, without waiting for
// the work: with no worker running, the delivery is answered 200 and its
// token is not stored yet; a worker started later stores it.
func TestQueueAnswersBeforeTheWork(t *testing.T) {
	t.Parallel()
	url, path := queueDatabase(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	receiver := startRun(ctx, queueEnv(url, true), "-queue", "receive", "-addr", "127.0.0.1:0", "-db", path)
	id := uniqueID(t)
	body := linkedBody(id)
	assert.Equal(t, http.StatusOK, postSigned(t, webhookURL(t, receiver), body))
	ok, states := stored(t, url, path, id, body)
	assert.False(t, ok, "answered before the token is stored")
	assert.Equal(t, []string{"available"}, states, "the delivery waits in the queue")
	cancel()
	code, _ := receiver.Wait(t)
	assert.Equal(t, 0, code)

	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	worker := startRun(workCtx, queueEnv(url, false), "-queue", "work", "-db", path)
	waitFor(t, worker, "account token stored")
	stopWork()
	code, _ = worker.Wait(t)
	assert.Equal(t, 0, code)
	ok, states = stored(t, url, path, id, body)
	assert.True(t, ok)
	assert.Equal(t, []string{"completed"}, states)
}

func TestQueueModeIsChecked(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	code := run(context.Background(), []string{"-queue", "later"}, queueEnv("", true), &logs)
	assert.Equal(t, 2, code)
	assert.Contains(t, logs.String(), `-queue "later": give one of inline, both, receive, work`)
}
