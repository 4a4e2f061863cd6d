//go:build !race

// The race detector makes sync.Pool drop items at random, so allocations
// are only counted without it.

package mergelink_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mergelink/mergelink"
)

// Verification of a 1 KiB body stays within the budget of 2 allocations
// (hmac.New alone costs 7).
func TestVerifyWebhookSignatureAllocations(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1<<10)
	sig := mergelink.SignWebhook(body, testWebhookKey)
	allocs := testing.AllocsPerRun(200, func() {
		if err := mergelink.VerifyWebhookSignature(body, sig, testWebhookKey); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 2.0)
}
