package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/delivery/deliverytest"
	"github.com/mergelink/mergelink/internal/testnet"
	"github.com/mergelink/mergelink/redisstore"
)

// envRedis names the Redis the tests use; .ci/services starts one.
const envRedis = "MERGELINK_TEST_REDIS"

var prefixSeq atomic.Int64

// setup returns a client of the test Redis and a key prefix no other test
// uses, or skips the test when MERGELINK_TEST_REDIS is unset.
func setup(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	url := os.Getenv(envRedis)
	if url == "" {
		t.Skip(envRedis + " is not set: these tests need a real Redis 7 (e.g. redis://127.0.0.1:6379/0); .ci/services starts one")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", envRedis, err)
	}
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{opt.Addr}, DB: opt.DB, Password: opt.Password})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("%s=%s: %v", envRedis, url, err)
	}
	return rdb, fmt.Sprintf("test:%d:%d:", time.Now().UnixNano(), prefixSeq.Add(1))
}

func TestContract(t *testing.T) {
	t.Parallel()
	rdb, prefix := setup(t)
	deliverytest.Run(t, func(t *testing.T, ttl time.Duration) deliverytest.Harness {
		return deliverytest.Harness{
			Store: redisstore.New(rdb, redisstore.Options{Prefix: prefix, TTL: ttl}),
			// A time in the past expires the key at once, as Redis does
			// when the lease runs out.
			EndLease: func(key string) {
				if err := rdb.PExpireAt(context.Background(), prefix+key, time.UnixMilli(1)).Err(); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// The keys carry the prefix, a claim expires with its lease and a success
// with the TTL, by Redis's own expiry.
func TestKeysAndExpiry(t *testing.T) {
	t.Parallel()
	rdb, prefix := setup(t)
	ctx := context.Background()
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix, TTL: time.Hour})
	state, err := s.Begin(ctx, "k", "owner-1", 30*time.Second)
	if err != nil || state != delivery.New {
		t.Fatalf("Begin: %v, %v", state, err)
	}
	if v := rdb.Get(ctx, prefix+"k").Val(); v != "c:owner-1" {
		t.Errorf("claim value %q", v)
	}
	if ttl := rdb.PTTL(ctx, prefix+"k").Val(); ttl <= 29*time.Second || ttl > 30*time.Second {
		t.Errorf("claim TTL %v, want the 30s lease", ttl)
	}
	if err := s.Done(ctx, "k", "owner-1", true); err != nil {
		t.Fatal(err)
	}
	if v := rdb.Get(ctx, prefix+"k").Val(); v != "d" {
		t.Errorf("success value %q", v)
	}
	if ttl := rdb.PTTL(ctx, prefix+"k").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("success TTL %v, want the 1h TTL", ttl)
	}
	if n := rdb.Exists(ctx, redisstore.DefaultPrefix+"k").Val(); n != 0 {
		t.Errorf("a key without the prefix exists")
	}
}

func TestWrongOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rdb    redis.UniversalClient
		ttl    time.Duration
		fields []string
	}{
		{"nil client, negative TTL", nil, -time.Second, []string{"rdb", "TTL"}},
		// Redis counts in milliseconds: this TTL was sent as PSETEX 0,
		// which Redis refuses, so no success was ever recorded.
		{"TTL under a millisecond", redis.NewClient(&redis.Options{}), 999 * time.Microsecond, []string{"TTL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := redisstore.New(tc.rdb, redisstore.Options{TTL: tc.ttl})
			_, beginErr := s.Begin(context.Background(), "k", "o", time.Second)
			for what, err := range map[string]error{"Begin": beginErr, "Done": s.Done(context.Background(), "k", "o", true)} {
				var verr *mergelink.ValidationError
				if !errors.As(err, &verr) {
					t.Fatalf("%s with wrong options: %v, want a *ValidationError", what, err)
				}
				for _, f := range tc.fields {
					if !verr.Has(f) {
						t.Errorf("%s: %v does not name %s", what, err, f)
					}
				}
			}
		})
	}
}

// Durations that are not whole milliseconds are rounded up, so that a
// lease or TTL of a fraction of a millisecond is not 0.
func TestSubMillisecondDurationsRoundedUp(t *testing.T) {
	t.Parallel()
	rdb, prefix := setup(t)
	ctx := context.Background()
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix, TTL: time.Hour + 500*time.Microsecond})
	state, err := s.Begin(ctx, "k", "o", 10*time.Minute+time.Microsecond)
	if err != nil || state != delivery.New {
		t.Fatalf("Begin with a lease of 10m1µs: %v, %v", state, err)
	}
	if ttl := rdb.PTTL(ctx, prefix+"k").Val(); ttl <= 9*time.Minute || ttl > 10*time.Minute+time.Millisecond {
		t.Errorf("claim TTL %v, want 10m1ms", ttl)
	}
	if err := s.Done(ctx, "k", "o", true); err != nil {
		t.Fatalf("Done with a TTL of 1h0.5ms: %v", err)
	}
	if state, err := s.Begin(ctx, "k", "p", time.Minute); err != nil || state != delivery.Done {
		t.Errorf("after the success: %v, %v, want done", state, err)
	}
}

// With Redis down, the handler answers 503 and never calls fn.
func TestHandlerStoreDown(t *testing.T) {
	t.Parallel()
	addr := testnet.RefusedAddr(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	var calls atomic.Int32
	h, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error {
		calls.Add(1)
		return nil
	}, []string{"key"}, mergelink.WithDuplicateStore(redisstore.New(rdb, redisstore.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"la-1"},"data":{"account_token":"tok"}}`)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, "key"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	if calls.Load() != 0 {
		t.Error("fn was called with the store down")
	}
	_, err = redisstore.New(rdb, redisstore.Options{}).Begin(context.Background(), "k", "o", time.Second)
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Begin with Redis down: %v, want a network error", err)
	}
}
