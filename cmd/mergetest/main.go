// Command mergetest serves mergetest, mergelink's fake Merge, on a given
// address for tests in any language, with an HTTP control API under
// /_mergetest/v1 that plays the end user and Merge's dashboard. README.md
// documents its flags and every control.
//
//	go run github.com/mergelink/mergelink/cmd/mergetest@latest -addr 127.0.0.1:12180
//
// On start it prints one line per value, NAME=value (MERGETEST_URL,
// MERGETEST_UNIFIED_URL, MERGETEST_AGENT_URL, MERGETEST_CONTROL_URL,
// MERGETEST_API_KEY, MERGETEST_TEST_API_KEY), or with -json one JSON object;
// then it serves until SIGINT or SIGTERM, and waits for the webhooks queued
// (at most mergetest.DefaultCloseWait) before it exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mergelink/mergelink/mergetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mergetest:", strings.TrimPrefix(err.Error(), "mergetest: "))
		os.Exit(2)
	}
}

// list is a flag that may be given several times.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// endpoints is what run prints on start.
type endpoints struct {
	URL        string `json:"url"`
	Unified    string `json:"unified"`
	Agent      string `json:"agent"`
	Control    string `json:"control"`
	APIKey     string `json:"api_key"`
	TestAPIKey string `json:"test_api_key"`
}

// run parses args, starts the server, prints its endpoints to stdout and
// serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mergetest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		hooks, agentHooks, origins list
		addr                       = fs.String("addr", "127.0.0.1:12180", "`host:port` to listen on; port 0 picks a free one")
		apiKey                     = fs.String("api-key", mergetest.TestAPIKey, "the production API `key`")
		testKey                    = fs.String("test-api-key", mergetest.TestEnvironmentAPIKey, "the test-environment API `key`")
		hookKey                    = fs.String("webhook-key", "", "the `key` that signs the Unified API's webhooks (needed with -webhook)")
		agentKey                   = fs.String("agent-webhook-key", "", "the `key` that signs Agent Handler's webhooks (needed with -agent-webhook)")
		rateLimit                  = fs.Int("rate-limit", 0, "enforce Merge's rate limits: `requests` per minute per Linked Account, and the IP block (0: off)")
		retryFactor                = fs.Float64("merge-retry-schedule", 0, "retry webhooks on Merge's schedule scaled by this `factor`, in (0, 1] (0: mergetest's fast retries)")
		ownStatuses                = fs.Bool("own-callback-statuses", false, "send mergetest's own cancelled and declined callback statuses")
		seed                       = fs.Uint64("seed", 0, "make ids and tokens from this `seed`, the same in every run that makes the same calls in the same order (0: random)")
		asJSON                     = fs.Bool("json", false, "print the endpoints and keys as one JSON object instead of NAME=value lines")
	)
	fs.Var(&hooks, "webhook", "a `URL` the Unified API's webhooks go to; give it several times for several targets, sent to in turn")
	fs.Var(&agentHooks, "agent-webhook", "a `URL` Agent Handler's webhooks go to; give it several times for several targets, sent to in turn")
	fs.Var(&origins, "allowed-origin", "an allowed Agent Handler callback `origin`, such as http://localhost:3000; may be repeated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))
	}
	if (len(hooks) > 0) != (*hookKey != "") {
		return errors.New("-webhook and -webhook-key go together: give the URLs and the key that signs for them")
	}
	if (len(agentHooks) > 0) != (*agentKey != "") {
		return errors.New("-agent-webhook and -agent-webhook-key go together: give the URLs and the key that signs for them")
	}
	opts := []mergetest.ServerOption{
		mergetest.WithControlAPI(),
		mergetest.WithAPIKey(*apiKey),
		mergetest.WithTestEnvironmentAPIKey(*testKey),
		mergetest.WithAllowedCallbackOrigins(origins...),
	}
	if len(hooks) > 0 {
		opts = append(opts, mergetest.WithWebhookTargets(*hookKey, hooks...))
	}
	if len(agentHooks) > 0 {
		opts = append(opts, mergetest.WithAgentWebhookTargets(*agentKey, agentHooks...))
	}
	if *rateLimit != 0 {
		opts = append(opts, mergetest.WithRateLimits(*rateLimit))
	}
	if *retryFactor != 0 {
		opts = append(opts, mergetest.WithMergeRetrySchedule(*retryFactor))
	}
	if *seed != 0 {
		opts = append(opts, mergetest.WithSeed(*seed))
	}
	if *ownStatuses {
		opts = append(opts, mergetest.WithOwnCallbackStatuses())
	}
	srv, err := mergetest.Listen(*addr, opts...)
	if err != nil {
		return err
	}
	defer srv.Close()

	ep := endpoints{
		URL:        srv.URL(),
		Unified:    srv.URL() + mergetest.UnifiedPath,
		Agent:      srv.URL() + mergetest.AgentPath,
		Control:    srv.URL() + mergetest.ControlPath,
		APIKey:     srv.APIKey(),
		TestAPIKey: srv.TestEnvironmentAPIKey(),
	}
	if *asJSON {
		err = json.NewEncoder(stdout).Encode(ep)
	} else {
		_, err = fmt.Fprintf(stdout, "MERGETEST_URL=%s\nMERGETEST_UNIFIED_URL=%s\nMERGETEST_AGENT_URL=%s\nMERGETEST_CONTROL_URL=%s\nMERGETEST_API_KEY=%s\nMERGETEST_TEST_API_KEY=%s\n",
			ep.URL, ep.Unified, ep.Agent, ep.Control, ep.APIKey, ep.TestAPIKey)
	}
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
