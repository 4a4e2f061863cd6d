package mergetest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/mergetest"
)

// As WIRE.md says of Merge, a test key used against production data, or
// the reverse, answers 404; only a key that is neither gets 401.
func TestWrongEnvironmentKeyAnswers404(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	prod, test := srv.APIKey(), srv.TestEnvironmentAPIKey()
	require.NotEqual(t, prod, test)

	// A Linked Account of each environment, from a link token made with
	// that environment's key.
	link := func(key, origin string) *mergetest.LinkedAccount {
		a := send(t, srv, http.MethodPost, "/api/hris/v1/link-token",
			`{"end_user_email_address":"a@b.test","end_user_organization_name":"Org","end_user_origin_id":"`+origin+`","categories":["hris"]}`,
			"Authorization", "Bearer "+key)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		la, err := srv.CompleteLink(a.json(t)["link_token"].(string), "bamboohr")
		require.NoError(t, err)
		return la
	}
	prodAcct, testAcct := link(prod, "p1"), link(test, "t1")
	assert.False(t, prodAcct.IsTestAccount)
	assert.True(t, testAcct.IsTestAccount, "made with the test key")

	details := func(key, token string) int {
		return send(t, srv, http.MethodGet, "/api/hris/v1/account-details", "",
			"Authorization", "Bearer "+key, mergetest.AccountTokenHeader, token).status
	}
	assert.Equal(t, http.StatusOK, details(prod, prodAcct.AccountToken))
	assert.Equal(t, http.StatusOK, details(test, testAcct.AccountToken))
	assert.Equal(t, http.StatusNotFound, details(test, prodAcct.AccountToken), "a test key against production")
	assert.Equal(t, http.StatusNotFound, details(prod, testAcct.AccountToken), "a production key against test")
	assert.Equal(t, http.StatusUnauthorized, details("neither-key", prodAcct.AccountToken))

	// Agent Handler: a registered user belongs to the key that made it.
	user := send(t, srv, http.MethodPost, "/ah/api/v1/registered-users/", `{"origin_user_id":"u1","origin_user_name":"Ada"}`, "Authorization", "Bearer "+test)
	require.Equal(t, http.StatusCreated, user.status, "%s", user.body)
	assert.Equal(t, true, user.json(t)["is_test"])
	path := "/ah/api/v1/registered-users/" + user.json(t)["id"].(string) + "/"
	assert.Equal(t, http.StatusOK, send(t, srv, http.MethodGet, path, "", "Authorization", "Bearer "+test).status)
	assert.Equal(t, http.StatusNotFound, send(t, srv, http.MethodGet, path, "", "Authorization", "Bearer "+prod).status)
	assert.Equal(t, http.StatusUnauthorized, send(t, srv, http.MethodGet, path, "", "Authorization", "Bearer neither-key").status)
}

func TestEnvironmentKeysMustDiffer(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() {
		mergetest.NewServer(mergetest.WithAPIKey("same"), mergetest.WithTestEnvironmentAPIKey("same"))
	})
}
