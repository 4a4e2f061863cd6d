package accountstore

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

const token = "abcdEFGHijklMNOPqrstUVWX"

// event returns a verified webhook event with the given JSON body.
func event(t *testing.T, body string) *mergelink.WebhookEvent {
	t.Helper()
	ev, err := mergelink.ParseWebhook([]byte(body), mergelink.SignWebhook([]byte(body), "k"), "k")
	require.NoError(t, err)
	return ev
}

func linked(id, origin, tok string) string {
	return fmt.Sprintf(`{"hook": {"event": "LinkedAccount.linked"}, "linked_account": {"id": %q, "end_user_origin_id": %q, "integration": "Greenhouse"}, "data": {"account_token": %q}}`, id, origin, tok)
}

func TestMask(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "abcd…", Mask(token))
	assert.Equal(t, "…", Mask("short-token"), "a short secret shows nothing")
	assert.Equal(t, "…", Mask(""))
}

func TestAccountHidesToken(t *testing.T) {
	t.Parallel()
	a := Account{ID: "la-1", EndUserOriginID: "u-1", Integration: "Greenhouse", AccountToken: token}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out := fmt.Sprintf(verb, a)
		assert.NotContains(t, out, token, verb)
		assert.Contains(t, out, "abcd…", verb)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("stored", "account", a)
	assert.NotContains(t, logs.String(), token)
	assert.Contains(t, logs.String(), `"account_token":"abcd…"`)
	assert.Contains(t, logs.String(), `"linked_account_id":"la-1"`)
}

func TestStore(t *testing.T) {
	t.Parallel()
	var s Store
	_, ok := s.ByOrigin("u-1")
	assert.False(t, ok, "the zero Store is empty")

	a, ok := s.Save(event(t, linked("la-1", "u-1", token)))
	require.True(t, ok)
	assert.Equal(t, Account{ID: "la-1", EndUserOriginID: "u-1", Integration: "Greenhouse", AccountToken: token}, a)
	got, ok := s.ByID("la-1")
	assert.True(t, ok)
	assert.Equal(t, a, got)
	got, ok = s.ByOrigin("u-1")
	assert.True(t, ok)
	assert.Equal(t, a, got)

	// An event without an account token changes nothing.
	_, ok = s.Save(event(t, `{"hook": {"event": "LinkedAccount.sync_completed"}, "linked_account": {"id": "la-1", "end_user_origin_id": "u-1"}, "data": {}}`))
	assert.False(t, ok)
	got, _ = s.ByID("la-1")
	assert.Equal(t, token, got.AccountToken)

	// The end user linked a new account: their origin id now finds it.
	b, ok := s.Save(event(t, linked("la-2", "u-1", "zyxwVUTSrqpoNMLKjihg")))
	require.True(t, ok)
	got, _ = s.ByOrigin("u-1")
	assert.Equal(t, b, got)
	_, ok = s.ByOrigin("u-2")
	assert.False(t, ok)
}
