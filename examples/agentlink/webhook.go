package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// webhookPath is where the command receives Agent Handler's webhooks, on
// the callback's server.
const webhookPath = "/webhooks/agent"

// webhookKeyEnv names the environment variable that holds the webhooks'
// verification key (Agent Handler dashboard: Connectors, Webhooks,
// Verification key).
const webhookKeyEnv = "MERGE_AGENT_WEBHOOK_KEY"

// maxWebhookBody caps a webhook's body.
const maxWebhookBody = 1 << 20

// connected is a credential.created webhook: user connected connector.
type connected struct {
	user, connector string
}

// webhooks receives Agent Handler's webhooks at webhookPath, verified with
// key, and passes each credential.created event on to got.
type webhooks struct {
	key string
	got func(connected)
}

func (wh *webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "webhooks are POSTed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "the body is too large", http.StatusRequestEntityTooLarge)
		return
	}
	if !verify(body, r.Header.Get("X-Merge-Signature"), wh.key) {
		http.Error(w, "the X-Merge-Signature does not verify under the key", http.StatusUnauthorized)
		return
	}
	ev, err := parseWebhook(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ev.Event == "credential.created" {
		wh.got(connected{user: ev.Data.RegisteredUser.ID, connector: ev.Data.Connector.Slug})
	}
	w.WriteHeader(http.StatusNoContent)
}

// verify reports whether sig is the hex HMAC-SHA256 of body under key
// (with or without a "sha256=" prefix), comparing in constant time.
func verify(body []byte, sig, key string) bool {
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// webhookEvent is what the command reads of an Agent Handler webhook.
type webhookEvent struct {
	Event string `json:"event"`
	Data  struct {
		RegisteredUser struct {
			ID string `json:"id"`
		} `json:"registered_user"`
		Connector struct {
			Slug string `json:"slug"`
		} `json:"connector"`
	} `json:"data"`
}

// parseWebhook decodes a verified webhook body.
func parseWebhook(body []byte) (*webhookEvent, error) {
	var ev webhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, errors.New("not an Agent Handler webhook: " + err.Error())
	}
	return &ev, nil
}
