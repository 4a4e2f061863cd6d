package mergelink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
)

// DefaultMaxWebhookBodyBytes is the body limit of a WebhookHandler unless
// WithMaxBodyBytes sets another: 1 MiB.
const DefaultMaxWebhookBodyBytes = 1 << 20

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
// is answered 200 without calling the function again; see DeliveryStore.
// The dashboard's test payload reaches the function every time it is sent
// (WebhookEvent.IsTest tells it apart). A WebhookHandler is safe for
// concurrent use.
type WebhookHandler struct {
	fn      func(context.Context, *WebhookEvent) error
	keys    []string
	maxBody int64
	store   DeliveryStore
	logger  *slog.Logger
}

type webhookOptions struct {
	maxBody int64
	store   DeliveryStore
	noStore bool
	logger  *slog.Logger
	check   *validate.Checker
}

// WebhookOption configures a WebhookHandler. A wrong option makes
// NewWebhookHandler fail with a *ValidationError that names it.
type WebhookOption func(*webhookOptions)

// WithMaxBodyBytes sets the largest body the handler reads; a larger one
// is answered 413. n must be positive; the default is
// DefaultMaxWebhookBodyBytes.
func WithMaxBodyBytes(n int64) WebhookOption {
	return func(o *webhookOptions) {
		if n <= 0 {
			o.check.Add("WithMaxBodyBytes", "must be positive", fmt.Sprint(n))
			return
		}
		o.maxBody = n
	}
}

// WithDuplicateStore sets where the handler remembers processed deliveries,
// such as a store shared by every instance of a service. nil turns
// duplicate detection off: every delivery, retries included, then reaches
// the function. The default is a MemoryDeliveryStore with default options.
// A nil pointer of a store type is not nil: NewWebhookHandler refuses it.
func WithDuplicateStore(s DeliveryStore) WebhookOption {
	return func(o *webhookOptions) {
		if s != nil {
			if v := reflect.ValueOf(s); v.Kind() == reflect.Pointer && v.IsNil() {
				o.check.Add("WithDuplicateStore", "got a nil "+v.Type().String()+": pass a store, or nil itself to turn duplicate detection off", "")
				return
			}
		}
		o.store, o.noStore = s, s == nil
	}
}

// WithWebhookLogger makes the handler log refused requests at warn level
// and failures of the function at error level. It never logs bodies,
// signatures, keys or account tokens. The handler is silent without it.
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(o *webhookOptions) { o.logger = l }
}

// NewWebhookHandler returns a handler that passes each verified event to
// fn. keys are the webhook signature keys that verify (more than one during
// a rotation). It fails with ErrNoWebhookKey when keys holds no non-empty
// key, and with a *ValidationError when fn is nil or an option is wrong.
func NewWebhookHandler(fn func(context.Context, *WebhookEvent) error, keys []string, opts ...WebhookOption) (*WebhookHandler, error) {
	if !hasKey(keys) {
		return nil, ErrNoWebhookKey
	}
	o := webhookOptions{maxBody: DefaultMaxWebhookBodyBytes, check: validate.New("NewWebhookHandler options")}
	if fn == nil {
		o.check.Add("fn", "required: pass the function that handles each event", "")
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := o.check.Err(); err != nil {
		return nil, err
	}
	if o.store == nil && !o.noStore {
		o.store, _ = NewMemoryDeliveryStore(MemoryDeliveryStoreOptions{}) // the zero options are valid
	}
	h := &WebhookHandler{fn: fn, maxBody: o.maxBody, store: o.store, logger: o.logger}
	for _, k := range keys {
		if k != "" {
			h.keys = append(h.keys, k)
		}
	}
	return h, nil
}

// ServeHTTP handles one delivery.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed: Merge sends webhooks with POST")
		return
	}
	if r.ContentLength > h.maxBody {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	rc := r.Body
	if rc == nil { // a request built by hand; servers always set a body
		rc = http.NoBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, rc, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			h.refuse(w, r, http.StatusBadRequest, "body could not be read")
		}
		return
	}
	ev, err := ParseWebhook(body, r.Header.Get(SignatureHeader), h.keys...)
	switch {
	case errors.Is(err, ErrNoSignature):
		h.refuse(w, r, http.StatusUnauthorized, "missing "+SignatureHeader+" header")
		return
	case errors.Is(err, ErrInvalidSignature):
		h.refuse(w, r, http.StatusUnauthorized, "invalid signature")
		return
	case err != nil:
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if h.store == nil || ev.IsTest() {
		h.run(w, r, ev)
		return
	}
	sum := sha256.Sum256(body)
	key := hex.EncodeToString(sum[:])
	state, err := h.store.Begin(r.Context(), key)
	switch {
	case err != nil:
		h.log(r, slog.LevelWarn, "merge webhook: duplicate store failed", slog.Any("error", err))
		h.unavailable(w)
	case state == DeliveryDone:
		writeText(w, http.StatusOK, "ok: delivery already processed")
	case state == DeliveryNew:
		succeeded := false
		defer func() { h.store.Done(key, succeeded) }() // also when fn panics
		succeeded = h.run(w, r, ev)
	default:
		h.unavailable(w)
	}
}

// run calls fn and answers for it; it reports whether fn succeeded.
func (h *WebhookHandler) run(w http.ResponseWriter, r *http.Request, ev *WebhookEvent) bool {
	if err := h.fn(r.Context(), ev); err != nil {
		h.log(r, slog.LevelError, "merge webhook: handler function failed", slog.Any("event", ev), slog.Any("error", err))
		writeText(w, http.StatusInternalServerError, "webhook processing failed; Merge will retry")
		return false
	}
	writeText(w, http.StatusOK, "ok")
	return true
}

// unavailable answers a copy that cannot be processed now, so that Merge
// sends it again later.
func (h *WebhookHandler) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeText(w, http.StatusServiceUnavailable, "delivery is being processed; retry later")
}

func (h *WebhookHandler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.log(r, slog.LevelWarn, "merge webhook: request refused", slog.Int("status", status), slog.String("reason", reason))
	writeText(w, status, reason)
}

func (h *WebhookHandler) log(r *http.Request, level slog.Level, msg string, attrs ...slog.Attr) {
	if h.logger != nil {
		h.logger.LogAttrs(r.Context(), level, msg, attrs...)
	}
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}

// String describes the handler without its keys.
func (h WebhookHandler) String() string {
	return fmt.Sprintf("mergelink.WebhookHandler{keys: %d hidden, maxBody: %d, duplicates: %t}", len(h.keys), h.maxBody, h.store != nil)
}

// GoString is String, so that %#v hides the keys too.
func (h WebhookHandler) GoString() string { return h.String() }

// Format prints String for every verb, so that no verb prints the keys.
func (h WebhookHandler) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, h.String(), h.GoString())
}
