package mergelink_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// The load of issue 7: 10,000 signed deliveries from 64 concurrent clients.
const (
	loadDeliveries = 10000
	loadClients    = 64
)

// delivery is one signed webhook, keyed by its linked account id.
type delivery struct {
	key  string
	body []byte
	sig  string
}

// deliveries returns n distinct signed LinkedAccount.linked deliveries.
func deliveries(n int) []delivery {
	ds := make([]delivery, n)
	for i := range ds {
		key := fmt.Sprintf("acct-load-%05d", i)
		body := strings.Replace(payload(mergelink.EventLinkedAccountLinked,
			fmt.Sprintf(`{"account_token":"tok-load-%05d","is_relink":false}`, i)), `"acct-1"`, `"`+key+`"`, 1)
		ds[i] = delivery{key: key, body: []byte(body), sig: mergelink.SignWebhook([]byte(body), testWebhookKey)}
	}
	return ds
}

// tally counts how many times each delivery reached the code that
// processes it.
type tally struct {
	mu   sync.Mutex
	seen map[string]int
}

func (t *tally) add(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen == nil {
		t.seen = make(map[string]int)
	}
	t.seen[key]++
}

// loadResult is what a load run saw.
type loadResult struct {
	lost, duplicated int         // deliveries processed never, and more than once
	statuses         map[int]int // answers by status code
	errs             []error     // requests that got no answer
	elapsed          time.Duration
}

// serveLoad starts a loopback server for the handler that newHandler
// returns, sends it every delivery of ds in order from clients goroutines
// sharing one http.Client, and checks with the tally that newHandler's
// handler fills in that each distinct delivery was processed exactly once.
// ds may hold copies of a delivery, as Merge's retries are.
func serveLoad(tb testing.TB, ds []delivery, clients int, newHandler func(*tally) http.Handler) loadResult {
	tb.Helper()
	var t tally
	srv := httptest.NewServer(newHandler(&t))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}

	var next atomic.Int64
	var mu sync.Mutex
	res := loadResult{statuses: map[int]int{}}
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(ds)); i = next.Add(1) - 1 {
				status, err := send(hc, srv.URL, ds[i])
				mu.Lock()
				if err != nil {
					res.errs = append(res.errs, err)
				} else {
					res.statuses[status]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sent := map[string]bool{}
	for _, d := range ds {
		sent[d.key] = true
	}
	for key := range sent {
		switch n := t.seen[key]; {
		case n == 0:
			res.lost++
		case n > 1:
			res.duplicated++
		}
	}
	for key := range t.seen {
		if !sent[key] {
			tb.Errorf("delivery %q processed but never sent", key)
		}
	}
	return res
}

func send(hc *http.Client, url string, d delivery) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mergelink.SignatureHeader, d.sig)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// sdkHandler is a WebhookHandler with its defaults that tallies each event.
func sdkHandler(tb testing.TB) func(*tally) http.Handler {
	return func(t *tally) http.Handler {
		h, err := mergelink.NewWebhookHandler(func(_ context.Context, ev *mergelink.WebhookEvent) error {
			t.add(ev.LinkedAccount.ID)
			return nil
		}, []string{testWebhookKey})
		require.NoError(tb, err)
		return h
	}
}

// bareHandler is what a receiver written by hand does: read the body,
// check its HMAC with crypto/hmac, decode it into a map. It drops no
// duplicates.
func bareHandler(t *tally) http.Handler {
	key := []byte(testWebhookKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(r.Header.Get(mergelink.SignatureHeader))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		account, _ := m["linked_account"].(map[string]any)
		id, _ := account["id"].(string)
		t.add(id)
		io.WriteString(w, "ok\n")
	})
}

// TestWebhookHandlerLoad sends 10,000 distinct signed deliveries from 64
// concurrent clients over loopback, one in ten of them twice in a row, as
// a retry that overtakes its first copy: every request is answered 200 and
// each delivery reaches the function exactly once.
func TestWebhookHandlerLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 deliveries: skipped in -short")
	}
	t.Parallel()
	var ds []delivery
	for i, d := range deliveries(loadDeliveries) {
		ds = append(ds, d)
		if i%10 == 0 {
			ds = append(ds, d)
		}
	}
	res := serveLoad(t, ds, loadClients, sdkHandler(t))
	assert.Empty(t, res.errs, "requests without an answer")
	assert.Equal(t, map[int]int{http.StatusOK: len(ds)}, res.statuses)
	assert.Zero(t, res.lost, "deliveries lost")
	assert.Zero(t, res.duplicated, "deliveries processed twice")
	t.Logf("%d requests (%d distinct deliveries) from %d clients in %s: %.0f requests/s",
		len(ds), loadDeliveries, loadClients, res.elapsed, float64(len(ds))/res.elapsed.Seconds())
}

// BenchmarkWebhookHandlerLoad serves 10,000 distinct signed deliveries
// from 64 concurrent clients sharing one http.Client over loopback, per
// iteration, with a WebhookHandler ("sdk") and with a handler written by
// hand ("baseline": read, crypto/hmac, json.Unmarshal into a map, no
// duplicate detection), and reports deliveries/s:
//
//	go test -run '^$' -bench WebhookHandlerLoad -benchtime 3x
//
// It fails when a delivery is lost or processed twice.
func BenchmarkWebhookHandlerLoad(b *testing.B) {
	ds := deliveries(loadDeliveries)
	for _, tc := range []struct {
		name       string
		newHandler func(*tally) http.Handler
	}{{"impl=sdk", sdkHandler(b)}, {"impl=baseline", bareHandler}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var total time.Duration
			lost, duplicated := 0, 0
			for i := 0; i < b.N; i++ {
				res := serveLoad(b, ds, loadClients, tc.newHandler)
				if len(res.errs) > 0 || res.statuses[http.StatusOK] != len(ds) {
					b.Errorf("%d requests without an answer (first: %v), statuses %v", len(res.errs), firstErr(res.errs), res.statuses)
				}
				total += res.elapsed
				lost += res.lost
				duplicated += res.duplicated
			}
			b.ReportMetric(float64(len(ds)*b.N)/total.Seconds(), "deliveries/s")
			b.ReportMetric(float64(lost), "lost")
			b.ReportMetric(float64(duplicated), "duplicated")
			if lost+duplicated > 0 {
				b.Errorf("%d deliveries lost, %d processed twice", lost, duplicated)
			}
		})
	}
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
