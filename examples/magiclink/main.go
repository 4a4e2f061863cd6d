// Command magiclink creates a Magic Link URL, as the Merge Dashboard's
// "Send Link via URL" button does: it takes the end user's details and the
// categories to offer, and prints the URL to send them and when it expires.
//
//	export MERGE_API_KEY=...
//	go run ./examples/magiclink -email jane@acme.example -org Acme \
//		-origin-id acme-42 -categories hris,ats
//
// -json prints {"url", "expires_at", "integration_name"} instead. Input the
// SDK refuses is listed one problem per line, before any request, with exit
// status 2 (as for bad flags or a missing MERGE_API_KEY); a failed request
// exits with status 1.
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
