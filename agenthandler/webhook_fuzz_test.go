package agenthandler_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mergelink/mergelink/agenthandler"
)

// acceptedForms reports whether signature is, by this test's own reading
// of WIRE.md, a form of mac: space around it, an optional "sha256=" in any
// ASCII case, then hex in either case or base64 in either alphabet with
// its one '=' or without.
func acceptedForms(signature string, mac []byte) bool {
	s := strings.TrimSpace(signature)
	if len(s) >= 7 && asciiLower(s[:7]) == "sha256=" {
		s = s[7:]
	}
	std := base64.RawStdEncoding.EncodeToString(mac)
	url := base64.RawURLEncoding.EncodeToString(mac)
	return asciiLower(s) == hex.EncodeToString(mac) ||
		s == std || s == std+"=" || s == url || s == url+"="
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzVerifyWebhookSignature checks that verification never panics and
// accepts a signature exactly when it is a form of the body's HMAC-SHA256
// under the key (computed here with crypto/hmac): nothing weaker verifies,
// and nothing verifies without the key. Seeds are in
// testdata/fuzz/FuzzVerifyWebhookSignature.
func FuzzVerifyWebhookSignature(f *testing.F) {
	f.Add([]byte("hello agent handler"), "da9d2cf7a3a4e1bfa6a23ad7c83f6de85d0d4e1e9e9f3d39c6bb3e4e2b0a4c41", "ah_verification_key_01")
	f.Add([]byte(`{"event":"credential.created"}`), "sha256=QO+wD3E4rn7MWqHBCp0sbag+AojigrxB3vpqpY4vqGM=", "k")
	f.Fuzz(func(t *testing.T, payload []byte, signature, key string) {
		err := agenthandler.VerifyWebhookSignature(payload, signature, key)
		if key == "" {
			if !errors.Is(err, agenthandler.ErrNoWebhookKey) {
				t.Fatalf("no key: got %v, want ErrNoWebhookKey", err)
			}
			return
		}
		m := hmac.New(sha256.New, []byte(key))
		m.Write(payload)
		mac := m.Sum(nil)
		if want := acceptedForms(signature, mac); (err == nil) != want {
			t.Fatalf("signature %q: err = %v, but it is a form of the MAC: %t", signature, err, want)
		}
		if err != nil && !errors.Is(err, agenthandler.ErrNoSignature) && !errors.Is(err, agenthandler.ErrInvalidSignature) {
			t.Fatalf("unexpected error %v", err)
		}
		if (strings.TrimSpace(signature) == "") != errors.Is(err, agenthandler.ErrNoSignature) {
			t.Fatalf("signature %q: err = %v", signature, err)
		}
		sig := agenthandler.SignWebhook(payload, key)
		if sig != hex.EncodeToString(mac) {
			t.Fatalf("SignWebhook = %q, crypto/hmac says %x", sig, mac)
		}
		if err := agenthandler.VerifyWebhookSignature(payload, sig, key); err != nil {
			t.Fatalf("SignWebhook's signature does not verify: %v", err)
		}
		if err := agenthandler.VerifyWebhookSignature(payload, sig, key+"x"); !errors.Is(err, agenthandler.ErrInvalidSignature) {
			t.Fatalf("verified under another key: %v", err)
		}
	})
}

// FuzzParseWebhook checks that parsing any signed body never panics; that
// it gives an event exactly when the body is a JSON object, and a
// *WebhookPayloadError otherwise; that the event keeps the body, has typed
// data exactly for credential and registered user events, and prints the
// same for every verb, without its data; and that the body is refused
// under another key or without a signature. Seeds are in
// testdata/fuzz/FuzzParseWebhook.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"e1","event":"credential.created","data":{"registered_user":{"id":"ru-1"},"connector":"linear"}}`), "k")
	f.Add([]byte(`{"event_type":"REGISTERED_USER_DELETED","payload":{"id":"ru-1"}}`), "k")
	f.Fuzz(func(t *testing.T, payload []byte, key string) {
		if key == "" {
			key = "k"
		}
		sig := agenthandler.SignWebhook(payload, key)
		ev, err := agenthandler.ParseWebhookWithTolerance(payload, sig, 0, key)
		if _, derr := agenthandler.ParseWebhook(payload, sig, key); errors.Is(derr, agenthandler.ErrStaleWebhook) {
			if ev == nil || ev.CreatedAt.IsZero() || time.Since(ev.CreatedAt).Abs() <= agenthandler.DefaultWebhookTolerance {
				t.Fatalf("refused as stale, but its time %v is within the tolerance: %v", ev, derr)
			}
		} else if ev != nil && !ev.CreatedAt.IsZero() && time.Since(ev.CreatedAt).Abs() > agenthandler.DefaultWebhookTolerance+time.Minute {
			t.Fatalf("an event created at %s passed the default tolerance: %v", ev.CreatedAt, derr)
		}
		// Any JSON object: decoding into an any would also refuse a number
		// too large for a float64, such as 1E700, which JSON allows.
		isObject := json.Valid(payload) && bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("{"))
		if err != nil {
			var perr *agenthandler.WebhookPayloadError
			if !errors.As(err, &perr) || !errors.Is(err, agenthandler.ErrNotWebhookPayload) || ev != nil {
				t.Fatalf("signed body: got %v, %v; want an event or a *WebhookPayloadError", ev, err)
			}
			if isObject {
				t.Fatalf("a JSON object refused: %v", err)
			}
		} else {
			if !isObject {
				t.Fatalf("%q is not a JSON object, but parsed", payload)
			}
			checkEvent(t, ev, payload)
		}
		if _, err := agenthandler.ParseWebhook(payload, sig, key+"-other"); !errors.Is(err, agenthandler.ErrInvalidSignature) {
			t.Fatalf("parsed under another key: %v", err)
		}
		if _, err := agenthandler.ParseWebhook(payload, "", key); !errors.Is(err, agenthandler.ErrNoSignature) {
			t.Fatalf("parsed without a signature: %v", err)
		}
	})
}

