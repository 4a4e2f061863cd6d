package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

// timeout bounds the whole test: browser start, both journeys and every
// wait for a webhook or a callback.
const timeout = 60 * time.Second

// TestHostedPagesInChromium plays the end user in headless Chromium on
// mergetest's hosted pages: the Magic Link page, whose Connect button must
// bring a signed webhook with the account token, and the Agent Handler
// page, whose Connect button must redirect to the callback with the state.
func TestHostedPagesInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	browser := startBrowser(ctx, t)

	t.Run("MagicLink", func(t *testing.T) {
		t.Parallel()
		magicLinkJourney(ctx, t, browser)
	})
	t.Run("AgentLink", func(t *testing.T) {
		t.Parallel()
		agentLinkJourney(ctx, t, browser)
	})
}

// magicLinkJourney creates a Magic Link with the SDK, connects an
// integration in the browser and waits for the signed LinkedAccount.linked
// webhook at a receiver built with NewWebhookHandler.
func magicLinkJourney(ctx context.Context, t *testing.T, browser context.Context) {
	key := newSigningKey(t)
	events := make(chan *mergelink.WebhookEvent, 4)
	receiver, err := mergelink.NewWebhookHandler(func(rctx context.Context, ev *mergelink.WebhookEvent) error {
		select {
		case events <- ev:
			return nil
		case <-rctx.Done():
			return rctx.Err()
		}
	}, []string{key})
	require.NoError(t, err)
	recv := httptest.NewServer(receiver)
	t.Cleanup(recv.Close) // after srv's cleanup, which waits for its deliveries

	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(recv.URL, key))
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ml, err := c.CreateMagicLink(ctx, mergelink.MagicLinkParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "e2e-user-1",
		Categories:              []mergelink.Category{mergelink.CategoryATS},
	})
	require.NoError(t, err)

	var heading, endUser, status, message string
	var page, result []byte
	err = chromedp.Run(newTab(ctx, t, browser),
		chromedp.Navigate(ml.URL),
		chromedp.WaitVisible("#connect", chromedp.ByQuery),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
		chromedp.Text("#end-user", &endUser, chromedp.ByQuery),
		chromedp.SetValue("#integration", "lever", chromedp.ByQuery),
		chromedp.FullScreenshot(&page, 100),
		chromedp.Click("#connect", chromedp.ByQuery),
		chromedp.WaitVisible("#status", chromedp.ByQuery),
		chromedp.Text("#status", &status, chromedp.ByQuery),
		chromedp.Text("#message", &message, chromedp.ByQuery),
		chromedp.FullScreenshot(&result, 100),
	)
	require.NoError(t, err, "driving the Magic Link page")
	shots := screenshotDir(t)
	saveScreenshot(t, shots, "magic-link.png", page)
	saveScreenshot(t, shots, "magic-link-connected.png", result)
	assert.Equal(t, "Connect Example Org", heading)
	assert.Equal(t, "jane@example.com at Example Org", endUser)
	assert.Equal(t, "Connected", status)
	assert.Contains(t, message, "Example Org connected Lever")

	// Both webhooks are delivered or given up on first, so that a refused
	// one fails the test at once rather than at the timeout.
	deliveries, err := srv.WaitForDeliveries(ctx, 2)
	require.NoError(t, err)
	for i, want := range []mergelink.EventType{mergelink.EventLinkedAccountLinked, mergelink.EventLinkedAccountSyncedInitial} {
		require.Equal(t, string(want), deliveries[i].Event)
		require.Equal(t, http.StatusOK, deliveries[i].StatusCode, "the receiver refused %s", deliveries[i])
	}
	linked := waitForLinked(ctx, t, events)
	accounts := srv.LinkedAccounts()
	require.Len(t, accounts, 1, "the click must create one Linked Account")
	acct := accounts[0]
	token, ok := linked.AccountToken()
	require.True(t, ok, "LinkedAccount.linked carries no account token")
	// Compared without printing: an account token is a secret.
	assert.True(t, token != "" && token == acct.AccountToken,
		"the webhook's account token is not the Linked Account's")
	assert.Equal(t, acct.ID, linked.LinkedAccount.ID)
	assert.Equal(t, "lever", linked.LinkedAccount.IntegrationSlug, "the picker's choice did not reach the server")
	assert.Equal(t, "e2e-user-1", linked.LinkedAccount.EndUserOriginID)
}

