// Command agentmcp is an agent's first MCP call through Agent Handler,
// offline: a registered user on mergetest, the fake tool pack of mcptest,
// a tool call that asks the user to connect Linear, the link completed,
// and the call again. The release rehearsal builds and runs it in a fresh
// module that requires only github.com/mergelink/mergelink/agentmcp,
// fetched from the rehearsal's proxy, on the oldest Go that agentmcp
// declares.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/agentmcp"
	"github.com/mergelink/mergelink/agentmcp/mcptest"
	"github.com/mergelink/mergelink/mergetest"
)

func main() {
	ctx := context.Background()
	srv := mergetest.NewServer()
	defer srv.Close()
	pack, err := mcptest.Serve(srv)
	if err != nil {
		log.Fatal(err)
	}
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	user, _, err := c.AgentHandler().CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "rehearsal-user", OriginUserName: "Ada Lovelace"})
	if err != nil {
		log.Fatal(err)
	}
	s, err := agentmcp.Connect(ctx, c, pack.ID(), user.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	tools, err := s.Tools(ctx)
	if err != nil {
		log.Fatal(err)
	}
	args := map[string]any{"title": "Fix the login page"}
	res, err := s.Call(ctx, "linear_create_issue", args)
	if err != nil {
		log.Fatal(err)
	}
	if !res.NeedsAuth() {
		log.Fatalf("the first call should ask to connect Linear, got %v", res)
	}
	if _, err := srv.CompleteAgentLink(res.Auth.MagicLinkURL); err != nil {
		log.Fatal(err)
	}
	if res, err = s.Call(ctx, "linear_create_issue", args); err != nil || res.NeedsAuth() {
		log.Fatalf("the call after connecting: %v, %v", res, err)
	}
	fmt.Printf("ok: agentmcp listed %d tools and called one after the link: %s\n", len(tools), res.Text())
}
