package riverinbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergeerr"
)

// Options configures a Handler's jobs. The zero value gives River's
// defaults.
type Options struct {
	// Queue is the River queue the jobs go to, river.QueueDefault when
	// empty. The workers' client must work it.
	Queue string
	// MaxAttempts bounds how many times a delivery's job is worked, and so
	// how many times the worker's function runs for it, before River
	// discards the job: the River client's Config.MaxAttempts (River's
	// default is 25, with exponential backoff) when 0; at least 1.
	MaxAttempts int
	// Logger, when set, logs failed inserts at warn level, with the
	// delivery key and never the body. Refused requests are logged by
	// the webhook handler's own logger (mergelink.WithWebhookLogger).
	Logger *slog.Logger
}

// Handler is an http.Handler that receives webhooks into River jobs. It
// answers
//
//   - 405 (with Allow: POST), 413, 401 and 400 exactly as
//     mergelink.WebhookHandler (or agenthandler.WebhookHandler) does,
//     without inserting anything;
//   - 200 once the delivery's job is inserted and committed, or found
//     already there: a delivery sent again while its job exists (waiting,
//     running, retrying or completed and not yet deleted by River's
//     cleaner, 24h after completion by default) makes no second job;
//   - 503 with Retry-After when the insert fails, so that Merge retries,
//     or when the request ends before its insert does (the job may then
//     be in, and Merge's retry finds it).
//
// On PostgreSQL, the jobs of deliveries that arrive while an insert runs
// are inserted together in the next, with client.InsertMany: one
// transaction for up to 128 jobs. A batch that fails is answered 503 to
// each of its deliveries. On SQLite each job has a transaction of its own.
//
// The dashboard's test payload is queued every time it is sent, as the
// inline handler passes it to its function every time. A Handler is safe
// for concurrent use.
type Handler struct {
	verify http.Handler
	logger *slog.Logger
}

// enqueueKey is the context key of a request's *enqueued.
type enqueueKey struct{}

// enqueued is what the verifier's function did with one request.
type enqueued struct {
	called bool   // the body verified and decoded, and an insert was tried
	key    string // its delivery key
	err    error  // the insert's error
}

// NewHandler returns a Handler for the Unified API's webhooks that
// inserts each verified delivery as an Args job through client (an
// insert-only client, one without Workers, does). keys are the webhook
// signature keys, as for mergelink.NewWebhookHandler; opts are that
// handler's options: WithMaxBodyBytes and WithWebhookLogger apply, and
// WithDuplicateStore and WithDeliveryLease do nothing here, since River's
// unique jobs take the store's place. It fails with
// mergelink.ErrNoWebhookKey when keys holds no key, and with a
// *mergeerr.ValidationError when client is nil or an option is wrong.
func NewHandler[TTx any](client *river.Client[TTx], keys []string, o Options, opts ...mergelink.WebhookOption) (*Handler, error) {
	h, err := newHandler(client, o)
	if err != nil {
		return nil, err
	}
	insert := inserter(client, o)
	verify, err := mergelink.NewWebhookHandler(func(ctx context.Context, ev *mergelink.WebhookEvent) error {
		key := ev.DeliveryKey()
		uniqueBy := key
		if ev.IsTest() {
			uniqueBy = "" // the dashboard's test payload is queued every time
		}
		return record(ctx, key, insert(ctx, Args{Body: ev.RawBody(), DeliveryKey: key}, uniqueBy))
	}, keys, append(opts, mergelink.WithDuplicateStore(nil))...)
	if err != nil {
		return nil, err
	}
	h.verify = verify
	return h, nil
}

// NewAgentHandler is NewHandler for Agent Handler's webhooks: it
// verifies as agenthandler.NewWebhookHandler does, with its options (its
// signed-time tolerance included), and inserts AgentArgs jobs.
func NewAgentHandler[TTx any](client *river.Client[TTx], keys []string, o Options, opts ...agenthandler.WebhookOption) (*Handler, error) {
	h, err := newHandler(client, o)
	if err != nil {
		return nil, err
	}
	insert := inserter(client, o)
	verify, err := agenthandler.NewWebhookHandler(func(ctx context.Context, ev *agenthandler.WebhookEvent) error {
		key := ev.DeliveryKey()
		return record(ctx, key, insert(ctx, AgentArgs{Body: ev.Raw, DeliveryKey: key}, key))
	}, keys, append(opts, agenthandler.WithDuplicateStore(nil))...)
	if err != nil {
		return nil, err
	}
	h.verify = verify
	return h, nil
}

