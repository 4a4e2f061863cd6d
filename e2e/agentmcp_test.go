package e2e_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp"
	"github.com/mergelink/mergelink/agentmcp/mcptest"
	"github.com/mergelink/mergelink/mergetest"
)

// TestAgentOverMCPInChromium plays seed 002's agent journey with a real
// browser: an agent's MCP tool call answers that the user must connect
// Linear, Chromium opens the answer's magic link with callback_url
// appended, clicks Connect and lands on the agent's callback, and the
// agent's next call of the same tool succeeds.
func TestAgentOverMCPInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	browser := startBrowser(ctx, t)

	state, err := agenthandler.NewState()
	require.NoError(t, err)
	origin, got := startCallback(t, state, "Linear connected: back to the agent")
	// The magic link comes from Agent Handler, not from a link token of the
	// agent's: the agent's state rides in its own callback URL.
	callbackURL := origin + "/callback?state=" + url.QueryEscape(state)

	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins(origin))
	pack := mcptest.Mount(t, srv)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	user, _, err := c.AgentHandler().CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "e2e-mcp-user", OriginUserName: "E2E Agent User"})
	require.NoError(t, err)

	s, err := agentmcp.Connect(ctx, c, pack.ID(), user.ID)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	args := map[string]any{"title": "Chromium connected me"}
	res, err := s.Call(ctx, "linear_create_issue", args)
	require.NoError(t, err)
	require.True(t, res.NeedsAuth(), "Linear is not connected yet, yet the tool answered %v", res)
	link, err := agenthandler.AppendCallbackURL(res.Auth.MagicLinkURL, callbackURL)
	require.NoError(t, err)

	var heading, location string
	var page []byte
	err = chromedp.Run(newTab(ctx, t, browser),
		chromedp.Navigate(link),
		chromedp.WaitVisible("#connect", chromedp.ByQuery),
		chromedp.FullScreenshot(&page, 100),
		chromedp.Click("#connect", chromedp.ByQuery),
		chromedp.WaitVisible("#done, #status", chromedp.ByQuery),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
		chromedp.Location(&location),
	)
	require.NoError(t, err, "driving the magic link page")
	saveScreenshot(t, screenshotDir(t), "agent-mcp-link.png", page)
	landed, err := url.Parse(location)
	require.NoError(t, err)
	require.Equal(t, origin+"/callback", landed.Scheme+"://"+landed.Host+landed.Path,
		"the browser is not on the callback page; it shows %q", heading)
	assert.Equal(t, "Linear connected: back to the agent", heading)

	select {
	case cbk := <-got:
		require.NoError(t, cbk.err, "the callback server refused the redirect")
		require.True(t, cbk.res.Succeeded(), "callback status %q", cbk.res.Status)
	case <-ctx.Done():
		t.Fatalf("the redirect never reached the callback server: %v", ctx.Err())
	}
	s.Invalidate() // what a callback handler does

	res, err = s.Call(ctx, "linear_create_issue", args)
	require.NoError(t, err)
	require.False(t, res.NeedsAuth(), "the user connected Linear in Chromium, yet the tool answered %v", res)
	assert.True(t, res.Refreshed, "the agent listed the tools again first")
	var issue struct{ Identifier, Title string }
	require.NoError(t, json.Unmarshal([]byte(res.Text()), &issue))
	assert.Equal(t, "LIN-1", issue.Identifier)
	assert.Equal(t, "Chromium connected me", issue.Title)
	tools, err := s.Tools(ctx)
	require.NoError(t, err)
	for _, tool := range tools {
		assert.NotEqual(t, "authenticate_linear", tool.Name, "Linear is connected")
	}
}
