package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp"
	"github.com/mergelink/mergelink/examples/internal/cli"
	"github.com/mergelink/mergelink/mergetest"
)

// Run time bounds: a real user has the 30 minutes of a link token.
const (
	onlineTimeout  = 35 * time.Minute
	offlineTimeout = time.Minute
)

// Lines the command prints, which its tests and CI look for.
const (
	magicLinkLine = "Magic link: "
	resultLine    = "Tool result: "
)

// flags are the command line.
type flags struct {
	toolPack, user, tool, args, addr, region string
}

// run runs the command with the command-line args (without the program
// name) and the environment env, and returns the exit status. extra
// options go to the client after the region's, so that a test can point it
// at mergetest.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer, extra ...mergelink.Option) int {
	fs := flag.NewFlagSet("agentmcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	fs.StringVar(&f.toolPack, "tool-pack", "", "the tool pack's id (with MERGE_API_KEY and -user)")
	fs.StringVar(&f.user, "user", "", "the registered user's id, a UUID (with MERGE_API_KEY and -tool-pack)")
	fs.StringVar(&f.tool, "tool", "linear_create_issue", "the tool the agent calls")
	fs.StringVar(&f.args, "args", `{"title": "Fix the login page"}`, "the tool's arguments, a JSON object")
	fs.StringVar(&f.addr, "addr", "", "where to serve the callback: a loopback address (default 127.0.0.1:8081 against Merge, any free port offline)")
	fs.StringVar(&f.region, "region", string(mergelink.RegionUS), "the region of your Merge organization: us or eu")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: agentmcp [-tool-pack ID -user ID] [flags]\n\n"+
			"Runs a scripted agent over a tool pack's MCP server: a tool call that needs\n"+
			"the user to connect, the magic link, the callback, and the call again.\n"+
			"Without %s it runs offline against mergetest, a fake Merge; with it,\n"+
			"-tool-pack and -user name the real tool pack and registered user.\n\n", cli.APIKeyEnv)
		fs.PrintDefaults()
	}
	if exit, done := cli.ParseFlags(fs, args, stderr); done {
		return exit
	}
	toolArgs, err := parseArgs(f.args)
	if err != nil {
		return cli.Report(stderr, "agentmcp", err, nil)
	}
	online := strings.TrimSpace(env(cli.APIKeyEnv)) != ""
	switch {
	case online && (f.toolPack == "" || f.user == ""):
		return cli.Report(stderr, "agentmcp", cli.Usage(errors.New("-tool-pack and -user are required with "+cli.APIKeyEnv+": the tool pack and registered user of your Merge organization")), nil)
	case !online && (f.toolPack != "" || f.user != ""):
		return cli.Report(stderr, "agentmcp", cli.Usage(errors.New("-tool-pack and -user name a real tool pack: set "+cli.APIKeyEnv+" to use it, or run without them for the offline demo")), nil)
	}
	if f.addr == "" {
		f.addr = "127.0.0.1:0"
		if online {
			f.addr = "127.0.0.1:8081"
		}
	}
	if _, err := cli.LoopbackPort(f.addr); err != nil {
		return cli.Report(stderr, "agentmcp", err, nil)
	}

	if !online {
		ctx, cancel := context.WithTimeout(ctx, offlineTimeout)
		defer cancel()
		if err := runOffline(ctx, stdout, f, toolArgs, mergetest.NewServer); err != nil {
			return cli.Report(stderr, "agentmcp", err, nil)
		}
		return cli.ExitOK
	}
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	c, err := cli.NewClient(env, f.region, extra...)
	if err != nil {
		return cli.Report(stderr, "agentmcp", err, nil)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return cli.Report(stderr, "agentmcp", fmt.Errorf("serving the callback: %w", err), nil)
	}
	local := startLocal(ln, nil)
	defer local.stop()
	fmt.Fprintf(stdout, "agentmcp: a scripted agent on tool pack %s for registered user %s.\n", f.toolPack, f.user)
	a := &agent{out: stdout, local: local}
	if err := a.journey(ctx, c, f.toolPack, f.user, f.tool, toolArgs, nil); err != nil {
		return cli.Report(stderr, "agentmcp", err, map[string]string{"toolPackID": "-tool-pack", "registeredUserID": "-user"})
	}
	return cli.ExitOK
}

// parseArgs decodes the -args flag.
func parseArgs(raw string) (map[string]any, error) {
	var args map[string]any
	if err := json.Unmarshal([]byte(raw), &args); err != nil || args == nil {
		return nil, cli.Usage(fmt.Errorf("-args: want a JSON object such as {\"title\": \"Fix the login page\"}: %v", err))
	}
	return args, nil
}

// agent is the scripted agent: it numbers the steps it prints.
type agent struct {
	out   io.Writer
	local *local
	step  int
}

func (a *agent) say(format string, args ...any) {
	a.step++
	fmt.Fprintf(a.out, "%d. "+format+"\n", append([]any{a.step}, args...)...)
}

