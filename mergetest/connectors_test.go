package mergetest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

// connectorFields are the fields the exported OpenAPI requires of a
// connector (ConnectorDetailPublicResponse).
var connectorFields = []string{"id", "name", "slug", "description", "source_url", "logo_url", "categories", "auth_options", "tools"}

// connectorPage is a page of GET /connectors/.
type connectorPage struct {
	Count    int
	Next     *string
	Previous *string
	Results  []map[string]any
}

func TestConnectorsListedPageByPage(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)

	var all connectorPage
	a := send(t, srv, "GET", ah+"/connectors/", "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.NoError(t, json.Unmarshal(a.body, &all))
	assert.Nil(t, all.Next, "the catalog fits the default page")
	assert.Nil(t, all.Previous)
	require.Equal(t, all.Count, len(all.Results))
	require.GreaterOrEqual(t, all.Count, 10)
	var slugs []string
	for _, k := range all.Results {
		for _, f := range connectorFields {
			assert.Contains(t, k, f, "connector %v", k["slug"])
		}
		slugs = append(slugs, k["slug"].(string))
		assert.Len(t, k["id"], 36)
		assert.NotEmpty(t, k["tools"])
		assert.NotEmpty(t, k["auth_options"])
	}
	assert.True(t, slices.IsSorted(slugs), "%v", slugs)
	assert.Subset(t, slugs, []string{"linear", "github", "slack", "jira", "notion"})

	// With page_size, next and previous are full URLs on the server, which
	// keep the query.
	var paged []string
	next := srv.URL() + ah + "/connectors/?page_size=5"
	for pages := 1; next != ""; pages++ {
		u, err := url.Parse(next)
		require.NoError(t, err)
		assert.Equal(t, srv.URL(), u.Scheme+"://"+u.Host, "next is a full URL on the server")
		assert.Equal(t, "5", u.Query().Get("page_size"))
		var p connectorPage
		a := send(t, srv, "GET", strings.TrimPrefix(next, srv.URL()), "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		require.NoError(t, json.Unmarshal(a.body, &p))
		assert.Equal(t, all.Count, p.Count)
		assert.LessOrEqual(t, len(p.Results), 5)
		if pages == 1 {
			assert.Nil(t, p.Previous)
		} else {
			require.NotNil(t, p.Previous)
			assert.True(t, strings.HasPrefix(*p.Previous, srv.URL()+ah+"/connectors/?"), *p.Previous)
		}
		for _, k := range p.Results {
			paged = append(paged, k["slug"].(string))
		}
		next = ""
		if p.Next != nil {
			next = *p.Next
		}
		require.Less(t, pages, 10, "the pages never end")
	}
	assert.Equal(t, slugs, paged, "the pages hold the whole catalog once, in order")

	for _, q := range []string{"page=0", "page=99", "page=two"} {
		a := send(t, srv, "GET", ah+"/connectors/?"+q, "")
		assert.Equal(t, http.StatusNotFound, a.status, q)
		assert.Equal(t, "invalid_page", agentErr(t, a), q)
	}
}

func TestConnectorBySlug(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	a := send(t, srv, "GET", ah+"/connectors/linear/", "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	k := a.json(t)
	for _, f := range connectorFields {
		assert.Contains(t, k, f)
	}
	assert.Equal(t, "linear", k["slug"])
	assert.Equal(t, "Linear", k["name"])

	again := send(t, srv, "GET", ah+"/connectors/linear/", "")
	assert.Equal(t, string(a.body), string(again.body), "a connector is the same on every read")
	other := mergetest.NewTestServer(t)
	assert.Equal(t, k["id"], send(t, other, "GET", ah+"/connectors/linear/", "").json(t)["id"], "and on every server")

	for _, slug := range []string{"nope", "Linear", "linear.app"} {
		a := send(t, srv, "GET", ah+"/connectors/"+slug+"/", "")
		assert.Equal(t, http.StatusNotFound, a.status, slug)
		assert.Equal(t, "connector_not_found", agentErr(t, a), slug)
	}
	assert.Equal(t, http.StatusUnauthorized, send(t, srv, "GET", ah+"/connectors/linear/", "", "Authorization", "Bearer wrong").status)
}

// The SDK and the fake agree on connectors.
func TestConnectorsThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ah := c.AgentHandler()
	ctx := context.Background()

	var slugs []string
	for k, err := range ah.ListConnectors(ctx, agenthandler.ListConnectorsParams{PageSize: 3}) {
		require.NoError(t, err)
		slugs = append(slugs, k.Slug)
	}
	pages := 0
	for _, r := range srv.Requests() {
		if r.Path == mergetest.AgentPath+"/connectors/" {
			pages++
		}
	}
	assert.Equal(t, (len(slugs)+2)/3, pages, "one request per page of 3")
	assert.Contains(t, slugs, "linear")

	k, err := ah.GetConnector(ctx, "github")
	require.NoError(t, err)
	assert.Equal(t, "GitHub", k.Name)
	assert.NotEmpty(t, k.SourceURL)
	assert.NotEmpty(t, k.Tools)
	require.NotEmpty(t, k.AuthOptions)
	assert.Equal(t, "OAUTH", k.AuthOptions[0].Type)

	_, err = ah.GetConnector(ctx, "no-such-connector")
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
	var ae *mergelink.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "connector_not_found", ae.Code)
}

