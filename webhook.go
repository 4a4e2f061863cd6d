package mergelink

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/mergelink/mergelink/internal/webhookmac"
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

// sigLen is the length of a signature without padding: 32 bytes of
// HMAC-SHA256 in base64url.
var sigLen = base64.RawURLEncoding.EncodedLen(sha256.Size)

// sigEncoding decodes a signature. Strict refuses a last character whose
// unused bits are set, so that exactly one string verifies for a body.
var sigEncoding = base64.RawURLEncoding.Strict()

// SignWebhook returns the signature Merge sends for payload under key:
// HMAC-SHA256 of the raw body, base64url without padding. Use it in tests
// to sign payloads as Merge does.
func SignWebhook(payload []byte, key string) string {
	var sum [sha256.Size]byte
	webhookmac.Sum(key, payload, &sum)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyWebhookSignature checks signature against the raw payload under each
// key in turn, so that during a key rotation both the old and the new key
// verify. The signature must be base64url, as Merge sends it; trailing
// padding is ignored and the comparison takes constant time. Standard
// base64 (with '+' or '/') and hex are refused. It fails with
// ErrNoWebhookKey when no non-empty key is given, ErrNoSignature when
// signature is empty, and ErrInvalidSignature when no key matches.
func VerifyWebhookSignature(payload []byte, signature string, keys ...string) error {
	if !webhookmac.HasKey(keys) {
		return ErrNoWebhookKey
	}
	signature = strings.TrimRight(strings.TrimSpace(signature), "=")
	if signature == "" {
		return ErrNoSignature
	}
	if len(signature) != sigLen {
		return ErrInvalidSignature
	}
	// Copying into an array keeps the decoding free of allocations.
	var enc [64]byte
	var got [sha256.Size]byte
	if n, err := sigEncoding.Decode(got[:], enc[:copy(enc[:], signature)]); err != nil || n != len(got) {
		return ErrInvalidSignature
	}
	if !webhookmac.Verify(payload, &got, keys) {
		return ErrInvalidSignature
	}
	return nil
}
