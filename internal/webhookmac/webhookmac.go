// Package webhookmac computes and checks the HMAC-SHA256 of a webhook body,
// the scheme of both Merge APIs: the root package's Unified API webhooks and
// agenthandler's. Each package decodes its own signature encodings and
// hands the decoded MAC here.
package webhookmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// Size is the length of a MAC in bytes.
const Size = sha256.Size

// HasKey reports whether keys holds a non-empty key.
func HasKey(keys []string) bool {
	for _, k := range keys {
		if k != "" {
			return true
		}
	}
	return false
}

// NonEmpty returns the non-empty keys of keys, in order, or nil when there
// are none: what a webhook handler keeps to verify with.
func NonEmpty(keys []string) []string {
	var out []string
	for _, k := range keys {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// Verify reports whether mac is HMAC-SHA256(key, payload) for a non-empty
// key of keys. Every key is tried and compared in constant time, so the
// time does not tell which key matched, nor how much of mac did.
func Verify(payload []byte, mac *[Size]byte, keys []string) bool {
	var want [Size]byte
	ok := 0
	for _, key := range keys {
		if key == "" {
			continue
		}
		Sum(key, payload, &want)
		if hmac.Equal(want[:], mac[:]) {
			ok = 1
		}
	}
	clear(want[:])
	return ok == 1
}

// Sum writes HMAC-SHA256(key, payload) to sum, as RFC 2104 defines it.
// hmac.New costs seven allocations, more than hashing a small body, so the
// HMAC is built here from SHA-256 digests: the inner one comes from a pool
// and is reset before it goes back, so no key or key-derived state outlives
// the call; the outer one hashes 96 bytes on the stack.
func Sum(key string, payload []byte, sum *[Size]byte) {
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
	var outer [sha256.BlockSize + Size]byte
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
