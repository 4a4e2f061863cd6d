package mergelink_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// Known vectors, computed once on the development machine with OpenSSL,
// independently of the code under test:
//
//	printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$KEY" -binary | basenc --base64url
//
// basenc pads its output; Merge's signatures are compared without padding.
// Both were chosen so that their base64url form holds a '-' or '_', which
// standard base64 writes differently.
const (
	vectorKeyA = "whsec_vector_key_A1"
	vectorKeyB = "whsec_vector_key_B2"

	vectorLinkedBody  = `{"hook":{"id":"e8affe31-8ae0-4b37-8c50-d86303094dc4","event":"LinkedAccount.linked","target":"https://example.com/hooks/merge"},"linked_account":{"id":"4ac10f37-c656-4e9a-89a1-1b04f9e9a343","integration":"Greenhouse","integration_slug":"greenhouse","category":"ats","end_user_origin_id":"12345678910","end_user_organization_name":"Example Organization","end_user_email_address":"jane@example.com","status":"COMPLETE","webhook_listener_url":"https://api.merge.dev/api/integrations/webhook-listener/abcd1234defg5678","is_duplicate":false,"account_type":"PRODUCTION"},"data":{"account_token":"tok-VECTOR-9f3c2a","is_relink":false}}`
	vectorLinkedToken = "tok-VECTOR-9f3c2a"
	// openssl ... -hmac whsec_vector_key_A1 | basenc --base64url
	vectorLinkedSigA = "kfttx7nieSwK2uPo_5HNZzlLPsxHo4Ahpnyy2yhg8BY="
	// the same MAC through basenc --base64 and openssl dgst -hex
	vectorLinkedSigAStd = "kfttx7nieSwK2uPo/5HNZzlLPsxHo4Ahpnyy2yhg8BY="
	vectorLinkedSigAHex = "91fb6dc7b9e2792c0adae3e8ff91cd67394b3ecc47a38021a67cb2db2860f016"

	vectorHelloBody = "hello merge"
	// openssl ... -hmac whsec_vector_key_A1 | basenc --base64url (and --base64)
	vectorHelloSigA    = "KD3kPFTPdxMpek-kNlKovM5WcTGbGtIZ1kMNP8n0pys="
	vectorHelloSigAStd = "KD3kPFTPdxMpek+kNlKovM5WcTGbGtIZ1kMNP8n0pys="
	// openssl ... -hmac whsec_vector_key_B2 | basenc --base64url
	vectorHelloSigB = "1BqfvS4DkdGJmAtVRT0mpzOs5M-4I3PN0p-28UGEB0Q="
)

func TestSignWebhookMatchesKnownVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, key, sig string }{
		{vectorLinkedBody, vectorKeyA, vectorLinkedSigA},
		{vectorHelloBody, vectorKeyA, vectorHelloSigA},
		{vectorHelloBody, vectorKeyB, vectorHelloSigB},
	} {
		got := mergelink.SignWebhook([]byte(tc.body), tc.key)
		assert.Equal(t, strings.TrimRight(tc.sig, "="), got, "SignWebhook sends base64url without padding")
	}
}

// referenceSignature is the signature computed with crypto/hmac, which
// SignWebhook does not use.
func referenceSignature(payload []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestSignWebhookMatchesCryptoHMAC covers key lengths on both sides of
// SHA-256's 64-byte block, where HMAC hashes a long key first.
func TestSignWebhookMatchesCryptoHMAC(t *testing.T) {
	t.Parallel()
	payload := []byte(strings.Repeat("payload-", 40))
	for n := 0; n <= 200; n++ {
		key := strings.Repeat("k", n)
		for _, body := range [][]byte{nil, payload[:n], payload} {
			sig := mergelink.SignWebhook(body, key)
			require.Equal(t, referenceSignature(body, key), sig, "key of %d bytes, body of %d", n, len(body))
			if n > 0 {
				require.NoError(t, mergelink.VerifyWebhookSignature(body, sig, key))
			}
		}
	}
}

func TestVerifyWebhookSignatureKnownVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, sig string
	}{
		{"padded", vectorLinkedBody, vectorLinkedSigA},
		{"unpadded", vectorLinkedBody, strings.TrimRight(vectorLinkedSigA, "=")},
		{"hello padded", vectorHelloBody, vectorHelloSigA},
		{"hello unpadded", vectorHelloBody, strings.TrimRight(vectorHelloSigA, "=")},
		{"surrounding space", vectorHelloBody, " " + vectorHelloSigA + " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.NoError(t, mergelink.VerifyWebhookSignature([]byte(tc.body), tc.sig, vectorKeyA))
		})
	}
}

