// Command webhookserver receives Merge webhooks. It verifies each one's
// signature with the keys in MERGE_WEBHOOK_KEYS and keeps the account tokens
// that LinkedAccount webhooks carry, in memory, by Linked Account id and by
// end user origin id. It logs to stderr, and only masked tokens.
//
//	export MERGE_WEBHOOK_KEYS=...   # Merge Dashboard, Webhooks, Security
//	go run ./examples/webhookserver -addr 127.0.0.1:8080
//
// Then point a Merge webhook at http://HOST:PORT/webhooks (through a tunnel
// when the server runs on your machine). During a key rotation, give both
// keys, comma-separated: a webhook signed with either verifies.
//
// It serves until interrupted (SIGINT or SIGTERM), and exits with status 2 when the keys are
// missing or a flag is wrong.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}
