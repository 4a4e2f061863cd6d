// Package webhookcore is the HTTP side of a webhook receiver, shared by
// mergelink.WebhookHandler and agenthandler's: method, size, signature,
// decoding, the delivery store's claim and lease, status codes and
// logging. What differs between the two APIs (the header, the parser, the
// event type) comes in a Spec.
package webhookcore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mergelink/mergelink/delivery"
	"github.com/mergelink/mergelink/internal/validate"
)

// Spec is what one API's receiver adds to the core.
type Spec[E any] struct {
	// Name starts every log message, such as "merge webhook".
	Name string
	// SignatureHeader is the header that carries the signature.
	SignatureHeader string
	// Parse verifies body against signature and decodes it.
	Parse func(body []byte, signature string) (E, error)
	// NoSignature and BadSignature are Parse's errors for a missing and a
	// wrong signature, answered 401; any other error of Parse is answered
	// 400 with its text, which must hold no body, signature or key.
	NoSignature, BadSignature error
	// Unstored reports whether an event bypasses the store and reaches fn
	// every time it is sent (a dashboard's test payload); nil means none.
	Unstored func(E) bool
	// Dated reports that the API's bodies carry a signed time, so that
	// WithTolerance applies (see Handler.Tolerance); New refuses the
	// option otherwise.
	Dated bool
}

// Handler is an http.Handler that receives one API's webhooks.
type Handler[E any] struct {
	spec    Spec[E]
	fn      func(context.Context, E) error
	maxBody int64
	store   delivery.Store
	lease   time.Duration
	logger  *slog.Logger

	tolerance time.Duration
}

