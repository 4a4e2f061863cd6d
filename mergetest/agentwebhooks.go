package mergetest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mergelink/mergelink/agenthandler"
)

// AgentSignatureHeader is the header of an Agent Handler webhook that
// carries its signature: the HMAC-SHA256 of the raw body under the
// verification key, hex-encoded (computed here with crypto/hmac, apart
// from the SDK's verifier, agenthandler.VerifyWebhookSignature).
const AgentSignatureHeader = agenthandler.SignatureHeader

// AgentDeliveryAttempts is how many times the server sends an Agent
// Handler webhook before dropping it, as Agent Handler drops an event after
// five failures. Retries follow the same rules as the Unified API's (see
// DeliveryAttempts), and each attempt waits 10 seconds for an answer.
const AgentDeliveryAttempts = 5

// The Agent Handler events the server sends.
const (
	agentUserCreated       = "registered_user.created"
	agentUserUpdated       = "registered_user.updated"
	agentUserDeleted       = "registered_user.deleted"
	agentCredentialCreated = "credential.created"
	agentCredentialDeleted = "credential.deleted"
)

// WithAgentWebhook makes the server send Agent Handler's webhooks to url,
// signed with verificationKey (Connectors, Webhooks, Verification key in
// Agent Handler's dashboard): registered_user.created, .updated and
// .deleted as the API changes registered users, credential.created when an
// agent link completes and credential.deleted when a credential is deleted.
// Without it, or SetAgentWebhook, none is sent.
//
// The body is {"id", "event", "created_at", "data"}; a credential event's
// data is {"registered_user": {...}, "connector": {"slug", "name"}}, a
// registered user event's {"registered_user": {...}}. Merge does not
// document the envelope's field names: these are mergetest's.
func WithAgentWebhook(url, verificationKey string) ServerOption {
	return func(c *config) {
		if p := checkAgentWebhook(url, verificationKey); p != "" {
			c.problems = append(c.problems, "WithAgentWebhook: "+p)
		}
		c.agentWebhookURL, c.agentWebhookKey = url, verificationKey
	}
}

// checkAgentWebhook returns what is wrong with an Agent Handler webhook
// URL and key, or "".
func checkAgentWebhook(url, key string) string {
	var problems []string
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		problems = append(problems, fmt.Sprintf("the URL must be http or https, got %q", url))
	}
	if key == "" {
		problems = append(problems, "the verification key must not be empty")
	}
	return strings.Join(problems, "; ")
}

// SetAgentWebhook makes the server send the Agent Handler webhooks of
// later events to url, signed with verificationKey, as WithAgentWebhook
// does from the start: for a receiver whose URL is known only once the
// server runs. Deliveries already queued keep their URL, and are signed
// with the new key from their next attempt; any other targets
// (WithAgentWebhookTargets) are dropped. It fails when url is not http
// or https, the key is empty, or the server is closed.
func (s *Server) SetAgentWebhook(url, verificationKey string) error {
	if p := checkAgentWebhook(url, verificationKey); p != "" {
		return errors.New("mergetest: SetAgentWebhook: " + p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	d := s.agentHooks
	d.mu.Lock()
	defer d.mu.Unlock()
	d.url, d.more, d.key = url, nil, verificationKey
	return nil
}

// RotateAgentWebhookKey replaces the verification key, as rotating it in
// Agent Handler's dashboard does: every attempt from now on, retries of
// earlier events included, is signed with newKey, and signatures under the
// old key stop verifying at once (unlike the Unified API's rotation, there
// is no overlap). It fails when newKey is empty or the server sends no
// Agent Handler webhooks.
func (s *Server) RotateAgentWebhookKey(newKey string) error {
	if newKey == "" {
		return errors.New("mergetest: RotateAgentWebhookKey: the new key must not be empty")
	}
	d := s.agentHooks
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.url == "" {
		return errors.New("mergetest: RotateAgentWebhookKey: the server sends no Agent Handler webhooks: start it WithAgentWebhook or call SetAgentWebhook")
	}
	d.key = newKey
	return nil
}

// AgentDeliveries returns the Agent Handler webhook deliveries finished so
// far (delivered or dropped), in the order they finished. Per registered
// user that is the order of the events.
func (s *Server) AgentDeliveries() []Delivery {
	d := s.agentHooks
	d.mu.Lock()
	defer d.mu.Unlock()
	return cloneDeliveries(d.done)
}

// WaitForAgentDeliveries waits until at least n Agent Handler webhook
// deliveries have finished and returns them all, in the order they
// finished. It fails when ctx ends first, returning those finished by
// then, and at once when the server sends no Agent Handler webhooks.
func (s *Server) WaitForAgentDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	return s.agentHooks.waitFor(ctx, n, "WaitForAgentDeliveries", "start it WithAgentWebhook or call SetAgentWebhook")
}

// newAgentDeliverer returns the deliverer of Agent Handler's webhooks,
// which sends nothing until it has a URL.
func newAgentDeliverer(url, key string, wait time.Duration, ids *idSource) *deliverer {
	d := newDeliverer(url, key, wait, ids)
	d.header, d.sign, d.attempts = AgentSignatureHeader, signAgentWebhook, AgentDeliveryAttempts
	return d
}

// signAgentWebhook returns the hex HMAC-SHA256 of payload under key.
func signAgentWebhook(payload []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(payload)
	return hex.EncodeToString(m.Sum(nil))
}

// agentWebhookPayload is the body of an Agent Handler webhook.
type agentWebhookPayload struct {
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

type agentUserData struct {
	RegisteredUser *registeredUser `json:"registered_user"`
}

type agentCredentialData struct {
	RegisteredUser *registeredUser `json:"registered_user"`
	Connector      agentConnector  `json:"connector"`
}

type agentConnector struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// agentEvent queues the Agent Handler webhook of event about u (and, for a
// credential event, k), when there is an Agent Handler webhook URL. It
// runs with s.mu held, since it reads u.
func (s *Server) agentEvent(event string, u *registeredUser, k connector) {
	d := s.agentHooks
	if !d.enabled() {
		return
	}
	user := *u
	user.AuthenticatedConnectors = append([]string{}, u.AuthenticatedConnectors...)
	var data any = agentUserData{&user}
	if strings.HasPrefix(event, "credential.") {
		data = agentCredentialData{&user, agentConnector{Slug: k.slug, Name: k.name}}
	}
	payload, err := json.Marshal(agentWebhookPayload{ID: s.ids.id(), Event: event, CreatedAt: s.now().UTC(), Data: data})
	if err != nil {
		panic("mergetest: encoding an Agent Handler webhook: " + err.Error())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.url == "" {
		return
	}
	d.enqueue(u.ID, &pending{Delivery: Delivery{ID: s.ids.id(), Event: event, RegisteredUserID: u.ID, Payload: payload}, targets: d.targets()})
}
