package mergetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/secret"
)

// DeliveryAttempts is how many times the server sends a webhook before
// giving up: the first try and three retries, each after twice the wait of
// the one before (WithWebhookRetryWait). Only a transport error, a timeout,
// 408, 429 or a 5xx answer is retried; any other non-2xx answer, such as
// 401, ends the delivery after that attempt.
const DeliveryAttempts = 4

// Delivery is a webhook the server has finished delivering, or has given up
// on. Its String method hides the payload, and JSON (a slog JSON
// handler's, say) leaves it out.
type Delivery struct {
	// ID names the delivery in the server, for Redeliver. It is
	// mergetest's own and is not sent: Merge's webhooks carry no delivery
	// id.
	ID string
	// Event is the webhook's event, such as "LinkedAccount.linked" or,
	// for Agent Handler, "credential.created".
	Event string
	// LinkedAccountID is the Linked Account of a Unified API webhook.
	LinkedAccountID string
	// RegisteredUserID is the registered user of an Agent Handler webhook.
	RegisteredUserID string
	// Payload is the body sent, which the signature header signs. It holds
	// the account token.
	Payload []byte `json:"-"`
	// Attempts is how many times it was sent.
	Attempts int
	// URL is the target the last attempt went to: one of the webhook
	// targets (WithWebhookTargets), in turn.
	URL string
	// Header holds every header the last attempt sent, the signature
	// (mergelink.SignatureHeader, or AgentSignatureHeader) included.
	Header http.Header `json:"-"`
	// StatusCode is the receiver's last answer, or 0 when the last attempt
	// got none.
	StatusCode int
	// Err is nil when the receiver answered 2xx, and otherwise says why the
	// last attempt failed.
	Err error
}

// String describes the delivery without its payload, which holds an
// account token.
func (d Delivery) String() string {
	about := d.LinkedAccountID
	if about == "" {
		about = d.RegisteredUserID
	}
	s := fmt.Sprintf("%s for %s: %d attempt(s), status %d", d.Event, about, d.Attempts, d.StatusCode)
	if d.Err != nil {
		s += ": " + d.Err.Error()
	}
	return s
}

// GoString is String, so that %#v hides the payload too.
func (d Delivery) GoString() string { return d.String() }

// Format prints String for every verb, so that no verb, %d or %t
// included, prints the payload.
func (d Delivery) Format(f fmt.State, verb rune) { secret.Format(f, verb, d.String(), d.GoString()) }

// Deliveries returns the webhook deliveries finished so far, in the order
// they finished. Per Linked Account that is the order of the events.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return cloneDeliveries(s.hooks.done)
}

// WaitForDeliveries waits until at least n webhook deliveries have finished
// (delivered or given up) and returns them all, in the order they finished.
// It fails when ctx ends first, returning those finished by then, and at
// once when the server has no webhook URL (WithWebhook, SetWebhook).
func (s *Server) WaitForDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	return s.hooks.waitFor(ctx, n, "WaitForDeliveries", "start it WithWebhook or call SetWebhook")
}

// waitFor waits until at least n deliveries have finished and returns
// them all. name is the caller's and how says how to set a URL, for the
// errors.
func (d *deliverer) waitFor(ctx context.Context, n int, name, how string) ([]Delivery, error) {
	for {
		done, changed, err := d.progress(n, name, how)
		if err != nil || done != nil {
			return done, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			done, _, _ := d.progress(0, name, how)
			return done, fmt.Errorf("mergetest: %s: %d of %d deliveries finished: %w", name, len(done), n, ctx.Err())
		}
	}
}

// progress returns the finished deliveries when there are n or more, or
// else the channel closed when the next one finishes, or an error when no
// more will come.
func (d *deliverer) progress(n int, name, how string) ([]Delivery, <-chan struct{}, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case len(d.done) >= n:
		return cloneDeliveries(d.done), nil, nil
	case d.url == "":
		return nil, nil, fmt.Errorf("mergetest: %s: the server delivers no such webhooks: %s", name, how)
	}
	return nil, d.changed, nil
}

func cloneDeliveries(ds []Delivery) []Delivery {
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		d.Payload = bytes.Clone(d.Payload)
		d.Header = d.Header.Clone()
		out[i] = d
	}
	return out
}

// SetWebhook makes the server deliver the webhooks of later events to url,
// signed with signingKey, as WithWebhook does at the start: a receiver's
// URL is often known only after the server started. Deliveries already
// queued keep their URL. Any rotation RotateWebhookKey started is dropped.
// It fails when url is not http or https or the key is empty.
func (s *Server) SetWebhook(url, signingKey string) error {
	var c config
	WithWebhook(url, signingKey)(&c)
	if len(c.problems) > 0 {
		return errors.New("mergetest: SetWebhook: " + strings.Join(c.problems, "; "))
	}
	d := s.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	d.url, d.more, d.key, d.nextKey = url, nil, signingKey, ""
	return nil
}

