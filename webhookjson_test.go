package mergelink_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// A WebhookEvent encodes as Merge sent it, with the account token hidden
// wherever it is in data; the rest of data is kept.
func TestWebhookEventJSONHidesTheAccountToken(t *testing.T) {
	t.Parallel()
	const token = "tok-JSON-LEAKCHECK-7Qx"
	for _, tc := range []struct {
		name, data string
		want       string // data as encoded
	}{
		{"linked", `{"account_token":"` + token + `","is_relink":true}`, `{"account_token":"[hidden]","is_relink":true}`},
		{"token elsewhere too", `{"account_token":"` + token + `","copy":{"t":"` + token + `"}}`, `"[hidden]"`},
		{"no token", `{"is_relink":false,"x":[1,2]}`, `{"is_relink":false,"x":[1,2]}`},
	} {
		ev := parse(t, payload(mergelink.EventLinkedAccountLinked, tc.data))
		for name, v := range map[string]any{
			"value": *ev, "pointer": ev, "slice": []*mergelink.WebhookEvent{ev, ev},
			"map": map[string]*mergelink.WebhookEvent{"a": ev}, "struct": struct{ E mergelink.WebhookEvent }{*ev},
		} {
			data, err := json.Marshal(v)
			require.NoError(t, err, "%s in a %s", tc.name, name)
			assert.NotContains(t, string(data), token, "%s in a %s", tc.name, name)
			assert.Contains(t, string(data), `"linked_account":{"id":"acct-1"`, "%s in a %s", tc.name, name)
		}
		data, err := json.Marshal(ev)
		require.NoError(t, err)
		var back struct {
			Hook map[string]any  `json:"hook"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(data, &back))
		assert.Equal(t, "LinkedAccount.linked", back.Hook["event"], tc.name)
		assert.JSONEq(t, tc.want, string(back.Data), tc.name)
		got, ok := ev.AccountToken()
		if tc.name != "no token" {
			assert.True(t, ok)
			assert.Equal(t, token, got, "AccountToken is how the token is taken out")
		}
	}
	test := parse(t, `{"response": "Success! This URL will be notified."}`)
	data, err := json.Marshal(test)
	require.NoError(t, err)
	assert.JSONEq(t, `{"response": "Success! This URL will be notified."}`, string(data))
}
