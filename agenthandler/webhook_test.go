package agenthandler_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// signatureVector is one body and key of testdata/webhook/signatures.json,
// with its HMAC-SHA256 in every accepted form, computed by OpenSSL
// (testdata/webhook/gen.sh), independently of the code under test.
type signatureVector struct {
	BodyFile   string            `json:"body"`
	Key        string            `json:"key"`
	Signatures map[string]string `json:"signatures"`
	body       []byte
}

func loadVectors(t testing.TB) []signatureVector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "webhook", "signatures.json"))
	require.NoError(t, err)
	var vs []signatureVector
	require.NoError(t, json.Unmarshal(raw, &vs))
	require.NotEmpty(t, vs)
	for i := range vs {
		vs[i].body, err = os.ReadFile(filepath.Join("testdata", "webhook", vs[i].BodyFile))
		require.NoError(t, err)
		require.Len(t, vs[i].Signatures, 9, "%s: every form", vs[i].BodyFile)
	}
	return vs
}

// otherKey is a key that signs none of the vectors.
const otherKey = "ah_verification_key_02"

func TestSignWebhookMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		assert.Equal(t, v.Signatures["hex"], agenthandler.SignWebhook(v.body, v.Key), "%s under a key of %d bytes", v.BodyFile, len(v.Key))
	}
}

// TestVerifyWebhookSignatureVectors verifies every form of every vector,
// and refuses each under another key, over a tampered body and with no
// key.
func TestVerifyWebhookSignatureVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		tampered := append([]byte(nil), v.body...)
		tampered[len(tampered)/2] ^= 0x01
		for form, sig := range v.Signatures {
			name := v.BodyFile + "/" + form
			assert.NoError(t, agenthandler.VerifyWebhookSignature(v.body, sig, v.Key), name)
			assert.NoError(t, agenthandler.VerifyWebhookSignature(v.body, " "+sig+"\t", v.Key), name+", surrounded by space")
			assert.NoError(t, agenthandler.VerifyWebhookSignature(v.body, sig, otherKey, "", v.Key), name+", the key last of three")
			assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(v.body, sig, otherKey), agenthandler.ErrInvalidSignature, name+", another key")
			assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(v.body, sig, v.Key+"x"), agenthandler.ErrInvalidSignature, name+", the key with a byte more")
			assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(v.body[:len(v.body)-1], sig, v.Key), agenthandler.ErrInvalidSignature, name+", body cut short")
			assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(tampered, sig, v.Key), agenthandler.ErrInvalidSignature, name+", one bit of the body flipped")
			assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(v.body, sig), agenthandler.ErrNoWebhookKey, name+", no key")
			assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(v.body, sig, ""), agenthandler.ErrNoWebhookKey, name+", an empty key")
		}
	}
}

