package webhookcore

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/internal/validate"
)

// DefaultMaxBodyBytes is the body limit unless WithMaxBodyBytes sets
// another: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Options is what the Option functions set.
type Options struct {
	maxBody   int64
	store     delivery.Store
	noStore   bool
	transact  Transact
	lease     time.Duration
	logger    *slog.Logger
	check     *validate.Checker
	tolerance time.Duration // 0: not set
}

// Option configures a Handler. A wrong option makes New fail with a
// *ValidationError that names it.
type Option func(*Options)

// WithMaxBodyBytes sets the largest body read; a larger one is answered
// 413.
func WithMaxBodyBytes(n int64) Option {
	return func(o *Options) {
		if n <= 0 {
			o.check.Add("WithMaxBodyBytes", "must be positive", fmt.Sprint(n))
			return
		}
		o.maxBody = n
	}
}

// WithDuplicateStore sets the delivery store; nil turns duplicate
// detection off. A nil pointer of a store type is refused.
func WithDuplicateStore(s delivery.Store) Option {
	return func(o *Options) {
		if s != nil {
			if v := reflect.ValueOf(s); v.Kind() == reflect.Pointer && v.IsNil() {
				o.check.Add("WithDuplicateStore", "got a nil "+v.Type().String()+": pass a store, or nil itself to turn duplicate detection off", "")
				return
			}
		}
		o.store, o.noStore = s, s == nil
	}
}

// WithDeliveryLease sets how long a claim lasts.
func WithDeliveryLease(d time.Duration) Option {
	return func(o *Options) {
		if d < time.Second {
			o.check.Add("WithDeliveryLease", "must be at least 1s", d.String())
			return
		}
		o.lease = d
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(o *Options) { o.logger = l }
}

// Transact runs call in a transaction of a store and, unless key is empty,
// records in that transaction the success of owner's claim on key, so
// that call's writes and the record commit together or not at all. It
// returns call's error, delivery.ErrClaimLost when owner's claim cannot
// be recorded (nothing is committed then), or the store's error.
type Transact func(ctx context.Context, key, owner string, call func(context.Context) error) error

// WithTransact makes the handler claim deliveries in store and run fn
// through t. It is set last by the constructors that offer it, so that no
// WithDuplicateStore undoes it.
func WithTransact(store delivery.Store, t Transact) Option {
	return func(o *Options) { o.store, o.noStore, o.transact = store, false, t }
}

// WithTolerance sets how far from now a delivery's signed time may be
// (Spec.Dated): older, or further ahead, is refused as a possible replay.
func WithTolerance(d time.Duration) Option {
	return func(o *Options) {
		if d <= 0 {
			o.check.Add("WithWebhookTolerance", "must be positive", d.String())
			return
		}
		o.tolerance = d
	}
}