// newHandler checks what the constructors share.
func newHandler[TTx any](client *river.Client[TTx], o Options) (*Handler, error) {
	var problems []mergeerr.ValidationProblem
	if client == nil {
		problems = append(problems, mergeerr.ValidationProblem{Field: "client", Rule: "required: pass the River client that inserts the jobs"})
	}
	if o.MaxAttempts < 0 {
		problems = append(problems, mergeerr.ValidationProblem{Field: "MaxAttempts", Rule: "must be at least 1, or 0 for the client's default", Value: fmt.Sprint(o.MaxAttempts)})
	}
	if problems != nil {
		return nil, &mergeerr.ValidationError{Params: "riverinbox.Options", Problems: problems}
	}
	return &Handler{logger: o.Logger}, nil
}

// inserter returns the function that inserts a job with o's options,
// unique by key unless key is "". On PostgreSQL it inserts in a batch with
// the jobs of concurrent deliveries (see batcher). On SQLite, where one
// connection serves River and the inserts alike, each job has its own
// transaction, under the request's context: batched there, the SQLite
// journey test failed in 3 of about 20 runs (River's completer then failed
// to commit, "SQL statements in progress", and the connection stayed in a
// transaction), and in none of 10 without.
func inserter[TTx any](client *river.Client[TTx], o Options) func(ctx context.Context, args river.JobArgs, key string) error {
	opts := func(key string) *river.InsertOpts {
		opts := &river.InsertOpts{Queue: o.Queue, MaxAttempts: o.MaxAttempts}
		if key != "" {
			opts.UniqueOpts = river.UniqueOpts{ByArgs: true}
		}
		return opts
	}
	if _, sqlite := any(client.Driver()).(*riversqlite.Driver); sqlite {
		return func(ctx context.Context, args river.JobArgs, key string) error {
			_, err := client.Insert(ctx, args, opts(key))
			return err
		}
	}
	b := &batcher{insertMany: client.InsertMany}
	return func(ctx context.Context, args river.JobArgs, key string) error {
		return b.insert(ctx, river.InsertManyParams{Args: args, InsertOpts: opts(key)}, key)
	}
}

// record notes the insert's outcome for ServeHTTP, and returns nil: the
// verifier's answer to the function's outcome is replaced by ServeHTTP's.
func record(ctx context.Context, key string, err error) error {
	if e, ok := ctx.Value(enqueueKey{}).(*enqueued); ok {
		*e = enqueued{called: true, key: key, err: err}
	}
	return nil
}

// ServeHTTP verifies one delivery and queues it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h == nil || h.verify == nil {
		http.Error(w, "riverinbox.Handler not made by its NewHandler", http.StatusInternalServerError)
		return
	}
	e := &enqueued{}
	h.verify.ServeHTTP(&answerer{w: w, e: e}, r.WithContext(context.WithValue(r.Context(), enqueueKey{}, e)))
	switch {
	case !e.called: // refused: the verifier answered
	case e.err != nil:
		if h.logger != nil {
			h.logger.LogAttrs(r.Context(), slog.LevelWarn, "riverinbox: job insert failed; answered 503", slog.String("delivery_key", e.key), slog.Any("error", e.err))
		}
		w.Header().Set("Retry-After", "5")
		writeText(w, http.StatusServiceUnavailable, "delivery could not be queued; retry later")
	default:
		writeText(w, http.StatusOK, "ok: queued")
	}
}

// answerer passes the verifier's answer to a refused request through,
// and drops its answer once the function was called (ServeHTTP answers
// then).
type answerer struct {
	w      http.ResponseWriter
	e      *enqueued
	header http.Header
}

func (a *answerer) Header() http.Header {
	if !a.e.called {
		return a.w.Header()
	}
	if a.header == nil {
		a.header = http.Header{}
	}
	return a.header
}

func (a *answerer) WriteHeader(status int) {
	if !a.e.called {
		a.w.WriteHeader(status)
	}
}

func (a *answerer) Write(b []byte) (int, error) {
	if !a.e.called {
		return a.w.Write(b)
	}
	return len(b), nil
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}
