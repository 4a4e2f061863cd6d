package mergelink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"sync"
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
	macSum(key, payload, &sum)
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
	if !hasKey(keys) {
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
	var want [sha256.Size]byte
	ok := 0
	for _, key := range keys {
		if key == "" {
			continue
		}
		macSum(key, payload, &want)
		if hmac.Equal(want[:], got[:]) {
			ok = 1 // every key is tried: the time does not tell which matched
		}
	}
	if ok == 0 {
		return ErrInvalidSignature
	}
	return nil
}

func hasKey(keys []string) bool {
	for _, k := range keys {
		if k != "" {
			return true
		}
	}
	return false
}

// macSum writes HMAC-SHA256(key, payload) to sum, as RFC 2104 defines it.
// hmac.New costs seven allocations, more than hashing a small body, so the
// HMAC is built here from SHA-256 digests: the inner one comes from a pool
// and is reset before it goes back, so no key or key-derived state outlives
// the call; the outer one hashes 96 bytes on the stack.
func macSum(key string, payload []byte, sum *[sha256.Size]byte) {
	var k [sha256.BlockSize]byte
	if len(key) > sha256.BlockSize {
		h := sha256.Sum256([]byte(key))
		copy(k[:], h[:])
	} else {
		copy(k[:], key)
	}
	d := digestPool.Get().(*pooledDigest)
	for i, b := range k {
		d.pad[i] = b ^ 0x36
	}
	d.h.Write(d.pad[:])
	d.h.Write(payload)
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[sha256.BlockSize:], d.h.Sum(d.pad[:0]))
	d.h.Reset()
	clear(d.pad[:])
	digestPool.Put(d)
	for i, b := range k {
		outer[i] = b ^ 0x5c
	}
	*sum = sha256.Sum256(outer[:])
}

// pooledDigest is a SHA-256 digest and room for the inner pad and sum,
// which the digest's interface would otherwise make escape. Both are
// cleared before it goes back to the pool.
type pooledDigest struct {
	h   hash.Hash
	pad [sha256.BlockSize]byte
}

var digestPool = sync.Pool{New: func() any { return &pooledDigest{h: sha256.New()} }}
