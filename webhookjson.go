package mergelink

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON encodes the event as Merge sent it (hook, linked_account,
// data), with "[hidden]" in place of the account token, so that a log line
// (slog's JSON handler marshals slices, maps and structs with
// encoding/json, which never calls LogValue), an HTTP answer or a queue
// message that holds the event never shows the token. Take the token out
// on purpose with AccountToken.
func (ev WebhookEvent) MarshalJSON() ([]byte, error) {
	if ev.test {
		return json.Marshal(struct {
			Response string `json:"response"`
		}{testPayloadText})
	}
	return json.Marshal(struct {
		Hook          WebhookHook          `json:"hook"`
		LinkedAccount WebhookLinkedAccount `json:"linked_account"`
		Data          json.RawMessage      `json:"data,omitempty"`
	}{ev.Hook, ev.LinkedAccount, maskData(ev.Data, ev.accountToken)})
}

// hiddenJSON is the JSON string that stands in for a secret.
var hiddenJSON = json.RawMessage(`"` + hidden + `"`)

// maskData returns data with its account_token member hidden. Data that
// still holds token after that (somewhere else, or data that is not an
// object) is hidden whole.
func maskData(data json.RawMessage, token string) json.RawMessage {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) == nil && members != nil {
		if _, ok := members["account_token"]; ok {
			members["account_token"] = hiddenJSON
			if masked, err := json.Marshal(members); err == nil {
				data = masked
			} else {
				return hiddenJSON
			}
		}
	}
	if token != "" && bytes.Contains(data, []byte(token)) {
		return hiddenJSON
	}
	return data
}
