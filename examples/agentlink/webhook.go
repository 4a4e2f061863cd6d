package main

import (
	"context"
	"net/http"

	"github.com/mergelink/mergelink/agenthandler"
)

// webhookPath is where the command receives Agent Handler's webhooks, on
// the callback's server.
const webhookPath = "/webhooks/agent"

// webhookKeyEnv names the environment variable that holds the webhooks'
// verification key (Agent Handler dashboard: Connectors, Webhooks,
// Verification key).
const webhookKeyEnv = "MERGE_AGENT_WEBHOOK_KEY"

// connected is a credential.created webhook: user connected connector.
type connected struct {
	user, connector string
}

// newWebhooks returns the handler of Agent Handler's webhooks, verified
// with key, which passes each credential.created event on to got and
// answers every verified event 200. It fails as
// agenthandler.NewWebhookHandler does.
func newWebhooks(key string, got func(connected)) (http.Handler, error) {
	return agenthandler.NewWebhookHandler(func(_ context.Context, ev *agenthandler.WebhookEvent) error {
		if d, ok := ev.Credential(); ok && ev.Type() == agenthandler.EventCredentialCreated {
			got(connected{user: d.RegisteredUser.ID, connector: d.Connector.Slug})
		}
		return nil
	}, []string{key})
}
