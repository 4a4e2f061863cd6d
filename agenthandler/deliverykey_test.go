package agenthandler_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/delivery"
)

// keyStore is a MemoryStore that remembers the keys it was asked for.
type keyStore struct {
	*delivery.MemoryStore
	keys []string
}

func (s *keyStore) Begin(ctx context.Context, key, owner string, lease time.Duration) (delivery.State, error) {
	s.keys = append(s.keys, key)
	return s.MemoryStore.Begin(ctx, key, owner, lease)
}

// fn sees the key the store is given: the hex SHA-256 of the signed body.
func TestWebhookEventDeliveryKey(t *testing.T) {
	t.Parallel()
	mem, err := delivery.NewMemoryStore(delivery.MemoryOptions{})
	require.NoError(t, err)
	store := &keyStore{MemoryStore: mem}
	var got events
	h := newWebhookHandler(t, got.fn, agenthandler.WithDuplicateStore(store))
	require.Equal(t, http.StatusOK, deliverSigned(h, credentialCreated).Code)
	require.Equal(t, 1, got.calls())
	sum := sha256.Sum256([]byte(credentialCreated))
	want := hex.EncodeToString(sum[:])
	assert.Equal(t, want, got.got[0].DeliveryKey())
	assert.Equal(t, []string{want}, store.keys)
	assert.Empty(t, (&agenthandler.WebhookEvent{}).DeliveryKey(), "an event not made by ParseWebhook")
}
