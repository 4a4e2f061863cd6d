package agenthandler

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/mergelink/mergelink/internal/webhookmac"
)

// SignatureHeader is the header in which Agent Handler sends a webhook's
// signature. The Unified API's webhooks use another one,
// mergelink.SignatureHeader.
const SignatureHeader = "X-Merge-Signature"

// Errors of Agent Handler webhook verification, to test with errors.Is.
var (
	// ErrNoSignature is returned for a webhook without a signature.
	ErrNoSignature = errors.New("mergelink: Agent Handler webhook has no " + SignatureHeader + " signature")
	// ErrInvalidSignature is returned when the signature is not the body's
	// HMAC-SHA256 under any key, or is in no encoding that
	// VerifyWebhookSignature accepts.
	ErrInvalidSignature = errors.New("mergelink: Agent Handler webhook signature does not match the body under any key")
	// ErrNoWebhookKey is returned when verification is asked with no key:
	// a webhook is never accepted unverified.
	ErrNoWebhookKey = errors.New("mergelink: no Agent Handler webhook key given: pass the verification key from Agent Handler's dashboard (Connectors, Webhooks, Verification key)")
)

// signaturePrefix is the scheme label some senders put before a MAC.
const signaturePrefix = "sha256="

// The lengths of an HMAC-SHA256 in the encodings accepted.
var (
	hexLen    = hex.EncodedLen(webhookmac.Size)                   // 64
	base64Len = base64.RawStdEncoding.EncodedLen(webhookmac.Size) // 43, 44 with its one '='
)

// Strict decoders refuse a last character whose unused bits are set, so
// that one MAC has exactly one form in each alphabet.
var (
	stdEncoding = base64.RawStdEncoding.Strict()
	urlEncoding = base64.RawURLEncoding.Strict()
)

// SignWebhook returns the signature of payload under key as
// VerifyWebhookSignature checks it: HMAC-SHA256 of the raw body in
// lower-case hex, without a prefix, the form `openssl dgst -sha256 -hmac`
// prints. Use it in tests to sign payloads as Agent Handler would. The
// stored documentation does not say which encoding Agent Handler sends;
// VerifyWebhookSignature accepts every likely one.
func SignWebhook(payload []byte, key string) string {
	var sum [webhookmac.Size]byte
	webhookmac.Sum(key, payload, &sum)
	return hex.EncodeToString(sum[:])
}

// VerifyWebhookSignature checks signature, the X-Merge-Signature header,
// against the raw payload under each key in turn. Agent Handler documents
// HMAC-SHA256 of the raw body but not its encoding, so signature may be
// hex (either case) or base64 (standard or URL alphabet, with its one '='
// of padding or without), with or without a "sha256=" prefix, and with
// surrounding space. Whatever its form, it must decode to exactly the 32
// bytes of the MAC, which are compared with the body's MAC under every key
// in constant time. Several signatures in one header, truncated MACs and
// any other form are refused. Agent Handler keeps no old key valid after a
// rotation; pass several keys only while you switch your own deployment
// over.
//
// It fails with ErrNoWebhookKey when no non-empty key is given,
// ErrNoSignature when signature is empty, and ErrInvalidSignature when it
// is malformed or no key matches.
func VerifyWebhookSignature(payload []byte, signature string, keys ...string) error {
	if !webhookmac.HasKey(keys) {
		return ErrNoWebhookKey
	}
	var got [webhookmac.Size]byte
	if err := decodeSignature(signature, &got); err != nil {
		return err
	}
	if !webhookmac.Verify(payload, &got, keys) {
		return ErrInvalidSignature
	}
	return nil
}

// decodeSignature decodes a signature in any accepted form into mac,
// without allocating.
func decodeSignature(signature string, mac *[webhookmac.Size]byte) error {
	s := strings.TrimSpace(signature)
	if s == "" {
		return ErrNoSignature
	}
	if len(s) >= len(signaturePrefix) && strings.EqualFold(s[:len(signaturePrefix)], signaturePrefix) {
		s = s[len(signaturePrefix):]
	}
	if len(s) == base64Len+1 && s[base64Len] == '=' {
		s = s[:base64Len]
	}
	// Copying into an array keeps the decoding free of allocations.
	var enc [64]byte
	var n int
	var err error
	switch len(s) {
	case hexLen:
		n, err = hex.Decode(mac[:], enc[:copy(enc[:], s)])
	case base64Len:
		dec := urlEncoding
		if strings.ContainsAny(s, "+/") {
			dec = stdEncoding
		}
		n, err = dec.Decode(mac[:], enc[:copy(enc[:], s)])
	default:
		return ErrInvalidSignature
	}
	if err != nil || n != webhookmac.Size {
		return ErrInvalidSignature
	}
	return nil
}
