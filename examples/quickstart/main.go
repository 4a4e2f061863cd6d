// Command quickstart runs the whole Magic Link journey of mergelink.
//
// Without MERGE_API_KEY it runs offline, against mergetest, an in-process
// fake Merge: it starts a webhook receiver, creates a Magic Link, completes
// it as the end user would in a browser, receives the signed webhooks,
// reads the Linked Account's details and sync status and lists its
// employees with the account token they carry, and prints that token,
// masked. Its last line is
//
//	account token received: XXXX…
//
// With MERGE_API_KEY set it creates a real Magic Link for the end user the
// flags describe and prints its URL and expiry:
//
//	MERGE_API_KEY=... go run ./examples/quickstart -email jane@acme.example \
//		-org Acme -origin-id acme-42 -categories hris
//
// It exits with status 1 when a step fails and 2 for bad flags or input.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
