package agenthandler_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeleteCredential(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]func(w http.ResponseWriter){
		"200 empty":     func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
		"200 with JSON": func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"}) },
		"204":           func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodDelete, r.Method)
				assert.Equal(t, "/api/v1/credentials/registered-users/"+userID+"/connectors/google-drive/", r.URL.Path)
				assert.Empty(t, r.URL.RawQuery)
				checkNoBody(t, r)
				answer(w)
			})
			require.NoError(t, f.ah.DeleteCredential(context.Background(), userID, "google-drive"))
			assert.Equal(t, int64(1), f.requests())
		})
	}
}
