package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call's own headers reach the server on every attempt, beside the
// transport's, and cannot replace the API key.
func TestRequestHeader(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		first := len(got) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	tr, logs := newTransport(t, Options{MaxRetries: 1})
	_, err := tr.Do(context.Background(), &Request{
		Method: http.MethodGet, URL: srv.URL + "/x", Path: "/x",
		Header: http.Header{"X-Account-Token": {"tok-HEADER-secret"}, "Authorization": {"Bearer other"}},
	}, nil)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	for _, h := range got {
		assert.Equal(t, "tok-HEADER-secret", h.Get("X-Account-Token"))
		assert.Equal(t, "Bearer "+testKey, h.Get("Authorization"))
	}
	assert.NotContains(t, logs.String(), "tok-HEADER-secret")
}
