package riverinbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergeerr"
)

// Worker works one API's jobs: A is Args or AgentArgs, E the event type
// the function receives. Add it to River's workers with river.AddWorker.
type Worker[A river.JobArgs, E any] struct {
	river.WorkerDefaults[A]
	decode func(A) (E, error)
	fn     func(context.Context, *river.Job[A], E) error
}

// Work decodes the job's event and calls the function: its error makes
// River retry the job with backoff, until the job's attempts
// (Options.MaxAttempts) run out. A body that does not decode (a job
// inserted by hand, say) cancels the job instead, since no retry can
// mend it.
func (w *Worker[A, E]) Work(ctx context.Context, job *river.Job[A]) error {
	ev, err := w.decode(job.Args)
	if err != nil {
		return river.JobCancel(fmt.Errorf("riverinbox: job %d holds no webhook: %w", job.ID, err))
	}
	return w.fn(ctx, job, ev)
}

// NewWorker returns the worker of NewHandler's jobs: it decodes each job's
// body into a *mergelink.WebhookEvent and calls fn with the job and the
// event. fn runs at least once per delivery, and again when it fails or
// its worker dies before the job is completed; for effects that must
// happen exactly once, fn writes them in a transaction of the queue's
// database and completes the job in it with river.JobCompleteTx before it
// commits. It fails with a *mergeerr.ValidationError when fn is nil.
func NewWorker(fn func(ctx context.Context, job *river.Job[Args], ev *mergelink.WebhookEvent) error) (*Worker[Args, *mergelink.WebhookEvent], error) {
	if fn == nil {
		return nil, noFunc("riverinbox.NewWorker")
	}
	key := localKey()
	return &Worker[Args, *mergelink.WebhookEvent]{fn: fn, decode: func(a Args) (*mergelink.WebhookEvent, error) {
		return mergelink.ParseWebhook(a.Body, mergelink.SignWebhook(a.Body, key), key)
	}}, nil
}

// NewAgentWorker is NewWorker for NewAgentHandler's jobs and
// *agenthandler.WebhookEvent. The event's signed time is not checked
// again: a job may wait longer than the handler's tolerance.
func NewAgentWorker(fn func(ctx context.Context, job *river.Job[AgentArgs], ev *agenthandler.WebhookEvent) error) (*Worker[AgentArgs, *agenthandler.WebhookEvent], error) {
	if fn == nil {
		return nil, noFunc("riverinbox.NewAgentWorker")
	}
	key := localKey()
	return &Worker[AgentArgs, *agenthandler.WebhookEvent]{fn: fn, decode: func(a AgentArgs) (*agenthandler.WebhookEvent, error) {
		return agenthandler.ParseWebhookWithTolerance(a.Body, agenthandler.SignWebhook(a.Body, key), 0, key)
	}}, nil
}

// noFunc is the error of a worker constructor given no function.
func noFunc(params string) error {
	return &mergeerr.ValidationError{Params: params, Problems: []mergeerr.ValidationProblem{{Field: "fn", Rule: "required: pass the function that handles each event"}}}
}

// localKey returns a random key of the worker's own. A job's body was
// verified when it was received; the worker decodes it with the SDK's
// parser, which verifies first, by signing it with this key: so a job
// outlives a rotation of the webhook keys, and the worker needs none.
func localKey() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