// RotateWebhookKey starts a rotation of the webhook signing key to newKey,
// as regenerating the key in Merge's dashboard does while the receiver
// still holds the old one: deliveries stay signed with the current key
// until FinishWebhookKeyRotation, so that a test can give its receiver both
// keys first. It fails when newKey is empty or the server has no webhook
// URL.
func (s *Server) RotateWebhookKey(newKey string) error {
	d := s.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case newKey == "":
		return errors.New("mergetest: RotateWebhookKey: the new key must not be empty")
	case d.url == "":
		return errors.New("mergetest: RotateWebhookKey: the server delivers no webhooks: start it WithWebhook or call SetWebhook")
	}
	d.nextKey = newKey
	return nil
}

// FinishWebhookKeyRotation makes the key RotateWebhookKey staged the one
// that signs every attempt from now on, retries of earlier deliveries
// included. It fails when no rotation was started.
func (s *Server) FinishWebhookKeyRotation() error {
	d := s.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nextKey == "" {
		return errors.New("mergetest: FinishWebhookKeyRotation: no rotation started: call RotateWebhookKey first")
	}
	d.key, d.nextKey = d.nextKey, ""
	return nil
}

// SendWebhook sends event about the Linked Account with accountID to the
// webhook URL, signed and retried like the webhooks the server sends by
// itself, after any still pending for that account: LinkedAccount.deleted,
// LinkedAccount.sync_completed, Issue.new, Candidate.added or any other
// event. data is the payload's data object: a value that encodes as a JSON
// object, or nil for a default (for LinkedAccount.linked and
// LinkedAccount.synced_initial the account token, for
// LinkedAccount.sync_completed a completed non-initial sync of the
// category's model, for Issue events an issue, otherwise {}). Sending
// LinkedAccount.deleted does not delete the account: DeleteLinkedAccount
// does, and sends it. It fails with ErrUnknownAccount or ErrClosed, when
// the server has no webhook URL, when event is not Model.action, or when
// data is not a JSON object.
func (s *Server) SendWebhook(accountID string, event mergelink.EventType, data any) error {
	model, action, ok := strings.Cut(string(event), ".")
	if !ok || model == "" || action == "" || strings.ContainsAny(string(event), " \t\r\n") {
		return fmt.Errorf("mergetest: SendWebhook: the event must be Model.action, such as %q, not %q", mergelink.EventLinkedAccountSyncCompleted, event)
	}
	var obj map[string]any
	if data != nil {
		raw, err := json.Marshal(data)
		if err == nil {
			err = json.Unmarshal(raw, &obj)
		}
		if err != nil || obj == nil {
			return fmt.Errorf("mergetest: SendWebhook: data must encode as a JSON object, not %T", data)
		}
	}
	return s.control(accountID, func(a *account) error {
		if !s.hooks.enabled() {
			return errors.New("mergetest: SendWebhook: the server delivers no webhooks: start it WithWebhook or call SetWebhook")
		}
		if obj == nil {
			obj = s.defaultData(a, event, s.now().UTC())
		}
		s.hooks.queue(a, string(event), obj)
		return nil
	})
}

// defaultData is the data SendWebhook sends for event when given none.
func (s *Server) defaultData(a *account, event mergelink.EventType, now time.Time) map[string]any {
	switch {
	case event == mergelink.EventLinkedAccountLinked:
		return map[string]any{"account_token": a.token, "is_relink": false}
	case event == mergelink.EventLinkedAccountSyncedInitial:
		return syncedInitialData(a)
	case event == mergelink.EventLinkedAccountSyncCompleted:
		return map[string]any{
			"is_initial_sync": false,
			"sync_status": map[string]any{a.category + "." + syncedModel[a.category]: map[string]any{
				"model_name": syncedModel[a.category], "model_id": a.category + "." + syncedModel[a.category],
				"status": "DONE", "last_sync_result": "DONE", "last_sync_finished": now.Format(time.RFC3339),
				"is_initial_sync": false,
			}},
		}
	case event.Model() == "Issue":
		status := "ONGOING"
		if event == mergelink.EventIssueResolved {
			status = "RESOLVED"
		}
		return map[string]any{
			"id": s.ids.id(), "status": status, "error_description": "Missing Permissions",
			"end_user":            map[string]any{"id": a.id, "organization_name": a.org, "origin_id": a.originID},
			"first_incident_time": now.Format(time.RFC3339), "last_incident_time": now.Format(time.RFC3339),
			"is_muted": event == mergelink.EventIssueMuted, "error_details": []string{},
		}
	}
	return map[string]any{}
}

