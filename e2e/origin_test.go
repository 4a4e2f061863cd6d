package e2e_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

// TestCallbackOriginRegisteredOverTheAPIInChromium checks, in headless
// Chromium, that an origin registered with RegisterCallbackOrigin governs
// the redirect after Connect as the dashboard's list does: on a server
// that allows no origin, the browser stays on Merge's page; once the app
// registered its origin over the API (path and query dropped), the next
// link brings the browser back to the app's callback with the state.
func TestCallbackOriginRegisteredOverTheAPIInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	browser := startBrowser(ctx, t)

	state, err := agenthandler.NewState()
	require.NoError(t, err)
	origin, got := startCallback(t, state, "Back in the app")
	callbackURL := origin + "/callback"

	srv := mergetest.NewTestServer(t) // no WithAllowedCallbackOrigins: the dashboard's list is empty
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ah := c.AgentHandler()
	user, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "e2e-origin-user", OriginUserName: "E2E Origin User"})
	require.NoError(t, err)

	// connect opens a fresh link for connector in the browser and clicks
	// Connect.
	connect := func(connector string) (*url.URL, string) {
		t.Helper()
		lt, err := ah.CreateLinkToken(ctx, user.ID, agenthandler.LinkTokenParams{Connector: connector, CallbackURL: callbackURL, State: state})
		require.NoError(t, err)
		return connectInBrowser(ctx, t, browser, lt.MagicLinkURL)
	}

	before, heading := connect("slack")
	assert.Equal(t, srv.URL(), before.Scheme+"://"+before.Host,
		"with no origin allowed the redirect is skipped, yet the browser left Merge's page for %s (%q)", before, heading)
	select {
	case cbk := <-got:
		t.Fatalf("the callback was reached before its origin was registered: %+v", cbk)
	default:
	}

	registered, created, err := ah.RegisterCallbackOrigin(ctx, callbackURL+"?from=e2e")
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, origin, registered.Origin, "path and query dropped, as Merge drops them")

	landed, heading := connect("linear")
	require.Equal(t, callbackURL, landed.Scheme+"://"+landed.Host+landed.Path,
		"the browser is not on the callback page; it shows %q", heading)
	assert.Equal(t, "Back in the app", heading)
	select {
	case cbk := <-got:
		require.NoError(t, cbk.err, "the callback server refused the redirect")
		assert.True(t, cbk.res.Succeeded(), "callback status %q", cbk.res.Status)
		assert.Equal(t, state, cbk.res.State)
	case <-ctx.Done():
		t.Fatalf("the redirect never reached the callback server: %v", ctx.Err())
	}

	again, created, err := ah.RegisterCallbackOrigin(ctx, origin)
	require.NoError(t, err)
	assert.False(t, created, "registering again is harmless")
	assert.Equal(t, registered.ID, again.ID)
}
