package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/examples/internal/cli"
)

// waiter waits for the two signs that a user connected: the callback, in
// the browser, and the credential.created webhook, from Merge's servers.
// Neither is ordered before the other, so it says which came first.
type waiter struct {
	stdout, stderr io.Writer
	// connector and userName name the link in messages; userID is the
	// registered user's Agent Handler id, which the webhook must carry.
	connector, userName, userID string
	// webhookWait bounds the wait for the webhook once the callback came.
	webhookWait time.Duration
}

// wait waits for the callback on callbacks and, when credentials is not
// nil, for the credential.created webhook of the user's connector on it,
// and returns the exit status. A failed callback ends the wait at once.
func (w waiter) wait(ctx context.Context, callbacks <-chan *agenthandler.CallbackResult, credentials <-chan connected) int {
	var first string
	var called, hooked bool
	var webhookDeadline <-chan time.Time
	for !called || (credentials != nil && !hooked) {
		select {
		case res := <-callbacks:
			if !res.Succeeded() {
				return cli.Report(w.stderr, "agentlink", fmt.Errorf("the callback came back with status %q: %s is not connected; run again for a new link", res.Status, w.connector), nil)
			}
			called, callbacks = true, nil
			if first == "" {
				first = "the callback"
			}
			fmt.Fprintf(w.stdout, "Callback received with the state sent (state verified): %s is connected for %s.\n", w.connector, w.userName)
			if credentials != nil && !hooked {
				fmt.Fprintf(w.stdout, "Waiting up to %s for the credential.created webhook...\n", w.webhookWait)
				t := time.NewTimer(w.webhookWait)
				defer t.Stop()
				webhookDeadline = t.C
			}
		case ev := <-credentials:
			if ev.user != w.userID || ev.connector != w.connector {
				continue // another user's or connector's
			}
			hooked, credentials = true, nil
			if first == "" {
				first = "the credential.created webhook"
			}
			fmt.Fprintf(w.stdout, "Webhook credential.created received (signature verified): %s is connected for %s.\n", w.connector, w.userName)
			if !called {
				fmt.Fprintln(w.stdout, "Waiting for the callback...")
			}
		case <-webhookDeadline:
			fmt.Fprintf(w.stderr, "agentlink: no credential.created webhook came within %s of the callback: check the webhook URL and its events under Connectors, Webhooks\n", w.webhookWait)
			return cli.ExitOK // the callback said the user connected
		case <-ctx.Done():
			missing := "callback"
			if called {
				missing = "credential.created webhook"
			}
			return cli.Report(w.stderr, "agentlink", fmt.Errorf("no %s came: %w", missing, ctx.Err()), nil)
		}
	}
	if hooked { // and called, or the loop would not have ended
		fmt.Fprintf(w.stdout, "Both arrived: %s came first.\n", first)
	}
	return cli.ExitOK
}
