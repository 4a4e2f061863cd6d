package mergelink

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/webhookcore"
	"github.com/mergelink/mergelink/internal/webhookmac"
)

// DefaultMaxWebhookBodyBytes is the body limit of a WebhookHandler unless
// WithMaxBodyBytes sets another: 1 MiB.
const DefaultMaxWebhookBodyBytes = webhookcore.DefaultMaxBodyBytes

// WebhookHandler is an http.Handler that receives Merge webhooks: it
// verifies each body's signature, decodes it and passes the event to a
// function, once per distinct delivery. It answers
//
//   - 405 (with Allow: POST) for another method,
//   - 413 for a body over the limit,
//   - 401 for a missing or wrong signature,
//   - 400 for a signed body that is not a Merge webhook,
//
// all without calling the function; 200 after the function succeeds, and
// 500 when it fails, so that Merge retries. A delivery already processed
// is answered 200 without calling the function again. While another copy
// of the delivery holds a live claim, and when the DeliveryStore fails, it
// answers 503 with Retry-After, without calling the function, so that
// Merge sends it again later. The dashboard's test payload reaches the
// function every time it is sent (WebhookEvent.IsTest tells it apart). A
// WebhookHandler is safe for concurrent use.
//
// # The guarantee
//
// With a DeliveryStore shared by every replica (sqlstore, redisstore), and
// as long as Merge retries until it gets a 2xx: the function completes at
// least once per distinct delivery (distinct signed body); it runs twice
// only when a replica died, or its function overran its context, between
// the function finishing and the outcome being recorded, or when the store
// failed to record a success for the whole time left for it. In detail:
// each delivery is claimed for the lease (WithDeliveryLease, 30s by
// default) under a random owner token; the function's context ends after
// four fifths of the lease, leaving the last fifth to record the outcome,
// before the answer is sent; a failed record of a success is retried
// within that fifth, and if it still fails the answer is 2xx all the same
// (the work was done, so Merge must not send it again) and the failure is
// logged at error level. So a 2xx means the function succeeded, and its
// success is stored unless the log says otherwise; a 5xx means it did not
// succeed. A claim whose lease ran out (a replica died or hung) goes to
// the next copy that arrives, and the late owner's record then changes
// nothing; when claiming fails (the store's reply was lost, say) the
// handler releases the claim it may hold, so that Merge's retry is
// processed at once. A function that ignores its context and runs past
// the lease can therefore run at the same time as a retry: make it
// idempotent, keyed by WebhookEvent.DeliveryKey, or end it with its
// context. For effects that must happen exactly once, write them to the
// store's own database through sqlstore.NewWebhookHandler.
type WebhookHandler struct {
	core *webhookcore.Handler[*WebhookEvent]
	keys []string
}

// WebhookOption configures a WebhookHandler. A wrong option makes
// NewWebhookHandler fail with a *ValidationError that names it. The same
// options configure agenthandler.NewWebhookHandler.
type WebhookOption = webhookcore.Option

// WithMaxBodyBytes sets the largest body the handler reads; a larger one
// is answered 413. n must be positive; the default is
// DefaultMaxWebhookBodyBytes.
func WithMaxBodyBytes(n int64) WebhookOption { return webhookcore.WithMaxBodyBytes(n) }

// WithDuplicateStore sets where the handler remembers processed deliveries,
// such as a store shared by every replica of a service (sqlstore,
// redisstore). nil turns duplicate detection off: every delivery, retries
// included, then reaches the function. The default is a
// MemoryDeliveryStore with default options. A nil pointer of a store type
// is not nil: NewWebhookHandler refuses it.
func WithDuplicateStore(s DeliveryStore) WebhookOption { return webhookcore.WithDuplicateStore(s) }

// WithDeliveryLease sets how long the handler's claim on a delivery lasts
// (DefaultDeliveryLease unless set; at least 1s). The function's context
// ends after four fifths of it. After a replica dies, its deliveries wait
// out the lease before another replica takes them: a shorter lease
// recovers sooner, a longer one gives the function more time.
func WithDeliveryLease(d time.Duration) WebhookOption { return webhookcore.WithDeliveryLease(d) }

// WithWebhookLogger makes the handler log refused requests and store
// failures at warn level and failures of the function at error level. It
// never logs bodies, signatures, keys or account tokens. The handler is
// silent without it.
func WithWebhookLogger(l *slog.Logger) WebhookOption { return webhookcore.WithLogger(l) }

// NewWebhookHandler returns a handler that passes each verified event to
// fn. keys are the webhook signature keys that verify (more than one during
// a rotation). It fails with ErrNoWebhookKey when keys holds no non-empty
// key, and with a *ValidationError when fn is nil or an option is wrong.
func NewWebhookHandler(fn func(context.Context, *WebhookEvent) error, keys []string, opts ...WebhookOption) (*WebhookHandler, error) {
	h := &WebhookHandler{keys: webhookmac.NonEmpty(keys)}
	if h.keys == nil {
		return nil, ErrNoWebhookKey
	}
	spec := webhookcore.Spec[*WebhookEvent]{
		Name:            "merge webhook",
		SignatureHeader: SignatureHeader,
		Parse: func(body []byte, sig string) (*WebhookEvent, error) {
			return ParseWebhook(body, sig, h.keys...)
		},
		NoSignature:  ErrNoSignature,
		BadSignature: ErrInvalidSignature,
		Unstored:     (*WebhookEvent).IsTest,
	}
	core, err := webhookcore.New(spec, fn, "NewWebhookHandler options", opts)
	if err != nil {
		return nil, err
	}
	h.core = core
	return h, nil
}

// ServeHTTP handles one delivery.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.core.ServeHTTP(w, r) }

// String describes the handler without its keys.
func (h WebhookHandler) String() string {
	if h.core == nil {
		return "mergelink.WebhookHandler{not made by NewWebhookHandler}"
	}
	return fmt.Sprintf("mergelink.WebhookHandler{keys: %d hidden, maxBody: %d, duplicates: %t}", len(h.keys), h.core.MaxBody(), h.core.HasStore())
}

// GoString is String, so that %#v hides the keys too.
func (h WebhookHandler) GoString() string { return h.String() }

// Format prints String for every verb, so that no verb prints the keys.
func (h WebhookHandler) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, h.String(), h.GoString())
}
