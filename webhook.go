package mergelink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// SignatureHeader is the header in which Merge sends a webhook's signature.
const SignatureHeader = "X-Merge-Webhook-Signature"

// Errors of webhook verification.
var (
	// ErrNoSignature is returned for a webhook without a signature.
	ErrNoSignature = errors.New("mergelink: webhook has no " + SignatureHeader + " signature")
	// ErrInvalidSignature is returned when no key verifies the signature.
	ErrInvalidSignature = errors.New("mergelink: webhook signature does not match the body under any key")
	// ErrNoWebhookKey is returned when verification is asked with no key:
	// a webhook is never accepted unverified.
	ErrNoWebhookKey = errors.New("mergelink: no webhook signature key given: pass the key from Merge's dashboard (Webhooks, Security)")
)

// SignWebhook returns the signature Merge sends for payload under key:
// HMAC-SHA256 of the raw body, base64url without padding. Use it in tests
// to sign payloads as Merge does.
func SignWebhook(payload []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(payload)
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
}

// VerifyWebhookSignature checks signature against the raw payload under each
// key in turn, so that during a key rotation both the old and the new key
// verify. Padding is ignored on both sides and the comparison takes constant
// time. It fails with ErrNoWebhookKey when no non-empty key is given,
// ErrNoSignature when signature is empty, and ErrInvalidSignature when no key
// matches.
func VerifyWebhookSignature(payload []byte, signature string, keys ...string) error {
	if !hasKey(keys) {
		return ErrNoWebhookKey
	}
	signature = strings.TrimRight(strings.TrimSpace(signature), "=")
	if signature == "" {
		return ErrNoSignature
	}
	var got [sha256.Size]byte
	if base64.RawURLEncoding.DecodedLen(len(signature)) != sha256.Size {
		return ErrInvalidSignature
	}
	if _, err := base64.RawURLEncoding.Decode(got[:], []byte(signature)); err != nil {
		return ErrInvalidSignature
	}
	var want [sha256.Size]byte
	ok := 0
	for _, key := range keys {
		if key == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(key))
		m.Write(payload)
		ok |= subtleEqual(m.Sum(want[:0]), got[:])
	}
	if ok == 0 {
		return ErrInvalidSignature
	}
	return nil
}

func subtleEqual(a, b []byte) int {
	if hmac.Equal(a, b) {
		return 1
	}
	return 0
}

func hasKey(keys []string) bool {
	for _, k := range keys {
		if k != "" {
			return true
		}
	}
	return false
}
