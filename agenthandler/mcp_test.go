package agenthandler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// toolPackID is a tool pack id in Merge's form.
const toolPackID = "9b2f4c1e-7d3a-4e8b-a6f0-1c2d3e4f5a6b"

func TestMCPURL(t *testing.T) {
	t.Parallel()
	const tail = "/tool-packs/" + toolPackID + "/registered-users/" + userID + "/mcp/"
	for _, tt := range []struct {
		name string
		opts []mergelink.Option
		want string
	}{
		{"US", nil, "https://ah-api.merge.dev/api/v1" + tail},
		{"EU", []mergelink.Option{mergelink.WithRegion(mergelink.RegionEU)}, "https://ah-api-eu.merge.dev/api/v1" + tail},
		{"base URL", []mergelink.Option{mergelink.WithAgentHandlerBaseURL("http://127.0.0.1:9999/ah/api/v1")}, "http://127.0.0.1:9999/ah/api/v1" + tail},
		{"APAC with a base URL", []mergelink.Option{mergelink.WithRegion(mergelink.RegionAPAC), mergelink.WithAgentHandlerBaseURL("https://ah.example.com/api/v1/")}, "https://ah.example.com/api/v1" + tail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := mergelink.NewClient(testAPIKey, tt.opts...)
			require.NoError(t, err)
			u, err := c.AgentHandler().MCPURL(toolPackID, userID)
			require.NoError(t, err)
			assert.Equal(t, tt.want, u)
			assert.NotContains(t, u, testAPIKey)
		})
	}
}

func TestMCPURLValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, tt := range []struct {
		name, toolPack, user string
		want                 []string
	}{
		{"both empty", "", "", []string{"toolPackID", "registeredUserID"}},
		{"tool pack not a UUID", "tp-1", userID, []string{"toolPackID"}},
		{"user path", toolPackID, "../../connectors", []string{"registeredUserID"}},
		{"swapped forms", userID + "/", toolPackID + "?x", []string{"toolPackID", "registeredUserID"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, err := f.ah.MCPURL(tt.toolPack, tt.user)
			assert.Empty(t, u)
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "MCPURL", ve.Params)
			var fields []string
			for _, p := range ve.Problems {
				fields = append(fields, p.Field)
			}
			assert.ElementsMatch(t, tt.want, fields, "%v", err)
		})
	}
	assert.Zero(t, f.requests(), "MCPURL sends nothing")
}