// deliverer sends webhooks: one goroutine per Linked Account (or
// registered user) with pending deliveries, so that each one's events
// arrive in order while a slow receiver for one does not hold up the
// others. The Unified API's webhooks and Agent Handler's each have one.
type deliverer struct {
	ids    *idSource
	hookID string
	wait   time.Duration
	client *http.Client
	// header carries the signature that sign computes of a payload with
	// the key; attempts is how many times a delivery is tried.
	header   string
	sign     func(payload []byte, key string) string
	attempts int
	// ctx ends when Close stops waiting for deliveries: attempts in flight
	// and waits between attempts end with it.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// url is where new deliveries go, "" for nowhere, and more the other
	// targets they go to in turn (WithWebhookTargets); key signs every
	// attempt, and nextKey is the key a rotation will switch to.
	url, key, nextKey string
	more              []string
	turn              int // which target the next attempt goes to
	// schedule, when set, is the wait before each retry
	// (WithMergeRetrySchedule); otherwise each retry waits twice as long
	// as the one before, from wait.
	schedule []time.Duration
	// queues holds each account's pending deliveries, the one being sent
	// first. A goroutine runs for an account exactly when its queue is not
	// empty.
	queues  map[string][]*pending
	done    []Delivery
	changed chan struct{} // closed and replaced when done grows
	wg      sync.WaitGroup
}

// pending is a delivery being sent, and where to.
type pending struct {
	Delivery
	targets []string
	// signature, when set, is sent as it is instead of signing the
	// payload again: a redelivery's.
	signature string
}

func newDeliverer(url, key string, wait time.Duration, ids *idSource) *deliverer {
	ctx, cancel := context.WithCancel(context.Background())
	return &deliverer{
		url:      url,
		key:      key,
		ids:      ids,
		hookID:   ids.id(),
		wait:     wait,
		client:   &http.Client{Timeout: attemptTimeout, Transport: &http.Transport{}},
		header:   mergelink.SignatureHeader,
		sign:     mergelink.SignWebhook,
		attempts: DeliveryAttempts,
		ctx:      ctx,
		cancel:   cancel,
		queues:   map[string][]*pending{},
		changed:  make(chan struct{}),
	}
}

// attemptTimeout is how long one delivery attempt waits for an answer.
const attemptTimeout = 10 * time.Second

func (d *deliverer) enabled() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.url != ""
}

// queue queues a webhook of event about a, when there is a webhook URL. It
// runs with s.mu held, since it reads a.
func (d *deliverer) queue(a *account, event string, data map[string]any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.url == "" {
		return
	}
	d.enqueue(a.id, d.delivery(event, a, data))
}

// enqueue queues deliveries for an account, after any still pending for
// it. It runs with d.mu held.
func (d *deliverer) enqueue(accountID string, ds ...*pending) {
	q := d.queues[accountID]
	d.queues[accountID] = append(q, ds...)
	if len(q) == 0 {
		d.wg.Add(1)
		go d.run(accountID)
	}
}

// run sends an account's deliveries in order until its queue is empty.
func (d *deliverer) run(accountID string) {
	defer d.wg.Done()
	for {
		next := d.head(accountID)
		d.send(next)
		if !d.finish(accountID, next) {
			return
		}
	}
}

// head returns the next delivery of an account's queue.
func (d *deliverer) head(accountID string) *pending {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queues[accountID][0]
}

// finish records p, the head of an account's queue, as done, and reports
// whether the queue holds more.
func (d *deliverer) finish(accountID string, p *pending) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = append(d.done, p.Delivery)
	close(d.changed)
	d.changed = make(chan struct{})
	q := d.queues[accountID][1:]
	if len(q) == 0 {
		delete(d.queues, accountID)
		return false
	}
	d.queues[accountID] = q
	return true
}

// send posts one delivery, retrying with backoff as Merge does after a
// transient failure (see retryable); any other answer is final. Once
// Close gives up waiting, it stops at once.
func (d *deliverer) send(p *pending) {
	wait := d.wait
	for p.Attempts < d.attempts {
		if p.Attempts > 0 {
			if d.schedule != nil {
				wait = d.schedule[p.Attempts-1]
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-d.ctx.Done():
				t.Stop()
			}
			wait *= 2
		}
		if d.ctx.Err() != nil {
			p.Err = fmt.Errorf("mergetest: the server closed before the delivery was done: %w", ErrClosed)
			return
		}
		p.Attempts++
		p.URL = d.target(p)
		p.StatusCode, p.Err = d.post(p)
		if p.Err == nil || !retryable(p.StatusCode) {
			return
		}
	}
}

