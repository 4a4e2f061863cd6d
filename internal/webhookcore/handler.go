// Package webhookcore is the HTTP side of a webhook receiver, shared by
// mergelink.WebhookHandler and agenthandler's: method, size, signature,
// decoding, the delivery store's claim and lease, status codes and
// logging. What differs between the two APIs (the header, the parser, the
// event type) comes in a Spec.
package webhookcore

import (
	"context"
	"crypto/rand"
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
	spec      Spec[E]
	fn        func(context.Context, E) error
	maxBody   int64
	store     delivery.Store
	transact  Transact
	lease     time.Duration
	logger    *slog.Logger
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
	return &Handler[E]{spec: spec, fn: fn, maxBody: o.maxBody, store: o.store, transact: o.transact, lease: o.lease, logger: o.logger, tolerance: o.tolerance}, nil
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

// recordTimeout is how long recording an outcome may take, retries
// included: the part of the lease that FnTimeout leaves.
func recordTimeout(lease time.Duration) time.Duration { return lease / 5 }

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
		if h.run(r.Context(), r, "", "", ev) == succeeded {
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
	key := delivery.Key(body)
	owner := newOwner()
	start := time.Now() // before Begin, so that fn's deadline falls before the store's lease end
	state, err := h.store.Begin(r.Context(), key, owner, h.lease)
	switch {
	case err != nil:
		// The store may have applied the claim and lost its reply: release
		// it, so that Merge's retry is processed at once, not after the
		// lease. Done is owner-checked, so this never ends another's claim.
		_ = h.release(r, key, owner) // the store failed: so may this, and that is said below
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
		h.releaseClaim(r, key, owner, ev)
		h.log(r, slog.LevelWarn, "claim granted too late to run the function within its lease; released", slog.Any("event", ev))
		unavailable(w, "delivery could not be processed in time; retry later")
		return
	}
	result := panicked
	defer func() { // also when fn panics: the claim ends, then the panic goes on
		switch result {
		case succeeded:
			if h.transact == nil {
				h.record(r, key, owner, ev)
			}
			writeText(w, http.StatusOK, "ok")
		case failed:
			h.releaseClaim(r, key, owner, ev)
			writeText(w, http.StatusInternalServerError, "webhook processing failed; Merge will retry")
		case unrecorded:
			h.releaseClaim(r, key, owner, ev)
			unavailable(w, "delivery could not be recorded; retry later")
		default:
			h.releaseClaim(r, key, owner, ev)
		}
	}()
	result = h.run(ctx, r, key, owner, ev)
}

// outcome is how a run of fn ended.
type outcome int

const (
	panicked   outcome = iota
	succeeded          // fn returned nil (and, with a Transact, its transaction committed)
	failed             // fn returned an error
	unrecorded         // fn returned nil, but its transaction did not commit
)

// record records fn's success. A failed record is retried, with short
// waits, for recordTimeout; after that the answer is still 2xx, since the
// work was done, and the failure is logged at error level: a copy that
// arrives after the claim's lease runs fn again.
func (h *Handler[E]) record(r *http.Request, key, owner string, ev E) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout(h.lease))
	defer cancel()
	wait := 5 * time.Millisecond
	for {
		err := h.store.Done(ctx, key, owner, true)
		switch {
		case err == nil:
			return
		case errors.Is(err, delivery.ErrClaimLost):
			h.log(r, slog.LevelWarn, "claim lost before the outcome was recorded: the lease ran out and another copy took the delivery over", slog.Bool("succeeded", true), slog.Any("event", ev))
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			wait = min(2*wait, 500*time.Millisecond)
			continue
		case <-ctx.Done():
			t.Stop()
		}
		h.log(r, slog.LevelError, "duplicate store failed to record the outcome; answered 2xx since the function succeeded, and a copy that arrives after the lease runs it again", slog.Bool("succeeded", true), slog.Any("event", ev), slog.Any("error", err))
		return
	}
}

// release ends the handler's claim without a success, best-effort, so
// that Merge's retry is processed at once. Done is owner-checked: when
// the claim is not the handler's (it was never granted, or another copy
// holds it) nothing changes, so ErrClaimLost is no failure here.
func (h *Handler[E]) release(r *http.Request, key, owner string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout(h.lease))
	defer cancel()
	if err := h.store.Done(ctx, key, owner, false); err != nil && !errors.Is(err, delivery.ErrClaimLost) {
		return err
	}
	return nil
}

// releaseClaim releases the claim that fn ran under, and logs a failure
// to: Merge's retries of the delivery then wait for the lease to end.
func (h *Handler[E]) releaseClaim(r *http.Request, key, owner string, ev E) {
	if err := h.release(r, key, owner); err != nil {
		h.log(r, slog.LevelWarn, "duplicate store failed to record the outcome", slog.Bool("succeeded", false), slog.Any("event", ev), slog.Any("error", err))
	}
}

// run runs fn, through the Transact when there is one (which records the
// success of owner's claim on key with fn's writes, unless key is empty).
func (h *Handler[E]) run(ctx context.Context, r *http.Request, key, owner string, ev E) outcome {
	if h.transact == nil {
		if !h.call(ctx, r, ev) {
			return failed
		}
		return succeeded
	}
	var fnFailed bool
	err := h.transact(ctx, key, owner, func(ctx context.Context) error {
		fnFailed = !h.call(ctx, r, ev)
		if fnFailed {
			return errFnFailed
		}
		return nil
	})
	switch {
	case fnFailed:
		return failed
	case errors.Is(err, delivery.ErrClaimLost):
		h.log(r, slog.LevelWarn, "claim lost before the transaction committed: the lease ran out and another copy took the delivery over; rolled back", slog.Any("event", ev))
		return unrecorded
	case err != nil:
		h.log(r, slog.LevelWarn, "transaction failed; rolled back", slog.Any("event", ev), slog.Any("error", err))
		return unrecorded
	}
	return succeeded
}

// errFnFailed is what the call given to a Transact returns when fn failed
// (fn's error is logged by call).
var errFnFailed = errors.New("webhook handler function failed")

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
