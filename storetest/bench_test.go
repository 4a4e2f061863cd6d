package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/redisstore"
	"github.com/mergelink/mergelink/sqlstore"
)

const benchClients = 64

// benchStore is a store under benchmark and how to count the round trips
// it made, from the server's own statistics (nil: not counted).
type benchStore struct {
	name       string
	open       func(b *testing.B) mergelink.DeliveryStore
	roundTrips func(b *testing.B) int64
}

func benchStores(b *testing.B) []benchStore {
	var table, prefix string
	var pg *sql.DB
	var rdb redis.UniversalClient
	return []benchStore{
		{name: "memory", open: func(b *testing.B) mergelink.DeliveryStore {
			s, err := mergelink.NewMemoryDeliveryStore(mergelink.MemoryDeliveryStoreOptions{MaxEntries: 1 << 20})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{name: "sqlite", open: func(b *testing.B) mergelink.DeliveryStore {
			return newSQLStore(b, sqlite(b), sqlstore.Options{Dialect: sqlstore.SQLite})
		}},
		{name: "postgres", open: func(b *testing.B) mergelink.DeliveryStore {
			pg = postgres(b)
			if _, err := pg.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
				b.Fatalf("pg_stat_statements (start PostgreSQL with shared_preload_libraries=pg_stat_statements, as .ci/services does): %v", err)
			}
			table = newTable()
			return newSQLStore(b, pg, sqlstore.Options{Dialect: sqlstore.Postgres, Table: table})
		}, roundTrips: func(b *testing.B) int64 {
			// Every statement the store runs names its table.
			var n int64
			if err := pg.QueryRow("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%' || $1 || '%' AND query NOT LIKE 'CREATE%'", table).Scan(&n); err != nil {
				b.Fatal(err)
			}
			return n
		}},
		{name: "redis", open: func(b *testing.B) mergelink.DeliveryStore {
			rdb = redisClient(b)
			prefix = newTable() + ":"
			return redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		}, roundTrips: func(b *testing.B) int64 {
			// Every command a client sent, less the INFO that asks and the
			// HELLO that opens each connection: Redis also counts the
			// commands a script runs, which for redisstore are GET, PSETEX
			// and UNLINK and nothing else.
			info, err := rdb.Info(context.Background(), "commandstats").Result()
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			for _, line := range strings.Split(info, "\n") {
				name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
				switch name {
				case "cmdstat_get", "cmdstat_psetex", "cmdstat_unlink", "cmdstat_hello", "cmdstat_info":
					continue
				}
				if !ok || !strings.HasPrefix(name, "cmdstat_") {
					continue
				}
				calls, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
				n += calls
			}
			return n
		}},
	}
}

// BenchmarkDeliveryStore sends b.N distinct signed webhooks over 64
// loopback connections to a WebhookHandler on each store (first), then
// the same b.N again (duplicate), and reports the latency percentiles and
// the round trips per delivery that the server counted. Run it with
// -benchtime 10000x; compare each store with memory in the same run.
func BenchmarkDeliveryStore(b *testing.B) {
	for _, bs := range benchStores(b) {
		b.Run(bs.name, func(b *testing.B) {
			store := bs.open(b)
			h, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error { return nil },
				[]string{fleetKey}, mergelink.WithDuplicateStore(store))
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			var ds []fleetDelivery // the first phase's, which the second sends again
			for _, phase := range []string{"first", "duplicate"} {
				b.Run(phase, func(b *testing.B) {
					if phase == "first" {
						ds = benchDeliveries(b.N)
					} else if b.N > len(ds) {
						b.Fatalf("run with -benchtime %dx: the duplicates are the first phase's deliveries", len(ds))
					}
					var before int64
					if bs.roundTrips != nil {
						before = bs.roundTrips(b)
					}
					b.ResetTimer()
					lat := sendAll(b, srv.URL, ds[:b.N])
					b.StopTimer()
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
					if bs.roundTrips != nil {
						b.ReportMetric(float64(bs.roundTrips(b)-before)/float64(b.N), "roundtrips/op")
					}
				})
			}
		})
	}
}

func benchDeliveries(n int) []fleetDelivery {
	ds := make([]fleetDelivery, n)
	stamp := time.Now().UnixNano()
	for i := range ds {
		id := fmt.Sprintf("la-%d-%d", stamp, i)
		body := []byte(`{"hook":{"id":"hook-1","event":"LinkedAccount.linked","target":"https://receiver.example/webhooks"},` +
			`"linked_account":{"id":"` + id + `"},"data":{"account_token":"tok-` + id + `","is_relink":false}}`)
		ds[i] = fleetDelivery{id: id, body: body, sig: mergelink.SignWebhook(body, fleetKey)}
	}
	return ds
}

// sendAll posts every delivery once from 64 clients and returns each
// request's latency. Every answer must be 200.
func sendAll(b *testing.B, url string, ds []fleetDelivery) []time.Duration {
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	lat := make([]time.Duration, len(ds))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(ds[i].body))
				req.Header.Set(mergelink.SignatureHeader, ds[i].sig)
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: status %d", ds[i].id, resp.StatusCode)
					}
				}
				lat[i] = time.Since(start)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range ds {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return lat
}
