package agenthandler_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/mergelink/mergelink/agenthandler"
)

// Verify and decode one delivery by hand, in any HTTP framework: the body
// must be the raw bytes received.
func ExampleParseWebhook() {
	key := "ah-example-verification-key" // in production: os.Getenv("AGENT_HANDLER_WEBHOOK_KEY")
	body := []byte(`{"id":"evt-1","event":"credential.created","data":{"registered_user":{"id":"41f11808-5387-4be5-9af2-852a372d61e3"},"connector":{"slug":"linear","name":"Linear"}}}`)
	signature := agenthandler.SignWebhook(body, key) // what arrives in X-Merge-Signature

	ev, err := agenthandler.ParseWebhook(body, signature, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	if d, ok := ev.Credential(); ok && ev.Type() == agenthandler.EventCredentialCreated {
		fmt.Println("user", d.RegisteredUser.ID, "connected", d.Connector.Slug)
	}
	_, err = agenthandler.ParseWebhook(body, signature, "another-key")
	fmt.Println(err)
	// Output:
	// user 41f11808-5387-4be5-9af2-852a372d61e3 connected linear
	// mergelink: Agent Handler webhook signature does not match the body under any key
}

// Mount the handler and learn when a user has connected a connector: the
// agent can then list its tools again.
func ExampleNewWebhookHandler() {
	key := "ah-example-verification-key"
	connected := make(chan string, 1)
	h, err := agenthandler.NewWebhookHandler(func(ctx context.Context, ev *agenthandler.WebhookEvent) error {
		if d, ok := ev.Credential(); ok && ev.Type() == agenthandler.EventCredentialCreated {
			connected <- d.RegisteredUser.ID + " " + d.Connector.Slug
		}
		return nil // an error answers 500, and Agent Handler sends the event again
	}, []string{key})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/agent-handler", h)

	body := []byte(`{"event":"credential.created","data":{"registered_user":"41f11808-5387-4be5-9af2-852a372d61e3","connector":"linear"}}`)
	send := func(sig string) int {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/agent-handler", bytes.NewReader(body))
		req.Header.Set(agenthandler.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println("signed:", send(agenthandler.SignWebhook(body, key)))
	fmt.Println("connected:", <-connected)
	fmt.Println("forged:", send(agenthandler.SignWebhook(body, "not-the-key")))
	fmt.Println("sent again:", send(agenthandler.SignWebhook(body, key)), "passed on again:", len(connected) > 0)
	// Output:
	// signed: 200
	// connected: 41f11808-5387-4be5-9af2-852a372d61e3 linear
	// forged: 401
	// sent again: 200 passed on again: false
}
