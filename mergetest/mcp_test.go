package mergetest_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mergelink/mergelink/mergetest"
)

func TestHandleMCP(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	const pack, user = "4f9b2c1e-7d3a-4e5b-9c8d-0a1b2c3d4e5f", "d859c976-ed5f-4326-930a-624dfa50c289"
	path := mergetest.AgentPath + "/tool-packs/" + pack + "/registered-users/" + user + "/mcp/"
	rpc := `{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}`

	a := send(t, srv, http.MethodPost, path, rpc)
	assert.Equal(t, http.StatusNotFound, a.status, "nothing mounted yet")
	assert.Equal(t, "not_found", a.json(t)["error"].(map[string]any)["code"])

	var called atomic.Int32
	srv.HandleMCP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called.Add(1)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.PathValue("tool_pack_id"), r.PathValue("registered_user_id"))
	}))
	for _, p := range []string{path, path[:len(path)-1]} {
		a = send(t, srv, http.MethodPost, p, rpc)
		assert.Equal(t, http.StatusOK, a.status, p)
		assert.Equal(t, "POST "+pack+" "+user, string(a.body), "the handler reads the ids")
	}
	assert.EqualValues(t, 2, called.Load())

	a = send(t, srv, http.MethodPost, path, rpc, "Authorization", "Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, a.status)
	a = send(t, srv, http.MethodPost, path, rpc, "Authorization", "")
	assert.Equal(t, http.StatusUnauthorized, a.status)
	srv.FailNext(1, http.StatusServiceUnavailable, "")
	a = send(t, srv, http.MethodPost, path, rpc)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.EqualValues(t, 2, called.Load(), "the key check and FailNext come before the handler")

	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, path, last.Path, "MCP requests are recorded")
	assert.JSONEq(t, rpc, string(last.Body))

	srv.HandleMCP(nil)
	a = send(t, srv, http.MethodPost, path, rpc)
	assert.Equal(t, http.StatusNotFound, a.status, "unmounted")
}
