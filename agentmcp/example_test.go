package agentmcp_test

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

// Connect to a tool pack, call a tool that needs the user to connect
// Linear first, and call it again once they have. mergetest and mcptest
// play Merge here; against Merge, c is your client and the ids are your
// tool pack's and registered user's.
func ExampleConnect() {
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
	ctx := context.Background()
	user, _, err := c.AgentHandler().CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "user-1", OriginUserName: "Ada"})
	if err != nil {
		log.Fatal(err)
	}

	s, err := agentmcp.Connect(ctx, c, pack.ID(), user.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	args := map[string]any{"title": "Fix the login page"}
	res, err := s.Call(ctx, "linear_create_issue", args)
	if err != nil {
		log.Fatal(err)
	}
	if res.NeedsAuth() {
		fmt.Println("connect first:", res.Connector)
		link, err := agenthandler.AppendCallbackURL(res.Auth.MagicLinkURL, "https://myapp.example/agent/callback")
		if err != nil {
			log.Fatal(err)
		}
		// Send the user to link. Here mergetest plays the user.
		if _, err := srv.CompleteAgentLink(link); err != nil {
			log.Fatal(err)
		}
		if res, err = s.Call(ctx, "linear_create_issue", args); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("tools listed again:", res.Refreshed)
	fmt.Println(res.Text())
	// Output:
	// connect first: linear
	// tools listed again: true
	// {"id":"issue_000001","identifier":"LIN-1","title":"Fix the login page","url":"https://linear.app/mergetest/issue/LIN-1"}
}
