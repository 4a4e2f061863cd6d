// Package delivery is the contract between Merge webhook handlers and the
// stores that make them run their function once per delivery although
// Merge retries: mergelink.NewWebhookHandler and
// agenthandler.NewWebhookHandler both take a Store, so one store serves a
// fleet of receivers for both APIs.
//
// A Store holds, per delivery key, either a claim (an owner token and a
// lease) or a success. Begin claims; only the owner's Done ends its claim;
// a claim whose lease ran out (its process died or hung) goes to the next
// copy that asks; a success is remembered for a TTL. MemoryStore keeps
// this in one process; the sqlstore package and the redisstore module keep
// it in a database shared by every replica.
package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// State is what a Store knows of a delivery when Begin is called.
type State int

const (
	// New: the caller now owns a claim on the delivery until its lease
	// ends, must process it and report the outcome with Done.
	New State = iota
	// Done: a copy of the delivery was processed successfully within the
	// TTL; it must not be processed again.
	Done
	// Busy: another copy holds a live claim. The handler answers 503 so
	// that Merge sends the delivery again later.
	Busy
)

func (s State) String() string {
	switch s {
	case New:
		return "new"
	case Done:
		return "done"
	case Busy:
		return "busy"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Store remembers which deliveries were processed and which are being
// processed, by key (handlers use the hex SHA-256 of the signed body, since
// Merge signs no delivery id). Implementations must be safe for concurrent
// use; a store shared by several processes makes the guarantee hold across
// them.
type Store interface {
	// Begin claims key for owner (a random token, one per attempt) for
	// lease. It returns New when owner now holds the claim, Done when a
	// copy succeeded within the TTL, and Busy when another owner holds a
	// claim whose lease has not run out. A claim whose lease ran out is
	// taken over: Begin returns New to its new owner. A store may wait for
	// a live claim to end instead of answering Busy; it then returns
	// ctx.Err() if ctx ends first. Any error makes the handler answer 503.
	Begin(ctx context.Context, key, owner string, lease time.Duration) (State, error)
	// Done ends owner's claim on key: a success is remembered for the
	// TTL; a failure is forgotten, so that Merge's retry processes the
	// delivery again. An outcome reported after the lease ran out counts
	// as long as no other owner holds a live claim and no success is
	// recorded: a late success is recorded (the work was done, even when
	// another copy took the claim over and released it since), a late
	// failure leaves the key free. Done fails with ErrClaimLost, and
	// changes nothing, when another owner holds a live claim or a success
	// is recorded already.
	Done(ctx context.Context, key, owner string, succeeded bool) error
}

// ErrClaimLost is returned by Done when the outcome cannot count: another
// copy holds a live claim (the caller's lease ran out and it took the
// delivery over) or a success is recorded already.
var ErrClaimLost = errors.New("delivery: the claim is not the caller's: its lease ran out and another copy holds the delivery, or it succeeded already")

// Key returns the delivery key of a signed webhook body: its hex SHA-256,
// the key the handlers give the stores, since Merge signs no delivery id.
func Key(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Defaults shared by the stores.
const (
	// DefaultTTL is how long a success is remembered: Merge's retries of
	// a delivery end well within it.
	DefaultTTL = 24 * time.Hour
	// DefaultLease is how long a handler's claim lasts unless it is told
	// otherwise.
	DefaultLease = 30 * time.Second
)
