package mergetest

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
