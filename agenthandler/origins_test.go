package agenthandler_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

func TestRegisterCallbackOriginNormalises(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, sent string
		status   int
	}{
		{"HTTPS://MyApp.com:443/auth/callback?x=1#f", "https://myapp.com", http.StatusCreated},
		{"https://myapp.com:8443", "https://myapp.com:8443", http.StatusOK},
		{"myapp:///integrations/complete", "myapp://", http.StatusCreated},
		{"myapp://", "myapp://", http.StatusOK},
		{"http://localhost:3000/cb", "http://localhost:3000", http.StatusCreated},
		{"http://[::1]:3000", "http://[::1]:3000", http.StatusCreated},
	} {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "/api/v1/allowed-callback-origins/", r.URL.Path)
				checkHeaders(t, r, true)
				assert.Equal(t, map[string]any{"origin": tt.sent}, jsonBody(t, r))
				writeJSON(w, tt.status, map[string]string{"origin": tt.sent})
			})
			require.NoError(t, f.ah.RegisterCallbackOrigin(context.Background(), tt.in))
			assert.Equal(t, int64(1), f.requests())
		})
	}
}

func TestRegisterCallbackOriginAPIError(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("POST /api/v1/allowed-callback-origins/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, map[string]string{"code": "permission_denied", "detail": "Admin key required"})
	})
	err := f.ah.RegisterCallbackOrigin(context.Background(), "https://myapp.com")
	assert.ErrorIs(t, err, mergelink.ErrForbidden)
	var ae *mergelink.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "permission_denied", ae.Code)
	assert.Equal(t, http.StatusForbidden, ae.StatusCode)
}

// A callback URL or origin with user info is refused without showing the
// password, however the URL is written.
func TestCallbackURLErrorsHideUserInfo(t *testing.T) {
	t.Parallel()
	f := setup(t, mergelink.WithAllowedCallbackOrigins("https://myapp.com"))
	for _, raw := range []string{
		"https://user:hunter2@myapp.com/cb",
		"http://user:hunter2@evil.example/cb",
		"https:/user:hunter2@myapp.com/cb",
		"javascript://user:hunter2@x",
	} {
		_, err := agenthandler.OriginOf(raw)
		errs := []error{err, f.ah.RegisterCallbackOrigin(context.Background(), raw)}
		_, err = f.ah.CreateLinkToken(context.Background(), userID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: raw, State: "s"})
		errs = append(errs, err)
		for _, err := range errs {
			require.Error(t, err, raw)
			assert.NotContains(t, err.Error(), "hunter2", raw)
			assert.Contains(t, err.Error(), "***@", raw)
		}
	}
	assert.Zero(t, f.requests())
}
