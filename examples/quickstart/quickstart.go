package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/accountstore"
	"github.com/mergelink/mergelink/examples/internal/cli"
	"github.com/mergelink/mergelink/mergetest"
)

// timeout bounds a whole run, so that it never hangs.
const timeout = 30 * time.Second

// finalLine starts the last line of a successful offline run, followed by
// the masked account token.
const finalLine = "account token received: "

// run runs the quickstart with the command-line args (without the program
// name) and the environment env, and returns the exit status. extra options
// go to the client after the region's, so that a test can point the online
// mode at mergetest.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer, extra ...mergelink.Option) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f cli.MagicLinkFlags
	f.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: quickstart [flags]\n\n"+
			"Without %s, runs the Magic Link journey offline against mergetest, a fake Merge.\n"+
			"With it, creates a real Magic Link for the end user the flags describe.\n\n", cli.APIKeyEnv)
		fs.PrintDefaults()
	}
	if exit, done := cli.ParseFlags(fs, args, stderr); done {
		return exit
	}

	var err error
	if _, keyErr := cli.APIKey(env); keyErr != nil {
		if fs.NFlag() > 0 {
			return cli.Report(stderr, "quickstart", cli.Usage(errors.New("the flags describe a real Magic Link: set "+cli.APIKeyEnv+" to create one, or run without flags for the offline demo")), nil)
		}
		err = runOffline(ctx, stdout, mergetest.NewServer)
	} else {
		err = runOnline(ctx, &f, env, stdout, extra)
	}
	if err != nil {
		return cli.Report(stderr, "quickstart", err, cli.MagicLinkFlagOf)
	}
	return cli.ExitOK
}

// runOnline creates a real Magic Link for the end user f describes.
func runOnline(ctx context.Context, f *cli.MagicLinkFlags, env func(string) string, out io.Writer, extra []mergelink.Option) error {
	c, err := cli.NewClient(env, f.Region, extra...)
	if err != nil {
		return err
	}
	p := f.Params()
	ml, err := c.CreateMagicLink(ctx, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Created a Magic Link on Merge (region %s).\n", c.Region())
	cli.PrintMagicLink(out, ml, p)
	return nil
}

// demoUser is the end user of the offline journey.
func demoUser() mergelink.MagicLinkParams {
	return mergelink.MagicLinkParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Organization",
		EndUserOriginID:         "quickstart-user-1",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
		Integration:             "bamboohr",
	}
}

// runOffline runs the Magic Link journey against a fake Merge that
// newServer starts (mergetest.NewServer; a test keeps a handle on it).
func runOffline(ctx context.Context, out io.Writer, newServer func(...mergetest.ServerOption) *mergetest.Server) error {
	step := 0
	say := func(format string, args ...any) {
		step++
		fmt.Fprintf(out, "%d. "+format+"\n", append([]any{step}, args...)...)
	}
	fmt.Fprintf(out, "mergelink quickstart, offline: mergetest plays Merge (set %s to use the real one).\n", cli.APIKeyEnv)

	key, err := newKey()
	if err != nil {
		return err
	}
	rcv, err := startReceiver(key)
	if err != nil {
		return err
	}
	defer rcv.stop()
	say("Webhook receiver (NewWebhookHandler) listening at %s, with a fresh signing key", rcv.url)

	// The fake Merge, which signs its webhooks with the same key, as Merge
	// does with the key of its dashboard.
	srv := newServer(mergetest.WithWebhook(rcv.url, key))
	defer srv.Close() // before the receiver stops: it waits for the webhooks in flight
	say("Fake Merge (mergetest) listening at %s", srv.URL())

	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		return err
	}
	p := demoUser()
	ml, err := c.CreateMagicLink(ctx, p)
	if err != nil {
		return fmt.Errorf("creating the Magic Link: %w", err)
	}
	say("Created a Magic Link for %s at %s, expiring about %s:\n   %s",
		p.EndUserEmailAddress, p.EndUserOrganizationName, ml.ExpiresAt.UTC().Format(time.RFC3339), ml.URL)

	browser := &http.Client{Timeout: 10 * time.Second}
	defer browser.CloseIdleConnections()
	result, err := connect(ctx, browser, ml.URL)
	if err != nil {
		return err
	}
	say("The end user opened the link and clicked Connect: %q", result)

	// Merge sends LinkedAccount.linked, then the first-sync
	// LinkedAccount.synced_initial; both carry the account token.
	seen := map[mergelink.EventType]bool{}
	for !seen[mergelink.EventLinkedAccountLinked] || !seen[mergelink.EventLinkedAccountSyncedInitial] {
		select {
		case ev := <-rcv.events:
			seen[ev.Type()] = true
			say("Webhook %s received and its signature verified, for Linked Account %s", ev.Type(), ev.LinkedAccount.ID)
		case <-ctx.Done():
			return fmt.Errorf("waiting for the LinkedAccount webhooks: %w", ctx.Err())
		}
	}
	linked, ok := rcv.store.ByOrigin(p.EndUserOriginID)
	if !ok {
		return errors.New("the webhooks carried no account token for the end user")
	}

	status, err := forge(ctx, browser, rcv.url)
	if err != nil {
		return err
	}
	if status != http.StatusUnauthorized {
		return fmt.Errorf("a forged webhook was answered %d, not 401", status)
	}
	say("A webhook signed with another key was refused: %d %s", status, http.StatusText(status))

	found := false
	for acct, err := range c.ListLinkedAccounts(ctx, mergelink.LinkedAccountsParams{EndUserOriginID: p.EndUserOriginID}) {
		if err != nil {
			return fmt.Errorf("listing the Linked Accounts: %w", err)
		}
		if acct.ID == linked.ID {
			found = true
			say("ListLinkedAccounts finds it: %s, %s, %s", acct.ID, acct.Integration.Name, acct.Status)
		}
	}
	if !found {
		return fmt.Errorf("ListLinkedAccounts does not list Linked Account %s", linked.ID)
	}
	if err := afterTheLink(ctx, c, p.Categories[0], linked.AccountToken, say); err != nil {
		return err
	}

	fmt.Fprintln(out, finalLine+accountstore.Mask(linked.AccountToken))
	return nil
}

