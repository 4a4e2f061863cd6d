package mergelink_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
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
		b.Run("size="+size.name+"/impl=sdk", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				if err := mergelink.VerifyWebhookSignature(body, sig, testWebhookKey); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("size="+size.name+"/impl=baseline", func(b *testing.B) {
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

// linkedPayload4KiB returns a LinkedAccount.linked body of about 4 KiB: the
// documented hook, linked_account and data fields, and in data the link's
// common-model scopes, as a payload may carry more than the SDK reads.
func linkedPayload4KiB() []byte {
	var scopes []string
	for i := 0; ; i++ {
		data := fmt.Sprintf(`{"account_token":"tok-bench-4KiB-0123456789","is_relink":false,"common_models":[%s]}`, strings.Join(scopes, ","))
		body := payload(mergelink.EventLinkedAccountLinked, data)
		if len(body) >= 4<<10-100 {
			return []byte(body)
		}
		scopes = append(scopes, fmt.Sprintf(`{"model_id":"hris.Model%02d","enabled_actions":["READ","WRITE"],"disabled_fields":["ssn","date_of_birth"],"is_enabled":true}`, i))
	}
}

// BenchmarkParseWebhook compares ParseWebhook ("sdk") of a 4 KiB
// LinkedAccount.linked payload with verifying the same bytes and decoding
// them into a map[string]any ("baseline"), what a hand-written receiver
// does:
//
//	go test -run '^$' -bench ParseWebhook -benchmem -count 5
//
// The goal is the SDK faster than the baseline.
func BenchmarkParseWebhook(b *testing.B) {
	body := linkedPayload4KiB()
	sig := mergelink.SignWebhook(body, testWebhookKey)
	b.Run("impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			ev, err := mergelink.ParseWebhook(body, sig, testWebhookKey)
			if err != nil {
				b.Fatal(err)
			}
			if token, _ := ev.AccountToken(); token != "tok-bench-4KiB-0123456789" {
				b.Fatalf("account token %q", token)
			}
		}
	})
	b.Run("impl=baseline", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if err := mergelink.VerifyWebhookSignature(body, sig, testWebhookKey); err != nil {
				b.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
			if token := m["data"].(map[string]any)["account_token"]; token != "tok-bench-4KiB-0123456789" {
				b.Fatalf("account token %v", token)
			}
		}
	})
}
