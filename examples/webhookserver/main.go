// Command webhookserver receives Merge webhooks. It verifies each one's
// signature with the keys in MERGE_WEBHOOK_KEYS and keeps the account tokens
// that LinkedAccount webhooks carry, by Linked Account id and by end user
// origin id, sealed with AES-256-GCM under the key in TOKEN_SEALING_KEY. It
// keeps them, and the deliveries it processed (so that Merge's retries run
// once), in a SQLite file (-db), or in PostgreSQL when DATABASE_URL is set:
// several copies on one PostgreSQL then form a fleet behind a load
// balancer, each delivery processed once. It logs to stderr, and only
// masked tokens.
//
//	export MERGE_WEBHOOK_KEYS=...   # Merge Dashboard, Webhooks, Security
//	export TOKEN_SEALING_KEY=$(openssl rand -base64 32)   # keep it: it opens the stored tokens
//	cd examples/webhookserver && go run . -addr 127.0.0.1:8080
//
// It is a module of its own, so that its database drivers (pgx and
// modernc.org/sqlite, pure Go) stay out of the SDK's go.mod.
//
// Then point a Merge webhook at http://HOST:PORT/webhooks (through a tunnel
// when the server runs on your machine). During a key rotation, give both
// keys, comma-separated: a webhook signed with either verifies.
//
// When a LinkedAccount.deleted webhook arrives, it forgets that account's
// token. To disconnect an account, as a Disconnect button in your app
// would, run it once with -disconnect and the Linked Account's id, and
// MERGE_API_KEY set: it deletes the account at Merge with its stored token
// (Account.Delete), forgets the token, and exits:
//
//	MERGE_API_KEY=... go run . -disconnect 4ac10f37-c656-4e9a-89a1-1b04f9e9a343
//
// With -queue, deliveries go through a River queue (riverinbox) in the
// same database: the server answers Merge once a delivery is queued, and
// a worker stores or drops the token and completes the job in one
// transaction, so each delivery's effect happens once. -queue both
// receives and works in one process; -queue receive and -queue work split
// them across processes (work listens on nothing and needs no webhook
// key). The default, -queue inline, processes while Merge waits:
//
//	go run . -queue receive -addr 127.0.0.1:8080 &
//	go run . -queue work
//
// It serves until interrupted (SIGINT or SIGTERM), and exits with status 2
// when a key is missing or a flag is wrong.
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
