package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/examples/internal/cli"
)

// timeout bounds a run: an Agent Handler link token lives 30 minutes.
const timeout = 35 * time.Minute

// magicLinkLine starts the line that gives the magic link URL, and
// webhookURLLine the one that gives the webhook URL.
const (
	magicLinkLine  = "Magic link: "
	webhookURLLine = "Agent Handler webhook URL: "
)

// flagOf maps the fields of the Agent Handler params to the flags that set
// them, for cli.Report.
var flagOf = map[string]string{
	"OriginUserID":   "-user-id",
	"OriginUserName": "-user-name",
	"Connector":      "-connector",
	"CallbackURL":    "-addr",
}

// run runs the command with the command-line args (without the program
// name) and the environment env, and returns the exit status. extra options
// go to the client after the region's, so that a test can point it at
// mergetest.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer, extra ...mergelink.Option) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	fs := flag.NewFlagSet("agentlink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	userID := fs.String("user-id", "", "your id for the user (required)")
	userName := fs.String("user-name", "", "the user's name (required)")
	connector := fs.String("connector", "", "the connector's slug, such as linear (required)")
	addr := fs.String("addr", "127.0.0.1:8081", "where to serve the callback: a loopback address, since the callback URL is plain http://localhost:PORT")
	region := fs.String("region", string(mergelink.RegionUS), "the region of your Merge organization: us or eu")
	webhookWait := fs.Duration("webhook-wait", 2*time.Minute, "with "+webhookKeyEnv+" set, how long to wait for the credential.created webhook once the callback came")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: agentlink -user-id ID -user-name NAME -connector SLUG [flags]\n\n"+
			"Connects the user's account through Agent Handler with the API key in %s,\n"+
			"and serves the callback on -addr until the user comes back. With the\n"+
			"verification key of Agent Handler's webhooks in %s, it also receives\n"+
			"them at %s on -addr and waits for credential.created.\n\n", cli.APIKeyEnv, webhookKeyEnv, webhookPath)
		fs.PrintDefaults()
	}
	if exit, done := cli.ParseFlags(fs, args, stderr); done {
		return exit
	}
	c, err := cli.NewClient(env, *region, extra...)
	if err != nil {
		return cli.Report(stderr, "agentlink", err, nil)
	}

	// Check the input before listening: a bad run binds nothing.
	port, err := cli.LoopbackPort(*addr)
	if err != nil {
		return cli.Report(stderr, "agentlink", err, nil)
	}
	user := agenthandler.RegisteredUserParams{OriginUserID: *userID, OriginUserName: *userName}
	if port == "0" {
		// The system picks the port when listening; a callback URL needs a
		// real one (1 to 65535), so check the rest with a stand-in.
		port = "1"
	}
	lp := agenthandler.LinkTokenParams{Connector: *connector, CallbackURL: callbackURL(port, *userID)}
	if err := errors.Join(user.Validate(), lp.Validate()); err != nil {
		return cli.Report(stderr, "agentlink", err, flagOf)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return cli.Report(stderr, "agentlink", fmt.Errorf("serving the callback: %w", err), nil)
	}
	accepted := make(chan *agenthandler.CallbackResult, 1)
	cb := newCallbacks(func(_ string, res *agenthandler.CallbackResult) {
		select {
		case accepted <- res:
		default: // one link per run: later callbacks find no state anyway
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/", cb.handler())
	var credentials chan connected
	if key := env(webhookKeyEnv); key != "" {
		credentials = make(chan connected, 16)
		hooks, err := newWebhooks(key, func(ev connected) {
			select {
			case credentials <- ev:
			default: // the run waits for one; a flood of others is dropped
			}
		})
		if err != nil {
			return cli.Report(stderr, "agentlink", err, nil)
		}
		mux.Handle(webhookPath, hooks)
	}
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cli.Serve(serveCtx, ln, mux) }()
	defer func() { stopServing(); <-served }()

	port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) // the port chosen for :0
	lp.CallbackURL = callbackURL(port, *userID)
	if credentials != nil {
		fmt.Fprintf(stdout, "%shttp://localhost:%s%s (set it under Connectors, Webhooks; Merge must reach it, through a tunnel say)\n", webhookURLLine, port, webhookPath)
	}
	registered, magicURL, err := startLink(ctx, c, user, lp, cb)
	if err != nil {
		return cli.Report(stderr, "agentlink", err, flagOf)
	}
	fmt.Fprintf(stdout, "Open this link to connect %s for %s; the browser then comes back to %s\n", *connector, *userName, lp.CallbackURL)
	fmt.Fprintf(stdout, "(%s is registered as an allowed callback origin, without which Merge would skip the redirect)\n", origin(lp.CallbackURL))
	fmt.Fprintln(stdout, magicLinkLine+magicURL)
	fmt.Fprintln(stdout, "Waiting for the callback (the link works for 30 minutes; Ctrl-C to stop)...")

	w := waiter{stdout: stdout, stderr: stderr, connector: *connector, userName: *userName, userID: registered, webhookWait: *webhookWait}
	return w.wait(ctx, accepted, credentials)
}

// origin returns the origin of a callback URL made by callbackURL.
func origin(callbackURL string) string {
	o, err := agenthandler.OriginOf(callbackURL)
	if err != nil {
		return callbackURL
	}
	return o
}

// callbackURL returns the callback URL of user's link on port. Its host is
// localhost, the one plain http host Merge allows in a callback origin.
func callbackURL(port, user string) string {
	return "http://localhost:" + port + callbackPath + url.PathEscape(user)
}

// startLink registers lp.CallbackURL's origin as an allowed callback
// origin (idempotent: an origin already registered is kept, so every run
// may do it), registers the user and creates the user's link token with a
// new state, which it gives cb to expect. It returns the registered user's
// Agent Handler id and the magic link URL. Invalid params fail with a
// *mergelink.ValidationError before any request.
func startLink(ctx context.Context, c *mergelink.Client, user agenthandler.RegisteredUserParams, lp agenthandler.LinkTokenParams, cb *callbacks) (registeredUserID, magicLinkURL string, err error) {
	state, err := agenthandler.NewState()
	if err != nil {
		return "", "", err
	}
	lp.State = state
	if err := errors.Join(user.Validate(), lp.Validate()); err != nil {
		return "", "", err
	}
	ah := c.AgentHandler()
	if _, _, err := ah.RegisterCallbackOrigin(ctx, lp.CallbackURL); err != nil {
		return "", "", fmt.Errorf("registering the callback origin: %w", err)
	}
	u, _, err := ah.CreateRegisteredUser(ctx, user)
	if err != nil {
		return "", "", fmt.Errorf("registering the user: %w", err)
	}
	lt, err := c.CreateAgentLinkToken(ctx, u.ID, lp)
	if err != nil {
		return "", "", fmt.Errorf("creating the link token: %w", err)
	}
	cb.expect(user.OriginUserID, state)
	return u.ID, lt.MagicLinkURL, nil
}
