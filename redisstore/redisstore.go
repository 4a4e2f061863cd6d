// Package redisstore is a mergelink.DeliveryStore on Redis, so that every
// replica of a webhook receiver shares one record of which deliveries were
// processed. It works with any redis.UniversalClient: a single node,
// Sentinel or Cluster (each delivery is one key).
//
// A claim is SET key "c:OWNER" NX PX lease GET (Redis 7.0 or later): one
// round trip that claims a free key, or returns what holds it. Redis
// expires a claim whose lease ran out, so the next copy takes it. Done is a
// script that checks the owner and then records "d" for the TTL (a
// success) or deletes the key (a failure): one more round trip. A
// duplicate costs one round trip.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mergelink/mergelink/delivery"
)

// DefaultPrefix starts every key unless Options.Prefix sets another.
const DefaultPrefix = "mergelink:delivery:"

// Options configures New. The zero value gives the defaults.
type Options struct {
	// Prefix starts every key, DefaultPrefix when empty. Give each
	// service its own when several share a Redis.
	Prefix string
	// TTL is how long a success is remembered, delivery.DefaultTTL (24h)
	// when 0.
	TTL time.Duration
}

// Store is a delivery store in Redis. It is safe for concurrent use, and
// by several processes on one Redis.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	err    error
}

// New returns a store on rdb. Wrong options (a nil client, a negative
// TTL) do not fail here: Begin and Done then fail with an error that names
// them.
func New(rdb redis.UniversalClient, o Options) *Store {
	s := &Store{rdb: rdb, prefix: o.Prefix, ttl: o.TTL}
	var problems []string
	if rdb == nil {
		problems = append(problems, "a nil client: pass a redis.UniversalClient")
	}
	if o.TTL < 0 {
		problems = append(problems, "TTL "+o.TTL.String()+" is negative (0 means 24h)")
	}
	if problems != nil {
		s.err = errors.New("redisstore: wrong options: " + strings.Join(problems, "; "))
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.ttl == 0 {
		s.ttl = delivery.DefaultTTL
	}
	return s
}

const (
	claimed = "c:" // + owner
	done    = "d"
)

// Begin claims key for owner until lease ends: one SET NX PX GET. It fails
// with Redis's error (the handler then answers 503), or an error for wrong
// options or arguments.
func (s *Store) Begin(ctx context.Context, key, owner string, lease time.Duration) (delivery.State, error) {
	if s.err != nil {
		return delivery.Busy, s.err
	}
	if err := delivery.CheckClaim(key, owner, lease); err != nil {
		return delivery.Busy, err
	}
	old, err := s.rdb.SetArgs(ctx, s.prefix+key, claimed+owner, redis.SetArgs{Mode: "NX", TTL: lease, Get: true}).Result()
	switch {
	case errors.Is(err, redis.Nil): // the key was free: claimed
		return delivery.New, nil
	case err != nil:
		return delivery.Busy, fmt.Errorf("redisstore: claim delivery: %w", err)
	case old == done:
		return delivery.Done, nil
	}
	return delivery.Busy, nil
}

// finish ends a claim if KEYS[1] holds ARGV[1] (the owner's claim), or
// holds nothing on a success (the lease ran out and no copy took the
// delivery over: the success still counts). ARGV[2] is 1 for a success,
// ARGV[3] the TTL in ms. It returns 1 when it changed the key.
var finish = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v ~= ARGV[1] and not (v == false and ARGV[2] == '1') then
  return 0
end
if ARGV[2] == '1' then
  redis.call('PSETEX', KEYS[1], ARGV[3], 'd')
else
  redis.call('UNLINK', KEYS[1])
end
return 1
`)

// Done ends owner's claim on key: one script call (EVALSHA). It fails
// with delivery.ErrClaimLost when another owner holds the claim or, on a
// failure, when nobody does, and with Redis's error.
func (s *Store) Done(ctx context.Context, key, owner string, succeeded bool) error {
	if s.err != nil {
		return s.err
	}
	ok := "0"
	if succeeded {
		ok = "1"
	}
	n, err := finish.Run(ctx, s.rdb, []string{s.prefix + key}, claimed+owner, ok, s.ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redisstore: record delivery outcome: %w", err)
	}
	if n == 0 {
		return delivery.ErrClaimLost
	}
	return nil
}
