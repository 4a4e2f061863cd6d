package transport

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/internal/testnet"
	"github.com/mergelink/mergelink/internal/validate"
)

// A transport error names the call by Path, never by a URL that may hold a
// secret, in the returned error and in the retry log alike.
func TestTransportErrorHidesURL(t *testing.T) {
	t.Parallel()
	url := "http://" + testnet.RefusedAddr(t) // every attempt fails to connect

	var logs bytes.Buffer
	tr := New(Options{
		APIKey:       "k",
		MaxRetries:   1,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: time.Millisecond,
		LogRetry:     SlogRetries(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
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

// A redirect's Location shows as every URL the module shows, by the one
// rule that validate.QuoteURL quotes: user info, query and fragment
// masked, the rest kept.
func TestRedirectLocationFollowsTheOneRule(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{
		"https://user:TOKEN@other.example/x",
		"https://other.example/x?token=TOKEN",
		"https://other.example/x#TOKEN",
		"http://u:TOKEN@[bad/x?TOKEN",
	} {
		resp := &http.Response{StatusCode: http.StatusFound, Header: http.Header{heldLocation: {loc}}}
		e := newAPIError(http.MethodGet, "/p", resp, nil, false, 1, time.Now())
		assert.Equal(t, validate.QuoteURL(loc), strconv.Quote(e.Location), loc)
		assert.NotContains(t, e.Error(), "TOKEN", loc)
	}
}