// waitForLinked returns the first LinkedAccount.linked event the receiver
// passes on, or fails the test when ctx ends first.
func waitForLinked(ctx context.Context, t *testing.T, events <-chan *mergelink.WebhookEvent) *mergelink.WebhookEvent {
	t.Helper()
	for {
		select {
		case ev := <-events:
			if ev.Type() == mergelink.EventLinkedAccountLinked {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no LinkedAccount.linked webhook reached the receiver: %v", ctx.Err())
		}
	}
}

// callback is what the callback server saw.
type callback struct {
	res *agenthandler.CallbackResult
	err error
}

// startCallback starts the agent's callback server: GET /callback checks
// the state with agenthandler.ParseCallback, hands the first visit's
// result to the channel it returns and shows connected, or the refusal,
// in h1#done. Its origin is http://localhost:PORT, the form of plain http
// callback origins (WIRE.md); the server listens on 127.0.0.1.
func startCallback(t *testing.T, state, connected string) (origin string, got <-chan callback) {
	ch := make(chan callback, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		res, err := agenthandler.ParseCallback(r.URL.Query(), state)
		select {
		case ch <- callback{res, err}:
		default: // only the first visit counts
		}
		// The page has #done either way, so that a refusal fails the
		// test at once rather than at the timeout.
		outcome := connected
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			outcome = "Callback refused: " + err.Error()
		}
		fmt.Fprintf(w, `<!doctype html><title>Callback</title><h1 id="done">%s</h1>`, html.EscapeString(outcome))
	})
	cb := httptest.NewServer(mux)
	t.Cleanup(cb.Close)
	return "http://localhost:" + strconv.Itoa(cb.Listener.Addr().(*net.TCPAddr).Port), ch
}

// agentLinkJourney creates an Agent Handler link token with a callback URL
// and state, connects in the browser and waits for the redirect to reach
// the callback server, which checks the state, and for the signed
// credential.created webhook to reach the agent's webhook receiver.
func agentLinkJourney(ctx context.Context, t *testing.T, browser context.Context) {
	state, err := agenthandler.NewState()
	require.NoError(t, err)
	key := newSigningKey(t)
	credentials := make(chan *agenthandler.WebhookEvent, 8)
	receiver, err := agenthandler.NewWebhookHandler(func(rctx context.Context, ev *agenthandler.WebhookEvent) error {
		select {
		case credentials <- ev:
			return nil
		case <-rctx.Done():
			return rctx.Err()
		}
	}, []string{key})
	require.NoError(t, err)
	hooks := httptest.NewServer(receiver)
	t.Cleanup(hooks.Close) // after srv's cleanup, which waits for its deliveries
	origin, got := startCallback(t, state, "Signed in to Linear")
	callbackURL := origin + "/callback"

	// The allowed callback origin is the dashboard's: a server option;
	// ClientOptions tells the client about it.
	srv := mergetest.NewTestServer(t, mergetest.WithAllowedCallbackOrigins(origin), mergetest.WithAgentWebhook(hooks.URL, key))
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	ah := c.AgentHandler()
	user, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{
		OriginUserID:   "e2e-agent-user",
		OriginUserName: "E2E User",
	})
	require.NoError(t, err)
	lt, err := c.CreateAgentLinkToken(ctx, user.ID, agenthandler.LinkTokenParams{
		Connector:   "linear",
		CallbackURL: callbackURL,
		State:       state,
	})
	require.NoError(t, err)

	landed, heading := connectInBrowser(ctx, t, browser, lt.MagicLinkURL)
	require.Equal(t, callbackURL, landed.Scheme+"://"+landed.Host+landed.Path,
		"the browser is not on the callback page; it shows %q", heading)
	assert.Equal(t, "Signed in to Linear", heading)
	_, err = agenthandler.ParseCallback(landed.Query(), state)
	assert.NoError(t, err, "the browser's URL does not carry the state")

	select {
	case cbk := <-got:
		require.NoError(t, cbk.err, "the callback server refused the redirect")
		assert.True(t, cbk.res.Succeeded(), "callback status %q", cbk.res.Status)
		assert.Equal(t, state, cbk.res.State)
	case <-ctx.Done():
		t.Fatalf("the redirect never reached the callback server: %v", ctx.Err())
	}

	// The click also made Agent Handler's credential.created webhook, which
	// is delivered, signed, to the agent's receiver built with
	// agenthandler.NewWebhookHandler.
	for {
		select {
		case ev := <-credentials:
			if ev.Type() != agenthandler.EventCredentialCreated {
				continue // registered_user.created, from CreateRegisteredUser
			}
			d, ok := ev.Credential()
			require.True(t, ok)
			assert.Equal(t, user.ID, d.RegisteredUser.ID)
			assert.Equal(t, []string{"linear"}, d.RegisteredUser.AuthenticatedConnectors)
			assert.Equal(t, "linear", d.Connector.Slug)
			return
		case <-ctx.Done():
			t.Fatalf("no credential.created webhook reached the receiver (deliveries: %v): %v", srv.AgentDeliveries(), ctx.Err())
		}
	}
}

