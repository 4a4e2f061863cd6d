package agenthandler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// A magic link is one a user may be sent to only on a Merge host of the
// client's region, or on a host the caller adds: a link elsewhere would
// take the user, and the callback's state, off Merge.
func TestCheckMagicLinkURL(t *testing.T) {
	t.Parallel()
	us, err := mergelink.NewClient("k")
	require.NoError(t, err)
	eu, err := mergelink.NewClient("k", mergelink.WithRegion(mergelink.RegionEU))
	require.NoError(t, err)
	local, err := mergelink.NewClient("k", mergelink.WithAgentHandlerBaseURL("http://127.0.0.1:8123/api/v1"))
	require.NoError(t, err)
	apac, err := mergelink.NewClient("k", mergelink.WithRegion(mergelink.RegionAPAC))
	require.NoError(t, err)

	hosts, err := us.AgentHandler().MagicLinkHosts()
	require.NoError(t, err)
	assert.Equal(t, []string{"ah-api.merge.dev"}, hosts, "the host of Merge's documented magic links, and no guessed one")
	_, err = apac.AgentHandler().MagicLinkHosts()
	assert.ErrorIs(t, err, mergelink.ErrNoAgentHandlerHost)

	for _, tc := range []struct {
		c     *mergelink.Client
		link  string
		extra []string
		ok    bool
	}{
		{us, "https://ah-api.merge.dev/magic-link/abc?t=1", nil, true}, // as Merge's docs show it
		{us, "https://AH-API.merge.dev/magic-link/abc", nil, true},
		{us, "https://link.merge.dev/magic-link/abc", nil, false}, // Merge documents no such host
		{us, "https://link.merge.dev/magic-link/abc", []string{"link.merge.dev"}, true},
		{eu, "https://ah-api-eu.merge.dev/magic-link/abc", nil, true},
		{eu, "https://ah-api.merge.dev/link/abc", nil, false}, // another region's
		{local, "http://127.0.0.1:8123/agent-link/abc", nil, true},
		{local, "http://127.0.0.1:9999/agent-link/abc", nil, false},
		{us, "https://links.partner.example/abc", []string{"links.partner.example"}, true},
		{us, "https://links.partner.example/abc", nil, false},
		{us, "https://evil.example/link", nil, false},
		{us, "https://ah-api.merge.dev.evil.example/link", nil, false},
		{us, "https://ah-api.merge.dev@evil.example/link", nil, false},
		{us, "https://evil.example@ah-api.merge.dev/link", nil, false}, // user info: never in Merge's links
		{us, "http://ah-api.merge.dev/link", nil, false},
		{us, "/link/abc", nil, false},
		{apac, "https://ah-api.merge.dev/link", nil, false},
	} {
		err := tc.c.AgentHandler().CheckMagicLinkURL(tc.link, tc.extra...)
		assert.Equal(t, tc.ok, err == nil, "%s %v: %v", tc.link, tc.extra, err)
		if err != nil {
			assert.NotContains(t, err.Error(), "abc", "the link, which carries a token, is not shown")
		}
	}
}