// journey connects to the tool pack for the user, calls tool, and, when
// the user must connect first, prints the magic link with a callback to
// the local server and a fresh state, lets browse open it (offline; nil
// online, where a person does), waits for the callback and for the
// credential.created webhook when the local server receives them, and
// calls the tool again.
func (a *agent) journey(ctx context.Context, c *mergelink.Client, toolPack, user, tool string, args map[string]any, browse func(context.Context, string) error) error {
	s, err := agentmcp.Connect(ctx, c, toolPack, user)
	if err != nil {
		return fmt.Errorf("connecting to the MCP server: %w", err)
	}
	defer s.Close()
	// Without an allowed callback origin Merge skips the redirect back:
	// register the local server's at every start (an origin registered
	// before is kept, so this is safe to repeat).
	o, created, err := c.AgentHandler().RegisterCallbackOrigin(ctx, a.local.url)
	if err != nil {
		return fmt.Errorf("registering the callback origin: %w", err)
	}
	a.say("Callback origin %s %s", o.Origin, map[bool]string{true: "registered", false: "already registered"}[created])
	tools, err := s.Tools(ctx)
	if err != nil {
		return err
	}
	a.say("Connected to the tool pack's MCP server and listed %d tools (%s)", len(tools), describe(tools, tool))

	res, err := s.Call(ctx, tool, args)
	if err != nil {
		return fmt.Errorf("calling %s: %w", tool, err)
	}
	if res.NeedsAuth() {
		a.say("Called %s: the user must connect %s first. Agent Handler says: %s", tool, orUnknown(res.Connector), res.Auth.Message)
		state, err := agenthandler.NewState()
		if err != nil {
			return err
		}
		callbackURL := a.local.url + callbackPath + "?state=" + state
		link, err := agenthandler.AppendCallbackURL(res.Auth.MagicLinkURL, callbackURL)
		if err != nil {
			return err
		}
		a.local.expect(state)
		a.say("Send the user this link; the browser then comes back to %s%s with the state checked:", a.local.url, callbackPath)
		fmt.Fprintln(a.out, "   "+magicLinkLine+link)
		if browse != nil {
			if err := browse(ctx, link); err != nil {
				return err
			}
			a.say("The user opened the link and clicked Connect (offline, an HTTP client plays the browser)")
		} else {
			fmt.Fprintln(a.out, "   Waiting for the callback (the link works for 30 minutes; Ctrl-C to stop)...")
		}
		if err := a.waitConnected(ctx, s, user, res.Connector); err != nil {
			return err
		}
		if res, err = s.Call(ctx, tool, args); err != nil {
			return fmt.Errorf("calling %s again: %w", tool, err)
		}
		if res.NeedsAuth() {
			return fmt.Errorf("%s still asks the user to connect %s: run again for a new link", tool, orUnknown(res.Connector))
		}
		if res.Refreshed {
			tools, err := s.Tools(ctx)
			if err != nil {
				return err
			}
			a.say("Listed the tools again before calling, as Merge asks after a connection: %d tools (%s)", len(tools), describe(tools, tool))
		}
	}
	if res.IsError {
		return fmt.Errorf("%s failed: %s", tool, res.Text())
	}
	a.say("Called %s:", tool)
	fmt.Fprintln(a.out, resultLine+res.Text())
	return nil
}

// waitConnected waits for the callback and, when the local server
// receives webhooks, for the credential.created webhook of user, and tells
// the session after each, so that its next call lists the tools again.
func (a *agent) waitConnected(ctx context.Context, s *agentmcp.Session, user, connector string) error {
	callback, webhook := a.local.callbacks, a.local.credentials
	for callback != nil || webhook != nil {
		select {
		case res := <-callback:
			callback = nil
			if !res.Succeeded() {
				return fmt.Errorf("the callback came back with status %q: the user did not connect; run again for a new link", res.Status)
			}
			s.Invalidate()
			a.say("Callback received, state verified: status %s", res.Status)
		case ev := <-webhook:
			cred, _ := ev.Credential()
			if cred.RegisteredUser.ID != user || (connector != "" && cred.Connector.Slug != connector) {
				continue // another user's or connector's
			}
			webhook = nil
			s.Invalidate()
			a.say("Webhook %s received, signature verified: %s connected for registered user %s", ev.Type(), cred.Connector.Slug, cred.RegisteredUser.ID)
		case <-ctx.Done():
			return fmt.Errorf("waiting for the user to connect: %w", ctx.Err())
		}
	}
	return nil
}

// describe says whether tools lists tool, and how many authenticate tools
// it lists: one per connector the user has not connected.
func describe(tools []agentmcp.Tool, tool string) string {
	listed, auth := "not listed", 0
	for _, t := range tools {
		if t.Name == tool {
			listed = "listed"
		}
		if strings.HasPrefix(t.Name, "authenticate_") {
			auth++
		}
	}
	return fmt.Sprintf("%s %s, %d authenticate_* tools", tool, listed, auth)
}

func orUnknown(connector string) string {
	if connector == "" {
		return "a connector"
	}
	return connector
}

// localURL returns the local server's URL for ln: http://localhost:PORT,
// the one plain http origin Merge allows for a callback.
func localURL(ln net.Listener) string {
	return "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
