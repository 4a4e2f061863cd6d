package mergetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	if s.hooks == nil {
		return nil
	}
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return cloneDeliveries(s.hooks.done)
}

// WaitForDeliveries waits until at least n webhook deliveries have finished
// (delivered or given up) and returns them all, in the order they finished.
// It fails when ctx ends first, returning those finished by then, and at
// once when the server has no webhook URL (WithWebhook).
func (s *Server) WaitForDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	if s.hooks == nil {
		return nil, errors.New("mergetest: WaitForDeliveries: the server delivers no webhooks: start it WithWebhook")
	}
	return s.hooks.waitFor(ctx, n, "WaitForDeliveries")
}

// waitFor waits until at least n deliveries have finished and returns
// them all; name is the caller's, for the error.
func (d *deliverer) waitFor(ctx context.Context, n int, name string) ([]Delivery, error) {
	for {
		d.mu.Lock()
		done, changed := d.done, d.changed
		if len(done) >= n {
			defer d.mu.Unlock()
			return cloneDeliveries(done), nil
		}
		d.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			d.mu.Lock()
			defer d.mu.Unlock()
			return cloneDeliveries(d.done), fmt.Errorf("mergetest: %s: %d of %d deliveries finished: %w", name, len(d.done), n, ctx.Err())
		}
	}
}

func cloneDeliveries(ds []Delivery) []Delivery {
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		d.Payload = bytes.Clone(d.Payload)
		out[i] = d
	}
	return out
}

// deliverer sends webhooks: one goroutine per Linked Account (or
// registered user) with pending deliveries, so that each one's events
// arrive in order while a slow receiver for one does not hold up the
// others. The Unified API's webhooks and Agent Handler's each have one.
type deliverer struct {
	hookID string
	wait   time.Duration
	client *http.Client
	// header carries the signature that sign computes of a payload with
	// the key; attempts is how many times a delivery is tried.
	header   string
	sign     func(payload []byte, key string) string
	attempts int

	mu sync.Mutex
	// url is where deliveries go and key signs each attempt.
	url, key string
	// queues holds each account's pending deliveries, the one being sent
	// first. A goroutine runs for an account exactly when its queue is not
	// empty.
	queues  map[string][]*Delivery
	done    []Delivery
	changed chan struct{} // closed and replaced when done grows
	wg      sync.WaitGroup
}

func newDeliverer(url, key string, wait time.Duration) *deliverer {
	return &deliverer{
		url:      url,
		key:      key,
		hookID:   newID(),
		wait:     wait,
		header:   mergelink.SignatureHeader,
		sign:     mergelink.SignWebhook,
		attempts: DeliveryAttempts,
		client:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}},
		queues:   map[string][]*Delivery{},
		changed:  make(chan struct{}),
	}
}

// enqueue queues deliveries for an account, after any still pending for it.
func (d *deliverer) enqueue(accountID string, ds ...*Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
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
		d.mu.Lock()
		next := d.queues[accountID][0]
		d.mu.Unlock()

		d.send(next)

		d.mu.Lock()
		d.done = append(d.done, *next)
		close(d.changed)
		d.changed = make(chan struct{})
		q := d.queues[accountID][1:]
		if len(q) == 0 {
			delete(d.queues, accountID)
			d.mu.Unlock()
			return
		}
		d.queues[accountID] = q
		d.mu.Unlock()
	}
}

// send posts one delivery, retrying with backoff as Merge does after a
// transient failure (see retryable); any other answer is final.
func (d *deliverer) send(dl *Delivery) {
	wait := d.wait
	for dl.Attempts < d.attempts {
		if dl.Attempts > 0 {
			time.Sleep(wait)
			wait *= 2
		}
		dl.Attempts++
		dl.StatusCode, dl.Err = d.post(dl.Payload)
		if dl.Err == nil || !retryable(dl.StatusCode) {
			return
		}
	}
}

// retryable reports whether a failed attempt that got status (0 for no
// answer: a transport error or a timeout) is worth sending again: Merge
// retries after timeouts and 5xx, and 408 and 429 are transient too. Any
// other 4xx, such as 401 from a receiver that refused the signature, would
// only be refused again.
func retryable(status int) bool {
	return status == 0 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// post sends a payload once, signed with the current key.
func (d *deliverer) post(payload []byte) (int, error) {
	d.mu.Lock()
	url, key := d.url, d.key
	d.mu.Unlock()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mergetest-webhooks")
	req.Header.Set(d.header, d.sign(payload, key))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("mergetest: the webhook receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// drain waits for every queued delivery to finish.
func (d *deliverer) drain() {
	d.wg.Wait()
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
	IsDuplicate             bool   `json:"is_duplicate"`
	AccountType             string `json:"account_type"`
}

// linked queues the webhooks of a completed link: LinkedAccount.linked,
// then the first-sync LinkedAccount.synced_initial, both carrying the
// account token. It runs with s.mu held, since it reads a.
func (d *deliverer) linked(a *account, relink bool) {
	d.enqueue(a.id,
		d.delivery("LinkedAccount.linked", a, map[string]any{
			"account_token": a.token,
			"is_relink":     relink,
		}),
		d.delivery("LinkedAccount.synced_initial", a, map[string]any{
			"integration_name": a.integ.name,
			"integration_id":   a.integ.slug,
			"synced_models":    []string{a.category + "." + syncedModel[a.category]},
			"account_token":    a.token,
		}),
	)
}

func (d *deliverer) delivery(event string, a *account, data map[string]any) *Delivery {
	payload, err := json.Marshal(webhookPayload{
		Hook: webhookHook{ID: d.hookID, Event: event, Target: d.url},
		LinkedAccount: webhookAccount{
			ID:                      a.id,
			Integration:             a.integ.name,
			IntegrationSlug:         a.integ.slug,
			Category:                a.category,
			EndUserOriginID:         a.originID,
			EndUserOrganizationName: a.org,
			EndUserEmailAddress:     a.email,
			Status:                  a.status,
			WebhookListenerURL:      a.listenerURL,
			AccountType:             "PRODUCTION",
		},
		Data: data,
	})
	if err != nil {
		panic("mergetest: encoding a webhook: " + err.Error())
	}
	return &Delivery{Event: event, LinkedAccountID: a.id, Payload: payload}
}