// userConnectors returns the user's authenticated_connectors as the API
// answers them.
func userConnectors(t *testing.T, srv *mergetest.Server, id string) []string {
	t.Helper()
	a := send(t, srv, "GET", ah+"/registered-users/"+id+"/", "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	return decodeUser(t, a).AuthenticatedConnectors
}

func TestAgentLinkAuthenticatesTheConnectorAndDeleteCredentialRemovesIt(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	u := createUser(t, srv, "u1")
	other := createUser(t, srv, "u2")
	assert.Equal(t, []string{}, userConnectors(t, srv, u.ID))

	for _, connector := range []string{"linear", "github", "linear"} {
		tok, _ := agentLink(t, srv, u.ID, `{"connector":"`+connector+`"}`)
		_, err := srv.CompleteAgentLink(tok)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"linear", "github"}, userConnectors(t, srv, u.ID), "each connector once, in the order connected")
	assert.Equal(t, []string{}, userConnectors(t, srv, other.ID), "another user's connectors are untouched")

	del := func(user, connector string) answer {
		return send(t, srv, "DELETE", ah+"/credentials/registered-users/"+user+"/connectors/"+connector+"/", "")
	}
	a := del(u.ID, "linear")
	assert.Equal(t, http.StatusOK, a.status, "%s", a.body)
	assert.Empty(t, a.body, "200 with no body, as the OpenAPI lists it")
	assert.Equal(t, []string{"github"}, userConnectors(t, srv, u.ID))

	for _, tc := range []struct{ user, connector, code string }{
		{u.ID, "linear", "credential_not_found"},     // already deleted
		{u.ID, "slack", "credential_not_found"},      // never connected
		{u.ID, "nope", "connector_not_found"},        // not in the catalog
		{other.ID, "github", "credential_not_found"}, // another user's
		{"00000000-0000-4000-8000-000000000000", "github", "registered_user_not_found"},
	} {
		a := del(tc.user, tc.connector)
		assert.Equal(t, http.StatusNotFound, a.status, "%+v", tc)
		assert.Equal(t, tc.code, agentErr(t, a), "%+v", tc)
	}
	assert.Equal(t, []string{"github"}, userConnectors(t, srv, u.ID), "a refused delete changes nothing")
}

// The SDK's DeleteCredential disconnects on the fake.
func TestDeleteCredentialThroughTheSDK(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ah := c.AgentHandler()
	ctx := context.Background()
	u, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "u1", OriginUserName: "Ada"})
	require.NoError(t, err)
	lt, err := ah.CreateLinkToken(ctx, u.ID, agenthandler.LinkTokenParams{Connector: "notion"})
	require.NoError(t, err)
	_, err = srv.CompleteAgentLink(lt.MagicLinkURL)
	require.NoError(t, err)
	got, err := ah.GetRegisteredUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"notion"}, got.AuthenticatedConnectors)

	require.NoError(t, ah.DeleteCredential(ctx, u.ID, "notion"))
	got, err = ah.GetRegisteredUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, got.AuthenticatedConnectors)
	err = ah.DeleteCredential(ctx, u.ID, "notion")
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
}

// The connector and credential paths are served without their trailing
// slash too, as Merge's own plugins call them.
func TestConnectorPathsWithoutTrailingSlash(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	u := createUser(t, srv, "u1")
	tok, _ := agentLink(t, srv, u.ID, `{"connector":"slack"}`)
	_, err := srv.CompleteAgentLink(tok)
	require.NoError(t, err)

	list := send(t, srv, "GET", ah+"/connectors?page_size=2", "")
	require.Equal(t, http.StatusOK, list.status, "%s", list.body)
	assert.Len(t, list.json(t)["results"], 2)
	one := send(t, srv, "GET", ah+"/connectors/slack", "")
	require.Equal(t, http.StatusOK, one.status, "%s", one.body)
	assert.Equal(t, "slack", one.json(t)["slug"])
	del := send(t, srv, "DELETE", ah+"/credentials/registered-users/"+u.ID+"/connectors/slack", "")
	assert.Equal(t, http.StatusOK, del.status, "%s", del.body)
	assert.Equal(t, []string{}, userConnectors(t, srv, u.ID))
}
