package mergelink_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/mergelink/mergelink"
)

// BenchmarkVerify compares VerifyWebhookSignature ("sdk") with bare
// crypto/hmac ("baseline": hmac.New, Write, Sum, hmac.Equal against the
// MAC decoded beforehand) over the same body in the same run:
//
//	go test -run '^$' -bench Verify -benchmem -count 5
//
// The goal is at most 1.1x the baseline's time at 64 KiB and at most 2
// allocations at 1 KiB.
func BenchmarkVerify(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		body := bytes.Repeat([]byte(`{"k":"v"},`), size.n/10+1)[:size.n]
		sig := mergelink.SignWebhook(body, testWebhookKey)
		want, err := base64.RawURLEncoding.DecodeString(sig)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(size.name+"/sdk", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				if err := mergelink.VerifyWebhookSignature(body, sig, testWebhookKey); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/baseline", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				m := hmac.New(sha256.New, []byte(testWebhookKey))
				m.Write(body)
				if !hmac.Equal(m.Sum(nil), want) {
					b.Fatal("baseline MAC differs")
				}
			}
		})
	}
}

// BenchmarkVerifyRotation verifies under two keys, the signing one last,
// as during a key rotation: every key is tried, so it costs two MACs.
func BenchmarkVerifyRotation(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1<<10)
	sig := mergelink.SignWebhook(body, vectorKeyB)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := mergelink.VerifyWebhookSignature(body, sig, vectorKeyA, vectorKeyB); err != nil {
			b.Fatal(err)
		}
	}
}