// signingKey returns the key deliveries are signed with now.
func (d *deliverer) signingKey() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.key
}

// retryable reports whether a failed attempt that got status (0 for no
// answer: a transport error or a timeout) is worth sending again: Merge
// retries after timeouts and 5xx, and 408 and 429 are transient too. Any
// other 4xx, such as 401 from a receiver that refused the signature, would
// only be refused again.
func retryable(status int) bool {
	return status == 0 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// target returns the target of p's next attempt: its targets in turn,
// across deliveries, as a load balancer in front of a fleet spreads them.
func (d *deliverer) target(p *pending) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := p.targets[d.turn%len(p.targets)]
	d.turn++
	return t
}

// post sends p's payload once to p.URL, signed with the current key (or
// with p's own signature), and records the headers sent. Its errors show
// the URL as the SDK shows every URL: a receiver's URL may carry a token.
func (d *deliverer) post(p *pending) (int, error) {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, p.URL, bytes.NewReader(p.Payload))
	if err != nil {
		return 0, secret.URLError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mergetest-webhooks")
	sig := p.signature
	if sig == "" {
		sig = d.sign(p.Payload, d.signingKey())
	}
	req.Header.Set(d.header, sig)
	p.Header = req.Header.Clone()
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, secret.URLError(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("mergetest: the webhook receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// close waits for every queued delivery to finish, for at most wait; then
// it ends the attempts in flight and gives up the rest.
func (d *deliverer) close(wait time.Duration) {
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(wait)
	select {
	case <-done:
		t.Stop()
	case <-t.C:
		d.cancel()
		<-done
	}
	d.cancel()
	d.client.CloseIdleConnections()
}

// webhookPayload is the body of a Merge webhook.
type webhookPayload struct {
	Hook          webhookHook    `json:"hook"`
	LinkedAccount webhookAccount `json:"linked_account"`
	Data          map[string]any `json:"data"`
}

type webhookHook struct {
	ID     string `json:"id"`
	Event  string `json:"event"`
	Target string `json:"target"`
}

// webhookAccount is the linked_account of a webhook, and the start of
// GET account-details' answer.
type webhookAccount struct {
	ID                      string `json:"id"`
	Integration             string `json:"integration"`
	IntegrationSlug         string `json:"integration_slug"`
	Category                string `json:"category"`
	EndUserOriginID         string `json:"end_user_origin_id"`
	EndUserOrganizationName string `json:"end_user_organization_name"`
	EndUserEmailAddress     string `json:"end_user_email_address"`
	Status                  string `json:"status"`
	WebhookListenerURL      string `json:"webhook_listener_url"`
	IsDuplicate             *bool  `json:"is_duplicate"`
	AccountType             string `json:"account_type"`
}

// webhookJSON returns what webhooks and account-details say of a.
func (a *account) webhookJSON() webhookAccount {
	return webhookAccount{
		ID:                      a.id,
		Integration:             a.integ.name,
		IntegrationSlug:         a.integ.slug,
		Category:                a.category,
		EndUserOriginID:         a.originID,
		EndUserOrganizationName: a.org,
		EndUserEmailAddress:     a.email,
		Status:                  a.status,
		WebhookListenerURL:      a.listenerURL,
		IsDuplicate:             a.isDuplicate(),
		AccountType:             a.accountType(),
	}
}

// linked queues the webhooks of a completed link: LinkedAccount.linked,
// then the first-sync LinkedAccount.synced_initial, both carrying the
// account token. It runs with s.mu held, since it reads a.
func (d *deliverer) linked(a *account, relink bool) {
	d.queue(a, string(mergelink.EventLinkedAccountLinked), map[string]any{
		"account_token": a.token,
		"is_relink":     relink,
	})
	d.queue(a, string(mergelink.EventLinkedAccountSyncedInitial), syncedInitialData(a))
}

func syncedInitialData(a *account) map[string]any {
	return map[string]any{
		"integration_name": a.integ.name,
		"integration_id":   a.integ.slug,
		"synced_models":    []string{a.category + "." + syncedModel[a.category]},
		"account_token":    a.token,
	}
}

// delivery builds a delivery to the current URL. It runs with d.mu held.
func (d *deliverer) delivery(event string, a *account, data map[string]any) *pending {
	payload, err := json.Marshal(webhookPayload{
		Hook:          webhookHook{ID: d.hookID, Event: event, Target: d.url},
		LinkedAccount: a.webhookJSON(),
		Data:          data,
	})
	if err != nil {
		panic("mergetest: encoding a webhook: " + err.Error())
	}
	return &pending{Delivery: Delivery{ID: d.ids.id(), Event: event, LinkedAccountID: a.id, Payload: payload}, targets: d.targets()}
}
