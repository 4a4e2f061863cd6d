package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/internal/testnet"
)

func TestFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			b, _ := io.ReadAll(r.Body)
			io.WriteString(w, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
		case "/moved":
			http.Redirect(w, r, "/page", http.StatusFound)
		default:
			http.Error(w, "no such page", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	hc := srv.Client()
	ctx := context.Background()

	got, err := Fetch(ctx, hc, http.MethodPost, srv.URL+"/page", url.Values{"integration": {"bamboo hr"}})
	require.NoError(t, err)
	assert.Equal(t, "POST application/x-www-form-urlencoded integration=bamboo+hr", got)

	got, err = Fetch(ctx, hc, http.MethodGet, srv.URL+"/moved", nil)
	require.NoError(t, err)
	assert.Equal(t, "GET  ", got, "a redirect is followed, a GET has no form")

	u, _ := url.Parse(srv.URL + "/gone")
	u.User = url.UserPassword("me", "s3cret")
	u.RawQuery = "token=s3cret"
	_, err = Fetch(ctx, hc, http.MethodGet, u.String(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GET ")
	assert.Contains(t, err.Error(), "/gone?***\" answered 404 Not Found: no such page")
	assert.NotContains(t, err.Error(), "s3cret")
}

// A request that gets no answer fails without showing the URL's secrets,
// which net/http's error quotes in full.
func TestFetchTransportErrorHidesSecrets(t *testing.T) {
	addr := testnet.RefusedAddr(t)
	for _, raw := range []string{"http://" + addr + "/x?token=s3cret", "http://me:s3cret@" + addr + "/x", "http://" + addr + "/x?k=s3cret\x7f"} {
		_, err := Fetch(context.Background(), http.DefaultClient, http.MethodGet, raw, nil)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cret")
	}
}