func TestVerifyWebhookSignatureRefuses(t *testing.T) {
	t.Parallel()
	body := []byte(vectorLinkedBody)
	sig := strings.TrimRight(vectorLinkedSigA, "=")
	tampered := []byte(strings.Replace(vectorLinkedBody, "tok-VECTOR", "tok-VECTOS", 1))
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		keys []string
		want error
	}{
		{"no key", body, sig, nil, mergelink.ErrNoWebhookKey},
		{"only empty keys", body, sig, []string{"", ""}, mergelink.ErrNoWebhookKey},
		{"no signature", body, "", []string{vectorKeyA}, mergelink.ErrNoSignature},
		{"only padding", body, "==", []string{vectorKeyA}, mergelink.ErrNoSignature},
		{"standard base64", body, vectorLinkedSigAStd, []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"standard base64 unpadded", body, strings.TrimRight(vectorLinkedSigAStd, "="), []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"standard base64 hello", []byte(vectorHelloBody), vectorHelloSigAStd, []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"hex", body, vectorLinkedSigAHex, []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"tampered body", tampered, sig, []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"body with a trailing newline", append(append([]byte{}, body...), '\n'), sig, []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"wrong key", body, sig, []string{vectorKeyB}, mergelink.ErrInvalidSignature},
		{"key with a different case", body, sig, []string{strings.ToUpper(vectorKeyA)}, mergelink.ErrInvalidSignature},
		{"truncated", body, sig[:len(sig)-1], []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"one character more", body, sig + "A", []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"line break inside", body, sig[:20] + "\n" + sig[21:], []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"another body's signature", body, vectorHelloSigA, []string{vectorKeyA}, mergelink.ErrInvalidSignature},
		{"raw MAC bytes", body, string(vectorLinkedMAC(t)), []string{vectorKeyA}, mergelink.ErrInvalidSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := mergelink.VerifyWebhookSignature(tc.body, tc.sig, tc.keys...)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// Flipping any one character of the signature must break it, including
// the last one, whose low bits base64 does not use: a lenient decoder
// would accept several strings for one MAC.
func TestVerifyWebhookSignatureTamperedSignature(t *testing.T) {
	t.Parallel()
	body := []byte(vectorHelloBody)
	sig := strings.TrimRight(vectorHelloSigA, "=")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range sig {
		for _, c := range alphabet {
			if byte(c) == sig[i] {
				continue
			}
			bad := sig[:i] + string(c) + sig[i+1:]
			if err := mergelink.VerifyWebhookSignature(body, bad, vectorKeyA); err == nil {
				t.Fatalf("signature with character %d changed to %q verified", i, c)
			}
		}
	}
	require.NoError(t, mergelink.VerifyWebhookSignature(body, sig, vectorKeyA), "the untouched signature still verifies")
}

func TestVerifyWebhookSignatureKeyRotation(t *testing.T) {
	t.Parallel()
	body := []byte(vectorHelloBody)
	for _, tc := range []struct {
		name string
		sig  string
		keys []string
	}{
		{"old key signs, old listed first", vectorHelloSigA, []string{vectorKeyA, vectorKeyB}},
		{"old key signs, old listed last", vectorHelloSigA, []string{vectorKeyB, vectorKeyA}},
		{"new key signs, new listed last", vectorHelloSigB, []string{vectorKeyA, vectorKeyB}},
		{"new key signs, new listed first", vectorHelloSigB, []string{vectorKeyB, vectorKeyA}},
		{"an empty key beside the right one", vectorHelloSigB, []string{"", vectorKeyB}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.NoError(t, mergelink.VerifyWebhookSignature(body, tc.sig, tc.keys...))
		})
	}
	// After the rotation, the old key's signatures stop verifying.
	assert.ErrorIs(t, mergelink.VerifyWebhookSignature(body, vectorHelloSigA, vectorKeyB), mergelink.ErrInvalidSignature)
}

// Many keys in turn (more than the SDK keeps MACs for) and many goroutines
// at once must all verify right: the reuse of MACs never mixes keys.
func TestVerifyWebhookSignatureManyKeysConcurrently(t *testing.T) {
	t.Parallel()
	const goroutines, keys = 8, 100
	errs := make(chan error, goroutines)
	for g := range goroutines {
		go func() {
			for i := range keys {
				key := "key-" + strings.Repeat("k", (i+g)%keys)
				body := []byte("body " + key)
				if err := mergelink.VerifyWebhookSignature(body, mergelink.SignWebhook(body, key), key); err != nil {
					errs <- err
					return
				}
				if err := mergelink.VerifyWebhookSignature(body, mergelink.SignWebhook(body, key+"x"), key); err == nil {
					errs <- assert.AnError
					return
				}
			}
			errs <- nil
		}()
	}
	for range goroutines {
		require.NoError(t, <-errs)
	}
}

func TestWebhookErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	body := []byte(vectorHelloBody)
	for _, err := range []error{
		mergelink.VerifyWebhookSignature(body, vectorHelloSigB, vectorKeyA),
		mergelink.VerifyWebhookSignature(body, "", vectorKeyA),
		mergelink.VerifyWebhookSignature(body, vectorHelloSigA),
	} {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), vectorKeyA)
		assert.NotContains(t, err.Error(), strings.TrimRight(vectorHelloSigB, "="))
	}
}

// vectorLinkedMAC returns the linked vector's MAC as raw bytes, checking
// that its base64url and hex forms agree.
func vectorLinkedMAC(t *testing.T) []byte {
	t.Helper()
	b, err := base64.URLEncoding.DecodeString(vectorLinkedSigA)
	require.NoError(t, err)
	require.Equal(t, vectorLinkedSigAHex, hex.EncodeToString(b), "the vector's hex and base64url forms are the same MAC")
	return b
}
