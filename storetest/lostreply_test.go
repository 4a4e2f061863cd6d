package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/redisstore"
	"github.com/mergelink/mergelink/sqlstore"
)

// replyEater is a TCP proxy on loopback that forwards everything between
// clients and a server, except that once armed with a marker, the first
// command that holds the marker reaches the server and its reply does not
// reach the client: the proxy reads it (until whole says it is) and closes
// both connections. The command was applied; its reply was lost.
type replyEater struct {
	ln        net.Listener
	target    string
	whole     func(reply []byte) bool
	mu        sync.Mutex
	marker    []byte        // guarded by mu
	swallowed chan struct{} // closed when a reply was eaten
}

func newReplyEater(t *testing.T, target string, whole func([]byte) bool) *replyEater {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &replyEater{ln: ln, target: target, whole: whole, swallowed: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *replyEater) addr() string { return p.ln.Addr().String() }

// arm makes the proxy eat the reply to the next command that holds marker.
func (p *replyEater) arm(marker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker = []byte(marker)
}

// take reports whether chunk holds the marker, and disarms the proxy then.
func (p *replyEater) take(chunk []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.marker == nil || !bytes.Contains(chunk, p.marker) {
		return false
	}
	p.marker = nil
	return true
}

func (p *replyEater) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		var eating atomic.Bool
		closeBoth := func() { client.Close(); server.Close() }
		go func() { // client to server
			defer closeBoth()
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if err != nil {
					return
				}
				if p.take(buf[:n]) {
					eating.Store(true) // before the command leaves: every byte after is its reply
				}
				if _, err := server.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
		go func() { // server to client
			defer closeBoth()
			buf := make([]byte, 64<<10)
			var reply []byte
			for {
				n, err := server.Read(buf)
				if err != nil {
					return
				}
				if !eating.Load() {
					if _, err := client.Write(buf[:n]); err != nil {
						return
					}
					continue
				}
				if reply = append(reply, buf[:n]...); p.whole(reply) {
					close(p.swallowed)
					return
				}
			}
		}()
	}
}

// redisReplyWhole: a reply to SET ... GET is one line (or a bulk string,
// a header line and a data line, both ended by CRLF).
func redisReplyWhole(b []byte) bool {
	return bytes.HasSuffix(b, []byte("\r\n")) && (b[0] != '$' || bytes.Count(b, []byte("\r\n")) >= 2 || bytes.HasPrefix(b, []byte("$-1")))
}

// postgresReplyWhole: the reply ends with ReadyForQuery, after the
// implicit transaction committed.
func postgresReplyWhole(b []byte) bool {
	return bytes.Contains(b, []byte("Z\x00\x00\x00\x05"))
}

// redisVia returns a client of the test Redis through addr, retrying a
// command maxRetries times (-1: never).
func redisVia(t *testing.T, addr string, maxRetries int) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(os.Getenv(envRedis))
	require.NoError(t, err)
	opt.Addr, opt.MaxRetries, opt.MinRetryBackoff, opt.MaxRetryBackoff = addr, maxRetries, time.Millisecond, 2*time.Millisecond
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// A lost reply to Begin's SET, which go-redis sends again: the claim it
// finds is the caller's own, so the delivery is New, not Busy (which made
// every copy wait out the lease while fn never ran).
func TestRedisBeginLostReplyIsOwnClaim(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	p := newReplyEater(t, rdb.(*redis.Client).Options().Addr, redisReplyWhole)
	s := redisstore.New(redisVia(t, p.addr(), 3), redisstore.Options{Prefix: newTable() + ":"})
	ctx := context.Background()
	p.arm("lost-reply-key")
	state, err := s.Begin(ctx, "lost-reply-key", "owner-1", time.Minute)
	require.NoError(t, err)
	<-p.swallowed
	assert.Equal(t, delivery.New, state, "the claim found on the retry is the caller's own")
	require.NoError(t, s.Done(ctx, "lost-reply-key", "owner-1", true))
	state, err = s.Begin(ctx, "lost-reply-key", "owner-2", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, delivery.Done, state)
}

// A lost reply to the handler's claim: the handler releases the claim it
// may hold, so that Merge's next retry runs fn at once instead of being
// answered 503 for a whole lease. On PostgreSQL and on Redis with no
// client retries.
func TestHandlerReleasesClaimAfterLostBeginReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) (mergelink.DeliveryStore, *replyEater)
	}{
		{"Postgres", func(t *testing.T) (mergelink.DeliveryStore, *replyEater) {
			db := postgres(t)
			u, err := url.Parse(os.Getenv(envPostgres))
			require.NoError(t, err)
			p := newReplyEater(t, u.Host, postgresReplyWhole)
			u.Host = p.addr()
			proxied, err := sql.Open("pgx", u.String())
			require.NoError(t, err)
			t.Cleanup(func() { proxied.Close() })
			table := newTable()
			newSQLStore(t, db, sqlstore.Options{Dialect: sqlstore.Postgres, Table: table})
			return sqlstore.New(proxied, sqlstore.Options{Dialect: sqlstore.Postgres, Table: table}), p
		}},
		{"Redis", func(t *testing.T) (mergelink.DeliveryStore, *replyEater) {
			rdb := redisClient(t)
			p := newReplyEater(t, rdb.(*redis.Client).Options().Addr, redisReplyWhole)
			return redisstore.New(redisVia(t, p.addr(), -1), redisstore.Options{Prefix: newTable() + ":"}), p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, p := tc.store(t)
			var calls atomic.Int32
			h, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error {
				calls.Add(1)
				return nil
			}, []string{"key"}, mergelink.WithDuplicateStore(store), mergelink.WithDeliveryLease(time.Minute))
			require.NoError(t, err)
			body := `{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"la-` + tc.name + `"},"data":{"account_token":"tok"}}`
			post := func() int { return postSigned(h, body, "key") }
			p.arm(delivery.Key([]byte(body)))
			first := post()
			<-p.swallowed
			if first == http.StatusOK {
				t.Log("the client retried the claim itself")
			} else {
				assert.Equal(t, http.StatusServiceUnavailable, first, "the claim's reply was lost")
				assert.Equal(t, http.StatusOK, post(), "Merge's retry is processed at once, not after the one-minute lease")
			}
			assert.Equal(t, int32(1), calls.Load(), "fn ran once")
			assert.Equal(t, http.StatusOK, post(), "a later copy: already processed")
			assert.Equal(t, int32(1), calls.Load(), "fn ran once")
		})
	}
}
