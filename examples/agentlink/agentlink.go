package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/examples/internal/cli"
)

// timeout bounds a run: an Agent Handler link token lives 30 minutes.
const timeout = 35 * time.Minute

// magicLinkLine starts the line that gives the magic link URL.
const magicLinkLine = "Magic link: "

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
	addr := fs.String("addr", "127.0.0.1:8081", "where to serve the callback: a loopback address, since the callback URL is plain http")
	region := fs.String("region", string(mergelink.RegionUS), "the region of your Merge organization: us or eu")
	if exit, done := cli.ParseFlags(fs, args, stderr); done {
		return exit
	}
	c, err := cli.NewClient(env, *region, extra...)
	if err != nil {
		return cli.Report(stderr, "agentlink", err, nil)
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
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cli.Serve(serveCtx, ln, cb.handler()) }()
	defer func() { stopServing(); <-served }()

	user := agenthandler.RegisteredUserParams{OriginUserID: *userID, OriginUserName: *userName}
	callbackURL := "http://" + ln.Addr().String() + callbackPath + url.PathEscape(*userID)
	magicURL, err := startLink(ctx, c, user, agenthandler.LinkTokenParams{Connector: *connector, CallbackURL: callbackURL}, cb)
	if err != nil {
		return cli.Report(stderr, "agentlink", err, flagOf)
	}
	fmt.Fprintf(stdout, "Open this link to connect %s for %s; the browser then comes back to %s\n", *connector, *userName, callbackURL)
	fmt.Fprintln(stdout, magicLinkLine+magicURL)
	fmt.Fprintln(stdout, "Waiting for the callback (the link works for 30 minutes; Ctrl-C to stop)...")

	select {
	case res := <-accepted:
		if !res.Succeeded() {
			return cli.Report(stderr, "agentlink", fmt.Errorf("the callback came back with status %q: %s is not connected; run again for a new link", res.Status, *connector), nil)
		}
		fmt.Fprintf(stdout, "Callback received with the state sent (state verified): %s is connected for %s.\n", *connector, *userName)
		return cli.ExitOK
	case <-ctx.Done():
		return cli.Report(stderr, "agentlink", fmt.Errorf("no callback came: %w", ctx.Err()), nil)
	}
}

// startLink registers lp.CallbackURL's origin with Merge (without it Merge
// skips the redirect) and the user, and creates the user's link token with
// a new state, which it gives cb to expect. It returns the magic link URL.
// Invalid params fail with a *mergelink.ValidationError before any request.
func startLink(ctx context.Context, c *mergelink.Client, user agenthandler.RegisteredUserParams, lp agenthandler.LinkTokenParams, cb *callbacks) (string, error) {
	state, err := agenthandler.NewState()
	if err != nil {
		return "", err
	}
	lp.State = state
	if err := errors.Join(user.Validate(), lp.Validate()); err != nil {
		return "", err
	}
	ah := c.AgentHandler()
	if err := ah.RegisterCallbackOrigin(ctx, lp.CallbackURL); err != nil {
		return "", fmt.Errorf("registering the callback origin: %w", err)
	}
	u, _, err := ah.CreateRegisteredUser(ctx, user)
	if err != nil {
		return "", fmt.Errorf("registering the user: %w", err)
	}
	lt, err := c.CreateAgentLinkToken(ctx, u.ID, lp)
	if err != nil {
		return "", fmt.Errorf("creating the link token: %w", err)
	}
	cb.expect(user.OriginUserID, state)
	return lt.MagicLinkURL, nil
}
