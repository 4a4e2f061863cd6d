package agenthandler_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

// An app lists the connectors its users can connect, reading page after
// page as the loop goes on.
func ExampleClient_ListConnectors() {
	// mergetest stands in for Merge, so the example runs offline; against
	// Merge, use only your API key.
	srv := mergetest.NewServer()
	defer srv.Close()
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for k, err := range c.AgentHandler().ListConnectors(context.Background(), agenthandler.ListConnectorsParams{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s (%s): %d tools\n", k.Name, k.Slug, len(k.Tools))
		if n++; n == 3 {
			break // no further page is read
		}
	}
	// Output:
	// Asana (asana): 2 tools
	// Confluence (confluence): 2 tools
	// GitHub (github): 3 tools
}

// A user disconnects a connector; the app deletes the credential, and
// Agent Handler's tools for that connector ask to authenticate again.
func ExampleClient_DeleteCredential() {
	srv := mergetest.NewServer()
	defer srv.Close()
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ah := c.AgentHandler()
	ctx := context.Background()
	u, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "user-1234", OriginUserName: "Yash"})
	if err != nil {
		log.Fatal(err)
	}
	lt, err := ah.CreateLinkToken(ctx, u.ID, agenthandler.LinkTokenParams{Connector: "linear"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := srv.CompleteAgentLink(lt.MagicLinkURL); err != nil { // the user connects
		log.Fatal(err)
	}

	if err := ah.DeleteCredential(ctx, u.ID, "linear"); err != nil {
		log.Fatal(err)
	}
	err = ah.DeleteCredential(ctx, u.ID, "linear")
	fmt.Println("again:", errors.Is(err, mergelink.ErrNotFound))
	// Output:
	// again: true
}

// An agent connects to Merge's MCP server for one user and tool pack; the
// URL needs no request.
func ExampleClient_MCPURL() {
	c, err := mergelink.NewClient("your-api-key", mergelink.WithRegion(mergelink.RegionEU))
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.AgentHandler().MCPURL("9b2f4c1e-7d3a-4e8b-a6f0-1c2d3e4f5a6b", "41f11808-5387-4be5-9af2-852a372d61e3")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)

	apac, _ := mergelink.NewClient("your-api-key", mergelink.WithRegion(mergelink.RegionAPAC))
	_, err = apac.AgentHandler().MCPURL("9b2f4c1e-7d3a-4e8b-a6f0-1c2d3e4f5a6b", "41f11808-5387-4be5-9af2-852a372d61e3")
	fmt.Println(errors.Is(err, mergelink.ErrNoAgentHandlerHost))
	// Output:
	// https://ah-api-eu.merge.dev/api/v1/tool-packs/9b2f4c1e-7d3a-4e8b-a6f0-1c2d3e4f5a6b/registered-users/41f11808-5387-4be5-9af2-852a372d61e3/mcp/
	// true
}
