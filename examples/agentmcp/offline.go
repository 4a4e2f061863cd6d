package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp/mcptest"
	"github.com/mergelink/mergelink/examples/internal/cli"
	"github.com/mergelink/mergelink/mergetest"
)

// runOffline runs the journey against a fake Merge that newServer starts
// (mergetest.NewServer; a test keeps a handle on it), with the fake tool
// pack of mcptest, a registered user of its own and f's tool and args.
func runOffline(ctx context.Context, out io.Writer, f flags, args map[string]any, newServer func(...mergetest.ServerOption) *mergetest.Server) error {
	fmt.Fprintf(out, "agentmcp, offline: mergetest plays Merge's Agent Handler and mcptest its MCP server (set %s, -tool-pack and -user to use the real ones).\n", "MERGE_API_KEY")
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("serving the callback: %w", err)
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	credentials := make(chan *agenthandler.WebhookEvent, 8)
	receiver, err := agenthandler.NewWebhookHandler(func(ctx context.Context, ev *agenthandler.WebhookEvent) error {
		if ev.Type() == agenthandler.EventCredentialCreated {
			select {
			case credentials <- ev:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}, []string{key})
	if err != nil {
		ln.Close()
		return err
	}
	l := startLocal(ln, receiver)
	l.credentials = credentials
	defer l.stop()

	// journey registers the callback's origin over the API, or the fake
	// skips the redirect as Merge does.
	srv := newServer(mergetest.WithAgentWebhook(l.url+webhookPath, key))
	defer srv.Close() // before the local server stops: it waits for the webhooks in flight
	pack, err := mcptest.Serve(srv)
	if err != nil {
		return err
	}
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		return err
	}
	user, _, err := c.AgentHandler().CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "agentmcp-demo-user", OriginUserName: "Ada Lovelace"})
	if err != nil {
		return fmt.Errorf("registering the user: %w", err)
	}
	a := &agent{out: out, local: l}
	a.say("Fake Merge at %s, its tool pack %s, registered user %s; callbacks and webhooks to %s", srv.URL(), pack.ID(), user.ID, l.url)
	browser := &http.Client{Timeout: 10 * time.Second}
	defer browser.CloseIdleConnections()
	return a.journey(ctx, c, pack.ID(), user.ID, f.tool, args, func(ctx context.Context, link string) error {
		return browse(ctx, browser, link)
	})
}

// callbackField finds the callback URL in the fake's magic link page.
var callbackField = regexp.MustCompile(`name="callback_url" value="([^"]*)"`)

// browse does what a browser does on the fake's magic link page: it opens
// link, clicks Connect (a form POST to the same URL) and follows the
// redirect to the callback, whose page must answer 200.
func browse(ctx context.Context, browser *http.Client, link string) error {
	page, err := cli.Fetch(ctx, browser, http.MethodGet, link, nil)
	if err != nil {
		return fmt.Errorf("opening the magic link: %w", err)
	}
	m := callbackField.FindStringSubmatch(page)
	if m == nil {
		return errors.New("the magic link page has no Connect form")
	}
	if _, err := cli.Fetch(ctx, browser, http.MethodPost, link, url.Values{"callback_url": {html.UnescapeString(m[1])}}); err != nil {
		return fmt.Errorf("clicking Connect: %w", err)
	}
	return nil
}

// newKey returns a fresh webhook verification key.
func newKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
