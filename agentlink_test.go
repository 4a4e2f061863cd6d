package mergelink_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// CreateAgentLinkToken is the Agent Handler link token call, on the Agent
// Handler base URL, with the client's allowed origins.
func TestCreateAgentLinkToken(t *testing.T) {
	t.Parallel()
	const id = "41f11808-5387-4be5-9af2-852a372d61e3"
	c, mux := setup(t, mergelink.WithAllowedCallbackOrigins("myapp://"))
	calls := 0
	mux.HandleFunc("/ah/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		calls++
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/ah/api/v1/registered-users/"+id+"/link-token/", r.URL.Path)
		assert.Equal(t, "Bearer "+testAPIKey, r.Header.Get("Authorization"))
		assert.Empty(t, r.Header.Get("Idempotency-Key"))
		var body map[string]any
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		assert.Equal(t, map[string]any{"connector": "linear", "callback_url": "myapp:///integrations/complete", "state": "st-1"}, body)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"link_token":"lt-9","magic_link_url":"https://ah.merge.dev/link/lt-9"}`))
	})
	lt, err := c.CreateAgentLinkToken(context.Background(), id, agenthandler.LinkTokenParams{
		Connector: "linear", CallbackURL: "myapp:///integrations/complete", State: "st-1"})
	require.NoError(t, err)
	assert.Equal(t, &agenthandler.LinkToken{LinkToken: "lt-9", MagicLinkURL: "https://ah.merge.dev/link/lt-9"}, lt)

	_, err = c.CreateAgentLinkToken(context.Background(), id, agenthandler.LinkTokenParams{
		Connector: "linear", CallbackURL: "https://myapp.com/cb"})
	var ve *mergelink.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("CallbackURL"))
	assert.Equal(t, 1, calls, "the refused call sent nothing")
}
