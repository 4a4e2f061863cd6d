package agenthandler_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/mergelink/mergelink/agenthandler"
)

// BenchmarkVerify compares agenthandler.VerifyWebhookSignature ("sdk")
// with bare crypto/hmac ("baseline": hmac.New, Write, Sum, hmac.Equal
// against the MAC decoded beforehand) over the same body in the same run,
// for a hex signature (what SignWebhook makes) and a "sha256=" base64 one:
//
//	go test -run '^$' -bench Verify -benchmem -count 5 ./agenthandler
//
// The goal is at most 1.1x the baseline's time at 64 KiB and at most 2
// allocations at 1 KiB, as for the Unified API's verifier. Besides ns/op,
// each reports cpu-ns/op, the process's CPU time per operation, which a
// machine busy with other work disturbs much less.
func BenchmarkVerify(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		body := bytes.Repeat([]byte(`{"k":"v"},`), size.n/10+1)[:size.n]
		sig := agenthandler.SignWebhook(body, webhookKey)
		want, err := hex.DecodeString(sig)
		if err != nil {
			b.Fatal(err)
		}
		b64 := "sha256=" + base64Std(want)
		for _, form := range []struct{ name, sig string }{{"hex", sig}, {"base64", b64}} {
			prefix := "size=" + size.name + "/sig=" + form.name
			b.Run(prefix+"/impl=sdk", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				reportCPU(b)
				for i := 0; i < b.N; i++ {
					if err := agenthandler.VerifyWebhookSignature(body, form.sig, webhookKey); err != nil {
						b.Fatal(err)
					}
				}
			})
			// The baseline's work does not depend on the form: it runs
			// under each so that benchstat pairs every form with it.
			b.Run(prefix+"/impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				reportCPU(b)
				for i := 0; i < b.N; i++ {
					m := hmac.New(sha256.New, []byte(webhookKey))
					m.Write(body)
					if !hmac.Equal(m.Sum(nil), want) {
						b.Fatal("baseline MAC differs")
					}
				}
			})
		}
	}
}
