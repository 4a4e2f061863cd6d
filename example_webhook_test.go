package mergelink_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/mergelink/mergelink"
)

// tokenVault stands for your database: account tokens are secrets, keyed
// by linked account.
type tokenVault struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (v *tokenVault) Put(linkedAccountID, token string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tokens[linkedAccountID] = token
}

// Mount the handler on a ServeMux and store the account token that the
// LinkedAccount.linked webhook carries.
func ExampleNewWebhookHandler() {
	key := "whsec-example-key" // in production: os.Getenv("MERGE_WEBHOOK_KEY")
	vault := &tokenVault{tokens: map[string]string{}}

	h, err := mergelink.NewWebhookHandler(func(ctx context.Context, ev *mergelink.WebhookEvent) error {
		if token, ok := ev.AccountToken(); ok {
			vault.Put(ev.LinkedAccount.ID, token)
		}
		return nil // an error answers 500, and Merge sends the webhook again
	}, []string{key})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/merge", h)

	// What Merge sends when an end user finishes Merge Link.
	body := []byte(`{"hook": {"id": "hook-1", "event": "LinkedAccount.linked", "target": "https://myapp.example/webhooks/merge"},
		"linked_account": {"id": "acct-42", "integration_slug": "greenhouse", "category": "ats", "status": "COMPLETE"},
		"data": {"account_token": "tok-example-0001", "is_relink": false}}`)
	send := func(sig string) int {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/merge", bytes.NewReader(body))
		req.Header.Set(mergelink.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println("signed by Merge:", send(mergelink.SignWebhook(body, key)))
	fmt.Println("forged:", send(mergelink.SignWebhook(body, "not-the-key")))
	fmt.Println("retried by Merge:", send(mergelink.SignWebhook(body, key)))
	fmt.Println("tokens stored:", len(vault.tokens), "for acct-42:", vault.tokens["acct-42"] != "")
	// Output:
	// signed by Merge: 200
	// forged: 401
	// retried by Merge: 200
	// tokens stored: 1 for acct-42: true
}

// Verify and parse a webhook in any HTTP framework: pass the raw body and
// the signature header.
func ExampleParseWebhook() {
	key := "whsec-example-key"
	body := []byte(`{"hook": {"id": "hook-1", "event": "CRMAccount.changed", "target": "https://myapp.example/hooks"},
		"linked_account": {"id": "acct-7"}, "data": {"id": "crm-account-1"}}`)
	sig := mergelink.SignWebhook(body, key) // Merge's X-Merge-Webhook-Signature

	ev, err := mergelink.ParseWebhook(body, sig, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	model, action, ok := ev.ModelEvent()
	fmt.Println(ev.Type(), model, action, ok)

	_, err = mergelink.ParseWebhook(body, sig, "another-key")
	fmt.Println(err)
	// Output:
	// CRMAccount.changed CRMAccount changed true
	// mergelink: webhook signature does not match the body under any key
}