// employee holds the fields of Merge's HRIS Employee that the quickstart
// prints; Paginate decodes each item into it.
type employee struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// afterTheLink uses the account token as a backend does once an account is
// linked: it reads the Linked Account's details and the state of its
// syncs, then lists its employees page by page.
func afterTheLink(ctx context.Context, c *mergelink.Client, category mergelink.Category, token string, say func(string, ...any)) error {
	acct := c.Account(category, token)
	d, err := acct.Details(ctx)
	if err != nil {
		return fmt.Errorf("reading the account's details: %w", err)
	}
	say("Account.Details: %s for %s, status %s", d.Integration, d.EndUserOriginID, d.Status)

	states := map[mergelink.SyncState]int{}
	models := 0
	for st, err := range acct.SyncStatus(ctx) {
		if err != nil {
			return fmt.Errorf("reading the sync status: %w", err)
		}
		models++
		states[st.Status]++
	}
	say("Account.SyncStatus: %d models, %d of them %s (the first sync has just begun)", models, states[mergelink.SyncSyncing], mergelink.SyncSyncing)

	var names []string
	for e, err := range mergelink.Paginate[employee](ctx, acct, "employees", url.Values{"page_size": {"2"}}) {
		if err != nil {
			return fmt.Errorf("listing the employees: %w", err)
		}
		names = append(names, e.FirstName+" "+e.LastName)
	}
	say("Paginate listed %d employees from GET %s/v1/employees, two a page: %s", len(names), category, strings.Join(names, ", "))
	return nil
}

// receiver is your server's webhook endpoint: it verifies each webhook's
// signature, keeps the account tokens and passes the events on.
type receiver struct {
	url    string
	store  accountstore.Store
	events chan *mergelink.WebhookEvent
	stop   func()
}

// startReceiver starts a receiver that verifies with key on a loopback
// port. Call stop when done.
func startReceiver(key string) (*receiver, error) {
	r := &receiver{events: make(chan *mergelink.WebhookEvent, 4)}
	h, err := mergelink.NewWebhookHandler(func(ctx context.Context, ev *mergelink.WebhookEvent) error {
		r.store.Save(ev)
		select {
		case r.events <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, []string{key})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the webhook receiver: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks", h)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cli.Serve(ctx, ln, mux) }()
	r.url = "http://" + ln.Addr().String() + "/webhooks"
	r.stop = func() { cancel(); <-served }
	return r, nil
}

// newKey returns a random webhook signing key.
func newKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a webhook signing key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

var (
	integrationField = regexp.MustCompile(`name="integration" value="([^"]*)"`)
	statusMessage    = regexp.MustCompile(`<p id="message">([^<]*)</p>`)
)

// connect does what the end user's browser does with a Magic Link: it
// opens the page and submits its Connect form, whose hidden field names the
// integration. It returns the message of the page that follows.
func connect(ctx context.Context, browser *http.Client, pageURL string) (string, error) {
	page, err := cli.Fetch(ctx, browser, http.MethodGet, pageURL, nil)
	if err != nil {
		return "", fmt.Errorf("opening the Magic Link: %w", err)
	}
	m := integrationField.FindStringSubmatch(page)
	if m == nil {
		return "", errors.New("the Magic Link page has no Connect form naming an integration")
	}
	done, err := cli.Fetch(ctx, browser, http.MethodPost, pageURL, url.Values{"integration": {html.UnescapeString(m[1])}})
	if err != nil {
		return "", fmt.Errorf("clicking Connect: %w", err)
	}
	if m = statusMessage.FindStringSubmatch(done); m == nil {
		return "", errors.New("the page after Connect says nothing")
	}
	return html.UnescapeString(m[1]), nil
}

// forge posts a LinkedAccount.linked webhook signed with a key the receiver
// does not know, as an attacker would, and returns the answer's status.
func forge(ctx context.Context, hc *http.Client, hookURL string) (int, error) {
	otherKey, err := newKey()
	if err != nil {
		return 0, err
	}
	payload := []byte(`{"hook": {"event": "LinkedAccount.linked"}, "linked_account": {"id": "forged"}, "data": {"account_token": "forged-account-token"}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(payload, otherKey))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting a forged webhook: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
