package mergelink_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mergelink/mergelink"
)

// FuzzVerifyWebhookSignature checks that verification never panics and
// accepts a signature exactly when it is the body's base64url HMAC under
// the key (surrounding space and trailing padding aside): nothing verifies
// without the key. Seeds are in testdata/fuzz/FuzzVerifyWebhookSignature.
func FuzzVerifyWebhookSignature(f *testing.F) {
	f.Add([]byte(vectorHelloBody), vectorHelloSigA, vectorKeyA)
	f.Add([]byte(vectorHelloBody), vectorHelloSigAStd, vectorKeyA)
	f.Fuzz(func(t *testing.T, payload []byte, signature, key string) {
		err := mergelink.VerifyWebhookSignature(payload, signature, key)
		if key == "" {
			if !errors.Is(err, mergelink.ErrNoWebhookKey) {
				t.Fatalf("no key: got %v, want ErrNoWebhookKey", err)
			}
			return
		}
		want := mergelink.SignWebhook(payload, key)
		if ref := referenceSignature(payload, key); want != ref {
			t.Fatalf("SignWebhook = %q, crypto/hmac says %q", want, ref)
		}
		isRight := strings.TrimRight(strings.TrimSpace(signature), "=") == want
		if (err == nil) != isRight {
			t.Fatalf("signature %q under the key: err = %v, but it is the right one: %t", signature, err, isRight)
		}
		if err != nil && !errors.Is(err, mergelink.ErrNoSignature) && !errors.Is(err, mergelink.ErrInvalidSignature) {
			t.Fatalf("unexpected error %v", err)
		}
		if err := mergelink.VerifyWebhookSignature(payload, want, key); err != nil {
			t.Fatalf("the right signature does not verify: %v", err)
		}
		if err := mergelink.VerifyWebhookSignature(payload, want, key+"x"); !errors.Is(err, mergelink.ErrInvalidSignature) {
			t.Fatalf("verified under another key: %v", err)
		}
	})
}

// FuzzParseWebhook checks that parsing any signed body never panics, gives
// either an event or a *WebhookPayloadError, refuses the body under any
// other key or without a signature, and never prints the account token.
// Seeds are in testdata/fuzz/FuzzParseWebhook.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(vectorLinkedBody), vectorKeyA)
	f.Add([]byte(`{"response": "Success! This URL will be notified."}`), "k")
	f.Fuzz(func(t *testing.T, payload []byte, key string) {
		if key == "" {
			key = "k"
		}
		sig := mergelink.SignWebhook(payload, key)
		ev, err := mergelink.ParseWebhook(payload, sig, key)
		switch {
		case err != nil:
			var perr *mergelink.WebhookPayloadError
			if !errors.As(err, &perr) || !errors.Is(err, mergelink.ErrNotWebhookPayload) || ev != nil {
				t.Fatalf("signed body: got %v, %v; want an event or a *WebhookPayloadError", ev, err)
			}
		case ev == nil:
			t.Fatal("nil event without an error")
		case !ev.IsTest() && ev.Type() == "":
			t.Fatal("an event with no type that is not the test payload")
		default:
			token, ok := ev.AccountToken()
			printed := fmt.Sprintf("%v %+v %#v %s %x %d", ev, ev, *ev, ev, ev, *ev)
			shown := string(ev.Hook.Event) + ev.Hook.ID + ev.LinkedAccount.ID + ev.LinkedAccount.IntegrationSlug
			if ok && len(token) >= 4 && !strings.Contains(shown, token) && strings.Contains(printed, token) {
				t.Fatalf("account token printed: %s", printed)
			}
		}
		if _, err := mergelink.ParseWebhook(payload, sig, key+"-other"); !errors.Is(err, mergelink.ErrInvalidSignature) {
			t.Fatalf("parsed under another key: %v", err)
		}
		if _, err := mergelink.ParseWebhook(payload, "", key); !errors.Is(err, mergelink.ErrNoSignature) {
			t.Fatalf("parsed without a signature: %v", err)
		}
	})
}
