package mergelink

import (
	"time"

	"github.com/mergelink/mergelink/delivery"
)

// DeliveryState is what a DeliveryStore knows of a delivery.
type DeliveryState = delivery.State

// The states of a delivery; see DeliveryStore.
const (
	// DeliveryNew: the caller now owns a claim on the delivery, must
	// process it and then call Done.
	DeliveryNew = delivery.New
	// DeliveryDone: a copy of the delivery was processed successfully
	// within the TTL; it must not be processed again.
	DeliveryDone = delivery.Done
	// DeliveryBusy: another copy holds a live claim. The WebhookHandler
	// then answers 503 so that Merge retries later.
	DeliveryBusy = delivery.Busy
)

// DeliveryStore remembers which webhook deliveries were processed and
// which are being processed, so that a WebhookHandler runs its function
// once per distinct delivery although Merge retries. A claim has an owner
// token and a lease: only the owner's Done ends it, and a claim whose lease
// ran out (its process died or hung) goes to the next copy. A success is
// remembered for a TTL (24h by default). MemoryDeliveryStore keeps this in
// one process; the sqlstore package (PostgreSQL, SQLite) and the
// redisstore module keep it where every replica of a service sees it. It is
// the same interface as agenthandler's webhook handler takes, so that one
// store serves both. See the delivery package for the contract.
type DeliveryStore = delivery.Store

// ErrDeliveryClaimLost is returned by DeliveryStore.Done when the caller no
// longer owns the claim: its lease ran out and another copy took the
// delivery over.
var ErrDeliveryClaimLost = delivery.ErrClaimLost

// Defaults of the delivery stores and of WebhookHandler.
const (
	DefaultDeliveryTTL        = delivery.DefaultTTL
	DefaultDeliveryMaxEntries = delivery.DefaultMaxEntries
	// DefaultDeliveryLease is how long a WebhookHandler's claim on a
	// delivery lasts unless WithDeliveryLease sets another: 30s.
	DefaultDeliveryLease time.Duration = delivery.DefaultLease
)

// MemoryDeliveryStoreOptions configures NewMemoryDeliveryStore. The zero
// value gives the defaults: TTL (how long a success is remembered, 24h),
// MaxEntries (how many successes, oldest forgotten first, 10000), Now (the
// clock, time.Now).
type MemoryDeliveryStoreOptions = delivery.MemoryOptions

// MemoryDeliveryStore is the DeliveryStore that a WebhookHandler uses by
// default: it remembers processed deliveries in memory, in one process,
// for a TTL and up to a number of entries. A copy that arrives while
// another holds a live claim waits for it: it is then done (when the first
// succeeded) or claimed (when the first failed or its lease ran out). Make
// one with NewMemoryDeliveryStore: the zero value is not ready for use.
type MemoryDeliveryStore = delivery.MemoryStore

// NewMemoryDeliveryStore returns an empty MemoryDeliveryStore. It fails
// with a *ValidationError when TTL or MaxEntries is negative.
func NewMemoryDeliveryStore(o MemoryDeliveryStoreOptions) (*MemoryDeliveryStore, error) {
	return delivery.NewMemoryStore(o)
}
