package mergetest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// WithWebhookTargets makes the server deliver webhooks, signed with
// signingKey, to several targets in turn, one attempt to the next target,
// as a load balancer in front of a fleet of receivers spreads Merge's
// deliveries (Merge itself posts to one URL per organization). A retry may
// so reach another replica than the first attempt did. Each URL must be
// http or https.
func WithWebhookTargets(signingKey string, urls ...string) ServerOption {
	return func(c *config) {
		if len(urls) == 0 {
			c.problems = append(c.problems, "WithWebhookTargets: give at least one URL")
			return
		}
		WithWebhook(urls[0], signingKey)(c)
		for _, u := range urls[1:] {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				c.problems = append(c.problems, fmt.Sprintf("WithWebhookTargets: the URL must be http or https, got %q", u))
			}
		}
		c.moreTargets = urls[1:]
	}
}

// targets returns where a new delivery goes. It runs with d.mu held.
func (d *deliverer) targets() []string {
	return append([]string{d.url}, d.more...)
}

// Merge's retry schedule, as its help centre gives it: a delivery that
// fails with a status outside 4xx, or takes longer than MergeAttemptTimeout,
// is sent twice more. Merge publishes no waits between the attempts; the
// schedule WithMergeRetrySchedule scales takes them as MergeRetryWaits.
const (
	MergeDeliveryAttempts = 3
	MergeAttemptTimeout   = 30 * time.Second
)

// MergeRetryWaits are the waits before the retries of Merge's schedule
// (WithMergeRetrySchedule): one minute, then five. Merge says the failed
// delivery goes "back into the queue", without saying for how long; these
// are mergetest's assumption.
var MergeRetryWaits = []time.Duration{time.Minute, 5 * time.Minute}

// WithMergeRetrySchedule makes the Unified API's deliveries follow Merge's
// retry schedule, every duration multiplied by factor so that a test stays
// fast (0.001 turns the minute into 60ms and the 30-second timeout into
// 30ms): MergeDeliveryAttempts attempts, MergeRetryWaits between them,
// each waiting MergeAttemptTimeout for an answer. Without it a delivery is
// tried DeliveryAttempts times within a second or so
// (WithWebhookRetryWait).
func WithMergeRetrySchedule(factor float64) ServerOption {
	return func(c *config) {
		if factor <= 0 || factor > 1 {
			c.problems = append(c.problems, fmt.Sprintf("WithMergeRetrySchedule: the factor must be above 0 and at most 1, got %g", factor))
			return
		}
		c.retryFactor = factor
	}
}

// mergeSchedule sets d to Merge's schedule scaled by factor.
func (d *deliverer) mergeSchedule(factor float64) {
	scale := func(t time.Duration) time.Duration { return max(time.Millisecond, time.Duration(float64(t)*factor)) }
	d.attempts = MergeDeliveryAttempts
	d.schedule = nil
	for _, w := range MergeRetryWaits {
		d.schedule = append(d.schedule, scale(w))
	}
	d.client.Timeout = scale(MergeAttemptTimeout)
}

// Redeliver sends the finished delivery with id (Delivery.ID, a Unified
// API or an Agent Handler one) again, byte for byte with the signature it
// was sent with, to the current webhook targets, as a receiver sees Merge
// send the same webhook twice: the case deduplication is for. The
// redelivery is a Delivery of its own, with a new ID, retried as any
// other. It fails with ErrUnknownDelivery when no finished delivery has
// id, or when the server delivers no such webhooks any more.
func (s *Server) Redeliver(id string) error {
	for _, d := range []*deliverer{s.hooks, s.agentHooks} {
		if ok, err := d.redeliver(id); ok {
			return err
		}
	}
	return fmt.Errorf("%w: %q", ErrUnknownDelivery, id)
}

// redeliver queues the finished delivery with id again, reporting whether
// d holds it.
func (d *deliverer) redeliver(id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, done := range d.done {
		if done.ID != id {
			continue
		}
		sig := done.Header.Get(d.header)
		switch {
		case d.url == "":
			return true, errors.New("mergetest: Redeliver: the server delivers no such webhooks any more")
		case sig == "":
			return true, errors.New("mergetest: Redeliver: the delivery was never sent, so it has no signature to send again")
		}
		again := Delivery{ID: d.ids.id(), Event: done.Event, LinkedAccountID: done.LinkedAccountID,
			RegisteredUserID: done.RegisteredUserID, Payload: done.Payload}
		d.enqueue(done.LinkedAccountID+done.RegisteredUserID, &pending{Delivery: again, targets: d.targets(), signature: sig})
		return true, nil
	}
	return false, nil
}

// WithAgentWebhookTargets is WithWebhookTargets for Agent Handler's
// webhooks (WithAgentWebhook): each attempt goes to the next of urls in
// turn, signed with verificationKey.
func WithAgentWebhookTargets(verificationKey string, urls ...string) ServerOption {
	return func(c *config) {
		if len(urls) == 0 {
			c.problems = append(c.problems, "WithAgentWebhookTargets: give at least one URL")
			return
		}
		WithAgentWebhook(urls[0], verificationKey)(c)
		for _, u := range urls[1:] {
			if p := checkAgentWebhook(u, verificationKey); p != "" {
				c.problems = append(c.problems, "WithAgentWebhookTargets: "+p)
			}
		}
		c.moreAgentTargets = urls[1:]
	}
}
