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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/mergeerr"
)

// DefaultPrefix starts every key unless Options.Prefix sets another.
const DefaultPrefix = "mergelink:delivery:"

// Options configures New. The zero value gives the defaults.
type Options struct {
	// Prefix starts every key, DefaultPrefix when empty. Give each
	// service its own when several share a Redis.
	Prefix string
	// TTL is how long a success is remembered, delivery.DefaultTTL (24h)
	// when 0; at least a millisecond (Redis's unit), and a fraction of one
	// is rounded up.
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

// New returns a store on rdb. Wrong options (a nil client, a TTL that is
// negative or under a millisecond) do not fail here: Begin and Done then
// fail with a *mergelink.ValidationError that names them.
func New(rdb redis.UniversalClient, o Options) *Store {
	s := &Store{rdb: rdb, prefix: o.Prefix, ttl: ceilMilli(o.TTL)}
	var problems []mergeerr.ValidationProblem
	if rdb == nil {
		problems = append(problems, mergeerr.ValidationProblem{Field: "rdb", Rule: "required: pass a redis.UniversalClient"})
	}
	if o.TTL < 0 || (o.TTL > 0 && o.TTL < time.Millisecond) {
		problems = append(problems, mergeerr.ValidationProblem{Field: "TTL", Rule: "must be 0 (24h) or at least 1ms, Redis's unit", Value: o.TTL.String()})
	}
	if problems != nil {
		s.err = &mergeerr.ValidationError{Params: "redisstore.Options", Problems: problems}
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.ttl == 0 {
		s.ttl = delivery.DefaultTTL
	}
	return s
}

// ceilMilli rounds d up to whole milliseconds, Redis's unit, so that no
// positive duration becomes 0 (which Redis refuses, or takes as no expiry).
func ceilMilli(d time.Duration) time.Duration {
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

const (
	claimed = "c:" // + owner
	done    = "d"
)

// Begin claims key for owner until lease ends (rounded up to whole
// milliseconds): one SET NX PX GET. A claim that is owner's already (the
// reply to an earlier try was lost, and the client sent it again) is New.
// It fails with Redis's error (the handler then answers 503), or a
// *mergelink.ValidationError for wrong options or arguments.
func (s *Store) Begin(ctx context.Context, key, owner string, lease time.Duration) (delivery.State, error) {
	if s.err != nil {
		return delivery.Busy, s.err
	}
	if err := delivery.CheckClaim(key, owner, lease); err != nil {
		return delivery.Busy, err
	}
	old, err := s.rdb.SetArgs(ctx, s.prefix+key, claimed+owner, redis.SetArgs{Mode: "NX", TTL: ceilMilli(lease), Get: true}).Result()
	switch {
	case errors.Is(err, redis.Nil), err == nil && old == claimed+owner: // the key was free, or is already ours: claimed
		return delivery.New, nil
	case err != nil:
		return delivery.Busy, fmt.Errorf("redisstore: claim delivery: %w", err)
	case old == done:
		return delivery.Done, nil
	}
	return delivery.Busy, nil
}

// finish ends a claim if KEYS[1] holds ARGV[1] (the owner's claim) or
// nothing (the lease ran out, and no copy took the delivery over or the
// one that did released it: a success still counts, a failure leaves the
// key free). ARGV[2] is 1 for a success, ARGV[3] the TTL in ms. It returns
// 0 when another owner's claim or a success holds the key, 1 otherwise.
var finish = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v ~= ARGV[1] and v ~= false then
  return 0
end
if ARGV[2] == '1' then
  redis.call('PSETEX', KEYS[1], ARGV[3], 'd')
else
  redis.call('UNLINK', KEYS[1])
end
return 1
`)

// Done ends owner's claim on key: one script call (EVALSHA). A late
// outcome counts when no other owner holds a live claim (see
// delivery.Store). It fails with delivery.ErrClaimLost when another owner
// does or a success is recorded already, and with Redis's error.
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