func checkEvent(t *testing.T, ev *agenthandler.WebhookEvent, payload []byte) {
	t.Helper()
	if !bytes.Equal(ev.Raw, payload) {
		t.Fatalf("Raw %q, body %q", ev.Raw, payload)
	}
	if len(ev.Data) > 0 && !json.Valid(ev.Data) {
		t.Fatalf("Data %q is not JSON", ev.Data)
	}
	_, isCredential := ev.Credential()
	_, isUser := ev.RegisteredUser()
	switch ev.Type() {
	case agenthandler.EventCredentialCreated, agenthandler.EventCredentialExpired, agenthandler.EventCredentialDeleted:
		if !isCredential || isUser {
			t.Fatalf("event %q: credential data %t, registered user data %t", ev.Type(), isCredential, isUser)
		}
	case agenthandler.EventRegisteredUserCreated, agenthandler.EventRegisteredUserUpdated, agenthandler.EventRegisteredUserDeleted:
		if isCredential || !isUser {
			t.Fatalf("event %q: credential data %t, registered user data %t", ev.Type(), isCredential, isUser)
		}
	default:
		if isCredential || isUser {
			t.Fatalf("event %q: credential data %t, registered user data %t", ev.Type(), isCredential, isUser)
		}
	}
	s := ev.String()
	for _, printed := range []string{fmt.Sprint(ev), fmt.Sprintf("%+v", ev), fmt.Sprintf("%#v", ev), fmt.Sprintf("%x", *ev), fmt.Sprintf("%d", ev)} {
		if printed != s {
			t.Fatalf("printed %q, String is %q", printed, s)
		}
	}
	if fmt.Sprintf("%q", ev) != fmt.Sprintf("%q", s) {
		t.Fatalf("%%q prints %q", fmt.Sprintf("%q", ev))
	}
	shown := fmt.Sprintf("%q %q", ev.Type(), ev.ID)
	if d, ok := ev.Credential(); ok {
		shown += fmt.Sprintf(" %q %q", d.RegisteredUser.ID, d.Connector.Slug)
	}
	if u, ok := ev.RegisteredUser(); ok {
		shown += fmt.Sprintf(" %q", u.ID)
	}
	const template = `agenthandler.WebhookEvent{Event: "", ID: "", RegisteredUserID: "", Connector: "", Data: 0123456789 bytes}`
	if data := string(ev.Data); len(data) >= 8 && !strings.Contains(shown, data) && !strings.Contains(template, data) && strings.Contains(s, data) {
		t.Fatalf("the data %q is printed: %s", data, s)
	}
}
