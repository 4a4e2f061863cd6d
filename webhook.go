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

// macSum writes HMAC-SHA256(key, payload) to sum. hmac.New costs seven
// allocations, more than the hashing of a small body, so the MACs of
// recently used keys are pooled and reused after a Reset. Each pooled MAC
// belongs to one goroutine at a time and is keyed by the exact key, so
// reuse cannot mix keys or states.
func macSum(key string, payload []byte, sum *[sha256.Size]byte) {
	p := macPools.get(key)
	m := p.Get().(*pooledMAC)
	m.h.Reset()
	m.h.Write(payload)
	copy(sum[:], m.h.Sum(m.buf[:0]))
	p.Put(m)
}

type pooledMAC struct {
	h   hash.Hash
	buf [sha256.Size]byte
}

// maxPooledKeys bounds how many keys have pooled MACs. Past it the pools
// are dropped and rebuilt on demand, so that a process that verifies under
// many keys (tests, fuzzing, many tenants) does not keep them all.
const maxPooledKeys = 32

// macPools maps a key to the pool of its MACs.
var macPools = &keyPools{m: make(map[string]*sync.Pool)}

type keyPools struct {
	mu sync.RWMutex
	m  map[string]*sync.Pool
}

func (k *keyPools) get(key string) *sync.Pool {
	k.mu.RLock()
	p := k.m[key]
	k.mu.RUnlock()
	if p != nil {
		return p
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if p = k.m[key]; p != nil {
		return p
	}
	if len(k.m) >= maxPooledKeys {
		k.m = make(map[string]*sync.Pool)
	}
	b := []byte(key)
	p = &sync.Pool{New: func() any { return &pooledMAC{h: hmac.New(sha256.New, b)} }}
	k.m[key] = p
	return p
}
