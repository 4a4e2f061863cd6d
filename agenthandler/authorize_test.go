package agenthandler_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, tc := range []struct {
		name, url string
		ok        bool
	}{
		{"the MCP endpoint", f.url + "/base/api/v1/tool-packs/x/registered-users/y/mcp/", true},
		{"same host, another path", f.url + "/elsewhere", true},
		{"another host", "https://evil.example/base/api/v1/", false},
		{"another port", "http://127.0.0.1:1/base/api/v1/", false},
		{"another scheme", "https" + f.url[len("http"):] + "/base/api/v1/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tc.url, nil)
			require.NoError(t, err)
			err = f.ah.Authorize(req)
			if !tc.ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "refusing to send the API key")
				assert.Empty(t, req.Header, "a refused request is left unchanged")
				assert.NotContains(t, err.Error(), testAPIKey)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Bearer "+testAPIKey, req.Header.Get("Authorization"))
			assert.Contains(t, req.Header.Get("User-Agent"), "mergelink-go/")
		})
	}
}

func TestAuthorizeFails(t *testing.T) {
	t.Parallel()
	apac, err := mergelink.NewClient(testAPIKey, mergelink.WithRegion(mergelink.RegionAPAC))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "https://ah-api.merge.dev/api/v1/", nil)
	require.NoError(t, err)
	assert.ErrorIs(t, apac.AgentHandler().Authorize(req), mergelink.ErrNoAgentHandlerHost)
	assert.Empty(t, req.Header)

	us, err := mergelink.NewClient(testAPIKey)
	require.NoError(t, err)
	require.NoError(t, us.AgentHandler().Authorize(req), "the US host")
	assert.Error(t, us.AgentHandler().Authorize(&http.Request{}), "no URL")
	assert.Error(t, new(agenthandler.Client).Authorize(req), "a Client not made by AgentHandler")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", us.AgentHandler(), us.AgentHandler(), us.AgentHandler()), testAPIKey)
}
