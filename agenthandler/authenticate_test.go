package agenthandler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

func TestParseAuthenticateResult(t *testing.T) {
	t.Parallel()
	r, err := agenthandler.ParseAuthenticateResult([]byte(`{
		"message": "Open this link to connect Linear.",
		"magic_link_url": "https://ah.merge.dev/link/abc?token=1",
		"link_token": "lt-1",
		"extra": true
	}`))
	require.NoError(t, err)
	assert.Equal(t, &agenthandler.AuthenticateResult{
		Message:      "Open this link to connect Linear.",
		MagicLinkURL: "https://ah.merge.dev/link/abc?token=1",
		LinkToken:    "lt-1",
	}, r)

	for name, tt := range map[string]struct{ in, says string }{
		"not JSON":         {`Open this link`, "not the JSON object"},
		"truncated":        {`{"magic_link_url": "https://a`, "not the JSON object"},
		"an array":         {`["https://ah.merge.dev/link"]`, "not the JSON object"},
		"null":             {`null`, "no magic_link_url"},
		"no magic link":    {`{"message": "hi", "link_token": "lt"}`, "no magic_link_url"},
		"empty magic link": {`{"magic_link_url": ""}`, "no magic_link_url"},
		"wrong type":       {`{"magic_link_url": 42}`, "not the JSON object"},
		"relative link":    {`{"magic_link_url": "/link/abc"}`, "absolute"},
		"javascript link":  {`{"magic_link_url": "javascript:alert(1)"}`, "absolute"},
		"plain http link":  {`{"magic_link_url": "http://ah.merge.dev/link"}`, "https"},
	} {
		r, err := agenthandler.ParseAuthenticateResult([]byte(tt.in))
		assert.Nil(t, r, name)
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), tt.says, name)
		}
	}
}