// connectInBrowser opens an Agent Handler magic link in a new tab, clicks
// Connect, and returns where the browser landed and the page's heading:
// the callback page (#done) or, when Merge skips the redirect,
// mergetest's own result (#status).
func connectInBrowser(ctx context.Context, t *testing.T, browser context.Context, link string) (landed *url.URL, heading string) {
	t.Helper()
	var location string
	err := chromedp.Run(newTab(ctx, t, browser),
		chromedp.Navigate(link),
		chromedp.WaitVisible("#connect", chromedp.ByQuery),
		chromedp.Click("#connect", chromedp.ByQuery),
		chromedp.WaitVisible("#done, #status", chromedp.ByQuery),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
		chromedp.Location(&location),
	)
	require.NoError(t, err, "driving the Agent Handler page")
	landed, err = url.Parse(location)
	require.NoError(t, err)
	return landed, heading
}

// startBrowser starts headless Chromium for the test and returns a context
// whose tabs (see newTab) live in it. When the test ends the browser is
// closed gracefully, its processes have exited, and only then is its
// profile removed. It skips the test when no Chromium is found, unless
// E2E_REQUIRE_BROWSER=1.
func startBrowser(ctx context.Context, t *testing.T) context.Context {
	t.Helper()
	path := findChromium(t)
	profile := t.TempDir() // removed after the cleanups below: they run last first
	// The browser outlives the test's context, which ends before cleanups
	// run: killed then, Chromium's helper processes would still be writing
	// to the profile as it is removed.
	deadline, _ := ctx.Deadline()
	life, cancelLife := context.WithDeadline(context.Background(), deadline.Add(10*time.Second))
	t.Cleanup(cancelLife)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life,
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a tiny /dev/shm
		chromedp.Flag("no-first-run", true),
		// Without these Chromium phones home, and the closed network of
		// CI refuses its connections.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1024, 768),
	)
	t.Cleanup(cancelAlloc) // waits for Chromium to exit
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		if err := chromedp.Cancel(browser); err != nil { // closes the browser gracefully
			t.Logf("closing Chromium: %v", err)
		}
		cancelBrowser()
	})
	// The first Run starts the browser, for the lifetime of its context.
	require.NoError(t, chromedp.Run(browser), "starting %s", path)
	return browser
}

// newTab opens a tab in browser whose actions end when ctx does; the tab
// is closed when the test ends.
func newTab(ctx context.Context, t *testing.T, browser context.Context) context.Context {
	tab, cancelTab := chromedp.NewContext(browser)
	t.Cleanup(cancelTab)
	deadline, _ := ctx.Deadline()
	tab, cancel := context.WithDeadline(tab, deadline)
	t.Cleanup(cancel)
	return tab
}

// findChromium returns the Chromium to run: CHROMIUM_PATH, /usr/bin/chromium
// or chromium in PATH. It skips the test when there is none, or fails it
// when E2E_REQUIRE_BROWSER=1 or CHROMIUM_PATH names no program.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("CHROMIUM_PATH=%s: %v", p, err)
		}
		return path
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const why = "no Chromium: set CHROMIUM_PATH, or install Debian's chromium (apt-get install -y chromium)"
	if os.Getenv("E2E_REQUIRE_BROWSER") == "1" {
		t.Fatal(why + "; E2E_REQUIRE_BROWSER=1 requires it")
	}
	t.Skip(why)
	return ""
}

// newSigningKey returns a fresh webhook signing key.
func newSigningKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// screenshotDir returns where screenshots go: E2E_SCREENSHOT_DIR, created
// if need be, or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("E2E_SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// saveScreenshot checks that shot is a PNG the size of a rendered page and
// writes it to dir.
func saveScreenshot(t *testing.T, dir, name string, shot []byte) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	require.NoError(t, err, "screenshot %s is not a PNG", name)
	assert.GreaterOrEqual(t, cfg.Width, 320, "screenshot %s is too narrow to be the page", name)
	assert.GreaterOrEqual(t, cfg.Height, 200, "screenshot %s is too short to be the page", name)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
}
