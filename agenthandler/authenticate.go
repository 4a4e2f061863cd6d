package agenthandler

import (
	"encoding/json"
	"errors"
	"fmt"
)

// AuthenticateResult is the result of an Agent Handler authenticate_* tool
// call (through MCP or a tool call): a message for the user and the magic
// link URL where they authenticate.
type AuthenticateResult struct {
	Message      string `json:"message"`
	MagicLinkURL string `json:"magic_link_url"`
	LinkToken    string `json:"link_token"`
}

// ParseAuthenticateResult decodes an authenticate_* tool result. It fails
// when data is not a JSON object, or its magic_link_url is missing or not
// an absolute https URL, so that an agent never sends the user a bad link.
func ParseAuthenticateResult(data []byte) (*AuthenticateResult, error) {
	var r AuthenticateResult
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("mergelink: authenticate tool result is not the JSON object expected: %w", err)
	}
	if r.MagicLinkURL == "" {
		return nil, errors.New("mergelink: authenticate tool result has no magic_link_url")
	}
	if _, err := parseMagicLinkURL(r.MagicLinkURL); err != nil {
		return nil, fmt.Errorf("mergelink: authenticate tool result: %w", err)
	}
	return &r, nil
}
