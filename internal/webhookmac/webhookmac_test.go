package webhookmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func reference(key string, payload []byte) [Size]byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(payload)
	var sum [Size]byte
	copy(sum[:], m.Sum(nil))
	return sum
}

// TestSumMatchesCryptoHMAC covers keys on both sides of SHA-256's 64-byte
// block, where HMAC hashes a long key first, and bodies of several sizes.
func TestSumMatchesCryptoHMAC(t *testing.T) {
	t.Parallel()
	payload := []byte(strings.Repeat("payload-", 40))
	for n := 0; n <= 200; n++ {
		key := strings.Repeat("k", n)
		for _, body := range [][]byte{nil, payload[:n], payload} {
			var got [Size]byte
			Sum(key, body, &got)
			if want := reference(key, body); got != want {
				t.Fatalf("key of %d bytes, body of %d: Sum = %x, crypto/hmac = %x", n, len(body), got, want)
			}
		}
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event":"credential.created"}`)
	mac := reference("key-B", body)
	for _, tc := range []struct {
		name string
		keys []string
		want bool
	}{
		{"the signing key", []string{"key-B"}, true},
		{"the signing key last", []string{"key-A", "", "key-B"}, true},
		{"the signing key first", []string{"key-B", "key-A"}, true},
		{"another key", []string{"key-A"}, false},
		{"a prefix of the key", []string{"key-"}, false},
		{"no key", nil, false},
		{"only empty keys", []string{"", ""}, false},
	} {
		if got := Verify(body, &mac, tc.keys); got != tc.want {
			t.Errorf("%s: Verify = %t, want %t", tc.name, got, tc.want)
		}
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-2] ^= 1
	if Verify(tampered, &mac, []string{"key-B"}) {
		t.Error("a tampered body verified")
	}
	mac[Size-1] ^= 1
	if Verify(body, &mac, []string{"key-B"}) {
		t.Error("a MAC with its last bit flipped verified")
	}
}

func TestHasKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		keys []string
		want bool
	}{{nil, false}, {[]string{""}, false}, {[]string{"", "k"}, true}, {[]string{"k"}, true}} {
		if got := HasKey(tc.keys); got != tc.want {
			t.Errorf("HasKey(%q) = %t, want %t", tc.keys, got, tc.want)
		}
	}
}

func TestNonEmpty(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		keys, want []string
	}{{nil, nil}, {[]string{"", ""}, nil}, {[]string{"", "k", "", "j"}, []string{"k", "j"}}, {[]string{"k"}, []string{"k"}}} {
		got := NonEmpty(tc.keys)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("NonEmpty(%q) = %q, want %q", tc.keys, got, tc.want)
		}
	}
}