// TestVerifyWebhookSignatureRefusesWeakerForms changes one thing of a
// valid signature per case: each must be refused, so that nothing but the
// exact 32-byte MAC verifies.
func TestVerifyWebhookSignatureRefusesWeakerForms(t *testing.T) {
	t.Parallel()
	var v signatureVector
	for _, c := range loadVectors(t) {
		// a vector whose base64 forms differ in two places between the
		// two alphabets, so that one can be written with both
		std := c.Signatures["base64, unpadded"]
		if strings.Count(std, "+")+strings.Count(std, "/") >= 2 {
			v = c
			break
		}
	}
	require.NotEmpty(t, v.Key, "no vector tells the base64 alphabets apart")
	hexSig := v.Signatures["hex"]
	std := v.Signatures["base64, unpadded"]
	url := v.Signatures["base64url, unpadded"]
	// the last base64 character holds 4 bits of the MAC and 2 unused ones:
	// the next character of the alphabet differs only in the unused bits.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, std[len(std)-1])
	require.Zero(t, last%4, "the last character %q has its unused bits clear", std[len(std)-1])
	sibling := std[:len(std)-1] + alphabet[last+1:last+2]

	for _, tc := range []struct{ name, sig string }{
		{"empty", ""},
		{"space only", "  "},
		{"prefix only", "sha256="},
		{"hex, one character short", hexSig[:63]},
		{"hex, one character more", hexSig + "0"},
		{"hex, a half MAC", hexSig[:32]},
		{"hex, last digit changed", hexSig[:63] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", hexSig[63])+1)%16])},
		{"hex, not hex", "z" + hexSig[1:]},
		{"hex, twice", hexSig + hexSig},
		{"two signatures", hexSig + "," + hexSig},
		{"two signatures with space", "sha256=" + hexSig + " sha256=" + hexSig},
		{"another scheme", "sha1=" + hexSig},
		{"prefix twice", "sha256=sha256=" + hexSig},
		{"base64, two '='", std + "=="},
		{"base64, '=' inside", std[:20] + "=" + std[21:]},
		{"base64, one character short", std[:42]},
		{"base64, unused bits set", sibling},
		{"base64, alphabets mixed", mixAlphabets(std, url)},
		{"base64 of the hex text", base64Of(hexSig)},
		{"base64, newline inside", std[:20] + "\n" + std[20:]},
	} {
		err := agenthandler.VerifyWebhookSignature(v.body, tc.sig, v.Key)
		if strings.TrimSpace(tc.sig) == "" {
			assert.ErrorIs(t, err, agenthandler.ErrNoSignature, tc.name)
			continue
		}
		assert.ErrorIs(t, err, agenthandler.ErrInvalidSignature, "%s: %q", tc.name, tc.sig)
	}
	// The control: the unchanged forms verify.
	for _, sig := range []string{hexSig, std, url, std + "=", "SHA256=" + hexSig} {
		assert.NoError(t, agenthandler.VerifyWebhookSignature(v.body, sig, v.Key), sig)
	}
}

// mixAlphabets returns std with its first '+' or '/' written as base64url
// writes it and the others left standard, so that neither alphabet
// decodes it.
func mixAlphabets(std, url string) string {
	i := strings.IndexAny(std, "+/")
	return std[:i] + url[i:i+1] + std[i+1:]
}

func base64Of(s string) string { return base64Std([]byte(s)) }

// base64Std returns b in padded standard base64.
func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestVerifyWebhookSignatureErrorsNeverShowSecrets(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)[0]
	sig := v.Signatures["hex"]
	for _, err := range []error{
		agenthandler.VerifyWebhookSignature(v.body, sig, otherKey),
		agenthandler.VerifyWebhookSignature(v.body, sig),
		agenthandler.VerifyWebhookSignature(v.body, "", v.Key),
		agenthandler.VerifyWebhookSignature(v.body, sig[:10], v.Key),
	} {
		require.Error(t, err)
		for _, s := range []string{v.Key, otherKey, sig, sig[:10]} {
			assert.NotContains(t, err.Error(), s)
		}
	}
}

// TestSignWebhookMatchesCryptoHMAC covers key lengths on both sides of
// SHA-256's 64-byte block, where HMAC hashes a long key first.
func TestSignWebhookMatchesCryptoHMAC(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("agent-", 50))
	for n := 1; n <= 150; n++ {
		key := strings.Repeat("k", n)
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body[:n])
		sig := agenthandler.SignWebhook(body[:n], key)
		require.Equal(t, hex.EncodeToString(m.Sum(nil)), sig, "key of %d bytes", n)
		require.NoError(t, agenthandler.VerifyWebhookSignature(body[:n], sig, key))
	}
}

func TestWebhookErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	errs := []error{agenthandler.ErrNoSignature, agenthandler.ErrInvalidSignature, agenthandler.ErrNoWebhookKey, agenthandler.ErrNotWebhookPayload}
	for i, a := range errs {
		for j, b := range errs {
			assert.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
		assert.Contains(t, a.Error(), "Agent Handler")
	}
}
