package agenthandler

import (
	"errors"
	"fmt"
	"time"

	"github.com/mergelink/mergelink/internal/webhookcore"
)

// DefaultWebhookTolerance is how far from now the signed time of an Agent
// Handler webhook (its created_at) may be unless a tolerance is set:
// ParseWebhook and a WebhookHandler refuse an older event, or one dated
// further ahead, as a possible replay. Agent Handler's own retries (five,
// with backoff) end well within it, and it is well under the 24 hours for
// which a delivery store remembers a delivery by default, so that a copy
// is either still remembered as a duplicate or refused by its age.
const DefaultWebhookTolerance = 6 * time.Hour

// ErrStaleWebhook is matched, through a *StaleWebhookError, by the error
// for a correctly signed Agent Handler webhook whose signed time is
// further from now than the tolerance.
var ErrStaleWebhook = errors.New("mergelink: Agent Handler webhook is dated outside the tolerance: refused as a possible replay")

// StaleWebhookError says how far from now a refused webhook's signed time
// is. It matches ErrStaleWebhook with errors.Is.
type StaleWebhookError struct {
	// CreatedAt is the event's signed time.
	CreatedAt time.Time
	// Age is how long before now CreatedAt is; negative when it is ahead.
	Age time.Duration
	// Tolerance is the largest age (either way) accepted.
	Tolerance time.Duration
}

func (e *StaleWebhookError) Error() string {
	return fmt.Sprintf("%s: created at %s, %s from now, over the tolerance of %s (set another with WithWebhookTolerance, or ParseWebhookWithTolerance)",
		ErrStaleWebhook, e.CreatedAt.UTC().Format(time.RFC3339), e.Age.Abs().Round(time.Second), e.Tolerance)
}

// Is makes errors.Is(err, ErrStaleWebhook) true.
func (e *StaleWebhookError) Is(target error) bool { return target == ErrStaleWebhook }

// ParseWebhookWithTolerance is ParseWebhook with a tolerance of its own
// instead of DefaultWebhookTolerance: a verified event whose signed time
// (WebhookEvent.CreatedAt) is more than tolerance before or after now
// fails with a *StaleWebhookError. An event without a time the SDK reads
// passes (the body is signed, so no one but Agent Handler can take a time
// out of it). A tolerance of 0 checks no time: only for bodies you stored
// yourself and parse again.
func ParseWebhookWithTolerance(payload []byte, signature string, tolerance time.Duration, keys ...string) (*WebhookEvent, error) {
	if err := VerifyWebhookSignature(payload, signature, keys...); err != nil {
		return nil, err
	}
	ev, err := decodeWebhook(payload)
	if err != nil {
		return nil, err
	}
	if err := checkAge(ev.CreatedAt, time.Now(), tolerance); err != nil {
		return nil, err
	}
	return ev, nil
}

// checkAge refuses a signed time further than tolerance from now; a zero
// time or tolerance passes.
func checkAge(createdAt, now time.Time, tolerance time.Duration) error {
	if createdAt.IsZero() || tolerance <= 0 {
		return nil
	}
	if age := now.Sub(createdAt); age > tolerance || age < -tolerance {
		return &StaleWebhookError{CreatedAt: createdAt, Age: age, Tolerance: tolerance}
	}
	return nil
}

// WithWebhookTolerance sets how far from now the signed time of an Agent
// Handler webhook may be before a WebhookHandler refuses it (400) as a
// possible replay; d must be positive, and is DefaultWebhookTolerance
// unless set. Keep it under the delivery store's TTL, so that a copy within
// the tolerance is still remembered. mergelink.NewWebhookHandler refuses
// it: the Unified API's webhooks carry no signed time.
func WithWebhookTolerance(d time.Duration) WebhookOption { return webhookcore.WithTolerance(d) }
