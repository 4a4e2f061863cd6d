// Command agentmcp is a scripted AI agent (no model needed) that uses a
// Merge Agent Handler tool pack over MCP, through the agentmcp module, and
// goes through seed 002's journey: it connects to the tool pack's MCP
// server, lists the tools, calls a Linear tool and gets the answer that
// the user must first connect Linear, prints the magic link with a
// callback to its own local server and a fresh state, waits for the user
// to connect, lists the tools again, calls the tool again and prints its
// result.
//
// Without MERGE_API_KEY it runs offline, against mergetest and the fake
// tool pack of agentmcp/mcptest: it completes the link itself through the
// fake's hosted page, as a browser would, and receives both the callback
// (state checked) and the signed credential.created webhook. Its last line
// is
//
//	Tool result: {...}
//
// With MERGE_API_KEY, -tool-pack and -user it runs against real Merge and
// waits for you to open the link; register http://localhost:PORT (the
// port of -addr) as an allowed callback origin in Merge's dashboard first,
// or Merge skips the redirect:
//
//	cd examples/agentmcp
//	MERGE_API_KEY=... go run . -tool-pack TOOL_PACK_ID -user REGISTERED_USER_ID
//
// It exits with status 1 when a step fails and 2 for bad flags or input.
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
