package agentmcp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agentmcp"
)

// TestConnectFails checks that each way Connect can fail gives the typed
// error it documents, and sends nothing when the input is wrong.
func TestConnectFails(t *testing.T) {
	t.Parallel()
	f := setup(t)
	wrongKey, err := mergelink.NewClient("sk-wrong-AGENTMCP-LEAKCHECK", f.srv.ClientOptions()...)
	require.NoError(t, err)
	apac, err := mergelink.NewClient(testAPIKey, mergelink.WithRegion(mergelink.RegionAPAC))
	require.NoError(t, err)
	apacWithBase, err := mergelink.NewClient(testAPIKey, append(f.srv.ClientOptions(), mergelink.WithRegion(mergelink.RegionAPAC))...)
	require.NoError(t, err)

	for _, tc := range []struct {
		name     string
		c        *mergelink.Client
		pack     string
		user     string
		check    func(t *testing.T, err error)
		sentNone bool
	}{
		{name: "wrong key", c: wrongKey, pack: f.pack.ID(), user: f.userID, check: func(t *testing.T, err error) {
			var apiErr *mergelink.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
			assert.Equal(t, "invalid_api_key", apiErr.Code)
			assert.ErrorIs(t, err, mergelink.ErrUnauthorized)
			assert.Contains(t, apiErr.Path, "/mcp/")
		}},
		{name: "APAC without a base URL", c: apac, pack: f.pack.ID(), user: f.userID, sentNone: true, check: func(t *testing.T, err error) {
			assert.ErrorIs(t, err, mergelink.ErrNoAgentHandlerHost)
		}},
		{name: "tool pack id not a UUID", c: f.c, pack: "pack-1", user: f.userID, sentNone: true, check: func(t *testing.T, err error) {
			var verr *mergelink.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.True(t, verr.Has("toolPackID"), "%v", err)
		}},
		{name: "user id empty", c: f.c, pack: f.pack.ID(), user: "", sentNone: true, check: func(t *testing.T, err error) {
			var verr *mergelink.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.True(t, verr.Has("registeredUserID"), "%v", err)
		}},
		{name: "unknown user", c: f.c, pack: f.pack.ID(), user: "9b6a2a8e-0000-4000-8000-000000000000", check: func(t *testing.T, err error) {
			assert.ErrorIs(t, err, mergelink.ErrNotFound)
		}},
		{name: "unknown tool pack", c: f.c, pack: "9b6a2a8e-0000-4000-8000-000000000001", user: f.userID, check: func(t *testing.T, err error) {
			var apiErr *mergelink.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "tool_pack_not_found", apiErr.Code)
		}},
		{name: "nil client", c: nil, pack: f.pack.ID(), user: f.userID, sentNone: true, check: func(t *testing.T, err error) {
			assert.ErrorContains(t, err, "mergelink.NewClient")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.srv.Requests())
			s, err := agentmcp.Connect(context.Background(), tc.c, tc.pack, tc.user)
			require.Error(t, err)
			assert.Nil(t, s)
			tc.check(t, err)
			assert.NotContains(t, err.Error(), testAPIKey)
			if tc.sentNone {
				assert.Len(t, f.srv.Requests(), before, "nothing is sent")
			}
		})
	}
	// APAC with a base URL works.
	s, err := agentmcp.Connect(context.Background(), apacWithBase, f.pack.ID(), f.userID)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// TestFailureAfterConnect checks that an HTTP failure of a later call is
// a *mergelink.APIError too, and leaves the session usable.
func TestFailureAfterConnect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		kind   error
	}{
		{http.StatusTooManyRequests, mergelink.ErrRateLimited},
		{http.StatusInternalServerError, mergelink.ErrServer},
		{http.StatusForbidden, mergelink.ErrForbidden},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			s := f.connect(t)
			f.srv.FailNext(1, tc.status, "7")
			_, err := s.Tools(context.Background())
			var apiErr *mergelink.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.ErrorIs(t, err, tc.kind)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, "7s", apiErr.RetryAfter.String())
			tools, err := s.Tools(context.Background())
			require.NoError(t, err, "the session is usable after a %d", tc.status)
			assert.NotEmpty(t, tools)
		})
	}
}

// TestKeyNeverShows checks that the API key is on every MCP request and
// in no log line, error or printed value.
func TestKeyNeverShows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := f.connect(t)
	ctx := context.Background()
	res, err := s.Call(ctx, "linear_create_issue", map[string]any{"title": "t"})
	require.NoError(t, err)
	f.complete(t, res)
	ok, err := s.Call(ctx, "linear_create_issue", map[string]any{"title": "t"})
	require.NoError(t, err)
	f.srv.FailNext(1, http.StatusInternalServerError, "")
	_, callErr := s.Call(ctx, "linear_create_issue", map[string]any{"title": "t"})
	require.Error(t, callErr)

	wrongKey, err := mergelink.NewClient("sk-wrong-AGENTMCP-LEAKCHECK", f.srv.ClientOptions()...)
	require.NoError(t, err)
	_, wrongErr := agentmcp.Connect(ctx, wrongKey, f.pack.ID(), f.userID, agentmcp.WithLogger(f.logger()))
	require.Error(t, wrongErr)

	mcp := f.mcpRequests()
	require.NotEmpty(t, mcp)
	for _, r := range mcp {
		if auth := r.Header.Get("Authorization"); auth != "Bearer sk-wrong-AGENTMCP-LEAKCHECK" {
			assert.True(t, auth == "Bearer "+testAPIKey, "a request without the key: %v", r)
		}
		assert.Contains(t, r.Header.Get("User-Agent"), "mergelink-go/")
	}

	logs := f.logs.String()
	assert.Contains(t, logs, "agentmcp: request", "the session logged its requests")
	var printed []string
	for _, v := range []any{s, res, ok, callErr, wrongErr} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
			printed = append(printed, fmt.Sprintf(verb, v))
		}
	}
	for _, text := range append(printed, logs, callErr.Error(), wrongErr.Error()) {
		for _, secret := range []string{testAPIKey, "sk-wrong-AGENTMCP-LEAKCHECK", hexOf(testAPIKey)} {
			if strings.Contains(text, secret) {
				t.Errorf("the key shows in %.300q", text)
			}
		}
	}
	var apiErr *mergelink.APIError
	require.True(t, errors.As(callErr, &apiErr))
	assert.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
}

func hexOf(s string) string { return fmt.Sprintf("%x", s) }

// countingTransport counts the requests it passes on.
type countingTransport struct {
	n    atomic.Int32
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// TestWithHTTPClientAndClose checks that requests go through the caller's
// client, which is left unchanged, and that a closed session refuses calls.
func TestWithHTTPClientAndClose(t *testing.T) {
	t.Parallel()
	f := setup(t)
	rt := &countingTransport{base: http.DefaultTransport}
	hc := &http.Client{Transport: rt}
	s, err := agentmcp.Connect(context.Background(), f.c, f.pack.ID(), f.userID, agentmcp.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = s.Tools(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int(rt.n.Load()), len(f.mcpRequests()), "every MCP request went through the caller's client")
	assert.Same(t, rt, hc.Transport, "the caller's client is not changed")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	_, err = s.Call(context.Background(), "linear_create_issue", nil)
	assert.ErrorIs(t, err, agentmcp.ErrClosed)
	_, err = s.Tools(context.Background())
	assert.NoError(t, err, "Tools returns the listing it has")
	s.Invalidate()
	_, err = s.Tools(context.Background())
	assert.ErrorIs(t, err, agentmcp.ErrClosed)
}
