package transport

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A transport error names the call by Path, never by a URL that may hold a
// secret, in the returned error and in the retry log alike.
func TestTransportErrorHidesURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // every attempt now fails to connect

	var logs bytes.Buffer
	tr := New(Options{
		APIKey:       "k",
		MaxRetries:   1,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	_, err := tr.Do(context.Background(), &Request{
		Method: http.MethodGet,
		URL:    url + "/hris/v1/account-token/SECRET-public-token",
		Path:   "/hris/v1/account-token/{public_token}",
	}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Contains(t, err.Error(), "{public_token}")
	require.Contains(t, logs.String(), "retrying", "the failed attempt was logged")
	assert.NotContains(t, logs.String(), "SECRET")
}
