//go:build !race

// The race detector makes sync.Pool drop items at random, so allocations
// are only counted without it.

package agenthandler_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// Verification of a 1 KiB body stays within the budget of 2 allocations
// (hmac.New alone costs 7), in hex and in "sha256=" base64.
func TestVerifyWebhookSignatureAllocations(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1<<10)
	sig := agenthandler.SignWebhook(body, webhookKey)
	mac, err := hex.DecodeString(sig)
	require.NoError(t, err)
	for _, s := range []string{sig, "sha256=" + base64Std(mac)} {
		allocs := testing.AllocsPerRun(200, func() {
			if err := agenthandler.VerifyWebhookSignature(body, s, webhookKey); err != nil {
				t.Fatal(err)
			}
		})
		assert.LessOrEqual(t, allocs, 2.0, s)
	}
}
