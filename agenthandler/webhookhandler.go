package agenthandler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/webhookcore"
	"github.com/mergelink/mergelink/internal/webhookmac"
)

// WebhookHandler is an http.Handler that receives Agent Handler's
// webhooks: it verifies each body's X-Merge-Signature, decodes it and
// passes the event to a function, once per distinct delivery. It is the
// Unified API's mergelink.WebhookHandler on the same machinery, with the
// same answers and guarantee (see there):
//
//   - 405 (with Allow: POST) for another method,
//   - 413 for a body over the limit,
//   - 401 for a missing or wrong signature,
//   - 400 for a signed body that is not a JSON object, or whose signed
//     time is outside the tolerance (WithWebhookTolerance): a replay,
//
// all without calling the function; 200 after the function succeeds and
// its outcome is recorded, 500 when it fails, so that Agent Handler
// retries, and 503 with Retry-After while another copy of the delivery is
// being processed or when the delivery store fails. A delivery already
// processed is answered 200 without calling the function again.
//
// Agent Handler waits 10 seconds for a 2xx and drops an event after five
// failed attempts: keep the function well under that, handing long work
// to a queue. The function's context ends after 8 seconds by default (see
// DefaultWebhookLease). One delivery store (WithDuplicateStore) can serve this
// handler and mergelink.WebhookHandler at once: deliveries are keyed by
// the SHA-256 of the signed body. A WebhookHandler is safe for concurrent
// use.
type WebhookHandler struct {
	core *webhookcore.Handler[*WebhookEvent]
	keys []string
}

// WebhookOption configures a WebhookHandler. It is the type of
// mergelink.WebhookOption: the options of the root package
// (mergelink.WithDuplicateStore, WithMaxBodyBytes, WithDeliveryLease,
// WithWebhookLogger) and the ones below, which are the same, both work. A
// wrong option makes NewWebhookHandler fail with a *ValidationError that
// names it.
type WebhookOption = webhookcore.Option

// DefaultMaxWebhookBodyBytes is the body limit of a WebhookHandler unless
// WithMaxBodyBytes sets another: 1 MiB.
const DefaultMaxWebhookBodyBytes = webhookcore.DefaultMaxBodyBytes

// WithMaxBodyBytes sets the largest body the handler reads; a larger one
// is answered 413. n must be positive; the default is
// DefaultMaxWebhookBodyBytes. It is mergelink.WithMaxBodyBytes.
func WithMaxBodyBytes(n int64) WebhookOption { return webhookcore.WithMaxBodyBytes(n) }

// WithDuplicateStore sets where the handler remembers processed
// deliveries, such as a store shared by every replica of a service and by
// the Unified API's handler. nil turns duplicate detection off; the
// default is an in-memory store. A nil pointer of a store type is refused.
// It is mergelink.WithDuplicateStore.
func WithDuplicateStore(s delivery.Store) WebhookOption { return webhookcore.WithDuplicateStore(s) }

// DefaultWebhookLease is how long a WebhookHandler's claim on a delivery
// lasts unless WithDeliveryLease sets another: Agent Handler's wait for a
// 2xx. The function's context ends after four fifths of it (8 seconds),
// leaving the rest to record the outcome and answer before Agent Handler
// counts the attempt as failed. (The Unified API's handler defaults to
// mergelink.DefaultDeliveryLease.)
const DefaultWebhookLease = 10 * time.Second

// WithDeliveryLease sets how long the handler's claim on a delivery lasts
// (at least 1s; DefaultWebhookLease unless set); the function's context
// ends after four fifths of it. It is mergelink.WithDeliveryLease.
func WithDeliveryLease(d time.Duration) WebhookOption { return webhookcore.WithDeliveryLease(d) }

// WithWebhookLogger makes the handler log refused requests and store
// failures at warn level and failures of the function at error level. It
// never logs bodies, signatures or keys; the handler is silent without
// it. It is mergelink.WithWebhookLogger.
func WithWebhookLogger(l *slog.Logger) WebhookOption { return webhookcore.WithLogger(l) }

// NewWebhookHandler returns a handler that passes each verified event to
// fn. keys are the verification keys that verify: Agent Handler signs with
// one, and a rotation invalidates the old one at once, so pass a second
// only while your own deployment switches over. It fails with
// ErrNoWebhookKey when keys holds no non-empty key, and with a
// *ValidationError when fn is nil or an option is wrong.
func NewWebhookHandler(fn func(context.Context, *WebhookEvent) error, keys []string, opts ...WebhookOption) (*WebhookHandler, error) {
	h := &WebhookHandler{keys: webhookmac.NonEmpty(keys)}
	if h.keys == nil {
		return nil, ErrNoWebhookKey
	}
	spec := webhookcore.Spec[*WebhookEvent]{
		Name:            "agent handler webhook",
		SignatureHeader: SignatureHeader,
		Parse: func(body []byte, sig string) (*WebhookEvent, error) {
			return ParseWebhookWithTolerance(body, sig, h.core.Tolerance(), h.keys...)
		},
		NoSignature:  ErrNoSignature,
		BadSignature: ErrInvalidSignature,
		Dated:        true,
	}
	// The defaults go first, so that the caller's options win.
	opts = append([]WebhookOption{webhookcore.WithDeliveryLease(DefaultWebhookLease), webhookcore.WithTolerance(DefaultWebhookTolerance)}, opts...)
	core, err := webhookcore.New(spec, fn, "agenthandler.NewWebhookHandler options", opts)
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
		return "agenthandler.WebhookHandler{not made by NewWebhookHandler}"
	}
	return fmt.Sprintf("agenthandler.WebhookHandler{keys: %d hidden, maxBody: %d, duplicates: %t}", len(h.keys), h.core.MaxBody(), h.core.HasStore())
}

// GoString is String, so that %#v hides the keys too.
func (h WebhookHandler) GoString() string { return h.String() }

// Format prints String for every verb, so that no verb prints the keys.
func (h WebhookHandler) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, h.String(), h.GoString())
}

// LogValue logs what String says, never the keys.
func (h WebhookHandler) LogValue() slog.Value { return slog.StringValue(h.String()) }

// MarshalJSON encodes what String says, never the keys.
func (h WebhookHandler) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }
