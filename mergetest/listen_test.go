package mergetest

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// Listen serves on the address given, names an unspecified host by
// 127.0.0.1, and fails with an error (no panic) on a bad option or address.
func TestListen(t *testing.T) {
	t.Parallel()
	srv, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL(), "http://"))
	require.NoError(t, err)
	_, err = Listen("127.0.0.1:" + port)
	assert.ErrorContains(t, err, "cannot listen on", "the port is taken")

	any, err := Listen(":0", WithControlAPI())
	require.NoError(t, err)
	defer any.Close()
	assert.True(t, strings.HasPrefix(any.URL(), "http://127.0.0.1:"), any.URL())
	resp, err := http.Get(any.URL() + ControlPath + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(srv.URL() + ControlPath + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no control API without WithControlAPI")

	_, err = Listen("127.0.0.1:0", WithAPIKey(""))
	assert.ErrorContains(t, err, "WithAPIKey")
}

// WithSeed: the same calls give the same ids and tokens.
func TestWithSeed(t *testing.T) {
	t.Parallel()
	link := func(opts ...ServerOption) (LinkedAccount, Issue) {
		srv := NewTestServer(t, opts...)
		c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
		require.NoError(t, err)
		lt, err := c.CreateLinkToken(context.Background(), mergelink.LinkTokenParams{EndUserEmailAddress: "a@b.test",
			EndUserOrganizationName: "Org", EndUserOriginID: "o1", Categories: []mergelink.Category{mergelink.CategoryHRIS}})
		require.NoError(t, err)
		la, err := srv.CompleteLink(lt.LinkToken, "bamboohr")
		require.NoError(t, err)
		is, err := srv.RaiseIssue(la.ID, "Missing Permissions")
		require.NoError(t, err)
		return *la, is
	}
	a, ai := link(WithSeed(7))
	b, bi := link(WithSeed(7))
	assert.Equal(t, []string{a.ID, a.AccountToken, a.PublicToken, ai.ID}, []string{b.ID, b.AccountToken, b.PublicToken, bi.ID})
	c, _ := link(WithSeed(8))
	assert.NotEqual(t, a.ID, c.ID)
	d, _ := link()
	assert.NotEqual(t, a.AccountToken, d.AccountToken)
}
