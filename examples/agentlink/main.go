// Command agentlink connects a user's account to an AI agent through
// Merge's Agent Handler. It registers the user, creates a link token whose
// callback URL points at a small server of its own with a fresh state,
// prints the magic link URL for the user to open, and serves the callback:
// the state must be the one sent, and it is accepted once.
//
//	export MERGE_API_KEY=...
//	go run ./examples/agentlink -user-id user-1234 -user-name Yash -connector linear
//
// It serves the callback on a loopback address (127.0.0.1:8081 by default)
// at http://localhost:PORT, the one plain http origin Merge allows. Add that
// origin (http://localhost:8081 by default) to the allowed callback origins
// in the Merge dashboard (Settings, API Keys) first: Merge documents no API
// for them, and skips the redirect to an origin it does not allow. It
// checks its input before listening.
//
// With MERGE_AGENT_WEBHOOK_KEY set to the verification key of Agent
// Handler's webhooks, it also receives them at /webhooks/agent on the same
// server (point Agent Handler's webhook there, through a tunnel), and waits
// for the credential.created webhook of the user's connector as well as
// the callback: the two travel separately, the webhook from Merge's
// servers and the callback through the user's browser, so it says which
// came first.
//
// It exits when the callback (and webhook) arrived: with status 0 when the
// user connected, 1 when not or when a step fails, and 2 for bad flags or
// input.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