// New returns a Handler that passes each verified event to fn. params
// names the constructor in a *ValidationError, returned when fn is nil or
// an option is wrong. The default store is a delivery.MemoryStore.
func New[E any](spec Spec[E], fn func(context.Context, E) error, params string, opts []Option) (*Handler[E], error) {
	o := Options{maxBody: DefaultMaxBodyBytes, lease: delivery.DefaultLease, check: validate.New(params)}
	if fn == nil {
		o.check.Add("fn", "required: pass the function that handles each event", "")
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.tolerance != 0 && !spec.Dated {
		o.check.Add("WithWebhookTolerance", "applies only to webhooks whose signed body carries a time, as Agent Handler's do: the Unified API's carry none", o.tolerance.String())
	}
	if err := o.check.Err(); err != nil {
		return nil, err
	}
	if o.store == nil && !o.noStore {
		o.store, _ = delivery.NewMemoryStore(delivery.MemoryOptions{}) // the zero options are valid
	}
	return &Handler[E]{spec: spec, fn: fn, maxBody: o.maxBody, store: o.store, lease: o.lease, logger: o.logger, tolerance: o.tolerance}, nil
}

// Tolerance is what WithTolerance set, or 0.
func (h *Handler[E]) Tolerance() time.Duration { return h.tolerance }

// MaxBody is the body limit.
func (h *Handler[E]) MaxBody() int64 { return h.maxBody }

// HasStore reports whether duplicate detection is on.
func (h *Handler[E]) HasStore() bool { return h.store != nil }

// FnTimeout is the part of lease that fn may use: fn's context ends then,
// leaving the rest of the lease to record the outcome.
func FnTimeout(lease time.Duration) time.Duration { return lease - lease/5 }

// ServeHTTP handles one delivery. A nil handler (that of a wrapper not
// made by its constructor) answers 500 instead of panicking.
func (h *Handler[E]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h == nil {
		http.Error(w, "webhook handler not made by its NewWebhookHandler", http.StatusInternalServerError)
		return
	}
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
	ev, err := h.spec.Parse(body, r.Header.Get(h.spec.SignatureHeader))
	if err != nil {
		status, reason := h.refusal(err)
		h.refuse(w, r, status, reason)
		return
	}
	if h.store == nil || (h.spec.Unstored != nil && h.spec.Unstored(ev)) {
		if h.call(r.Context(), r, ev) {
			writeText(w, http.StatusOK, "ok")
		} else {
			writeText(w, http.StatusInternalServerError, "webhook processing failed; Merge will retry")
		}
		return
	}
	h.serveOnce(w, r, body, ev)
}

// refusal gives the status and the reason, safe to show, for an error of
// the Spec's Parse.
func (h *Handler[E]) refusal(err error) (int, string) {
	switch {
	case errors.Is(err, h.spec.NoSignature):
		return http.StatusUnauthorized, "missing " + h.spec.SignatureHeader + " header"
	case errors.Is(err, h.spec.BadSignature):
		return http.StatusUnauthorized, "invalid signature"
	}
	return http.StatusBadRequest, err.Error()
}

// serveOnce runs fn under a claim of the store, so that copies of one
// delivery run it once.
func (h *Handler[E]) serveOnce(w http.ResponseWriter, r *http.Request, body []byte, ev E) {
	sum := sha256.Sum256(body)
	key := hex.EncodeToString(sum[:])
	owner := newOwner()
	start := time.Now() // before Begin, so that fn's deadline falls before the store's lease end
	state, err := h.store.Begin(r.Context(), key, owner, h.lease)
	switch {
	case err != nil:
		h.log(r, slog.LevelWarn, "duplicate store failed", slog.Any("error", err))
		unavailable(w, "duplicate store unavailable; retry later")
		return
	case state == delivery.Done:
		writeText(w, http.StatusOK, "ok: delivery already processed")
		return
	case state != delivery.New:
		unavailable(w, "delivery is being processed; retry later")
		return
	}
	ctx, cancel := context.WithDeadline(r.Context(), start.Add(FnTimeout(h.lease)))
	defer cancel()
	if ctx.Err() != nil { // the claim took the time fn had (an overloaded store): let a retry run it
		h.finish(r, key, owner, false, ev)
		h.log(r, slog.LevelWarn, "claim granted too late to run the function within its lease; released", slog.Any("event", ev))
		unavailable(w, "delivery could not be processed in time; retry later")
		return
	}
	succeeded, returned := false, false
	defer func() { // also when fn panics: the claim ends, then the panic goes on
		h.finish(r, key, owner, succeeded, ev)
		switch {
		case succeeded:
			writeText(w, http.StatusOK, "ok")
		case returned:
			writeText(w, http.StatusInternalServerError, "webhook processing failed; Merge will retry")
		}
	}()
	succeeded = h.call(ctx, r, ev)
	returned = true
}

// finish records the outcome of a claimed delivery. It has a whole lease,
// even when the request's context has ended: a client that hung up does
// not undo a success, and a record made late changes nothing unless the
// claim is still the handler's (the store checks the owner).
func (h *Handler[E]) finish(r *http.Request, key, owner string, succeeded bool, ev E) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.lease)
	defer cancel()
	err := h.store.Done(ctx, key, owner, succeeded)
	switch {
	case errors.Is(err, delivery.ErrClaimLost):
		h.log(r, slog.LevelWarn, "claim lost before the outcome was recorded: the lease ran out and another copy took the delivery over", slog.Bool("succeeded", succeeded), slog.Any("event", ev))
	case err != nil:
		h.log(r, slog.LevelWarn, "duplicate store failed to record the outcome", slog.Bool("succeeded", succeeded), slog.Any("event", ev), slog.Any("error", err))
	}
}

// call runs fn and reports whether it succeeded.
func (h *Handler[E]) call(ctx context.Context, r *http.Request, ev E) bool {
	if err := h.fn(ctx, ev); err != nil {
		h.log(r, slog.LevelError, "handler function failed", slog.Any("event", ev), slog.Any("error", err))
		return false
	}
	return true
}

// newOwner returns a random claim owner token.
func newOwner() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// unavailable answers a copy that cannot be processed now, so that Merge
// sends it again later.
func unavailable(w http.ResponseWriter, reason string) {
	w.Header().Set("Retry-After", "5")
	writeText(w, http.StatusServiceUnavailable, reason)
}

func (h *Handler[E]) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.log(r, slog.LevelWarn, "request refused", slog.Int("status", status), slog.String("reason", reason))
	writeText(w, status, reason)
}

func (h *Handler[E]) log(r *http.Request, level slog.Level, msg string, attrs ...slog.Attr) {
	if h.logger != nil {
		h.logger.LogAttrs(r.Context(), level, h.spec.Name+": "+msg, attrs...)
	}
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}
