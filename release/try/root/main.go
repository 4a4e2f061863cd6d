// Command root is what a new user of github.com/mergelink/mergelink
// writes first: a Magic Link created against mergetest, offline. The
// release rehearsal builds and runs it in a fresh module that requires
// only the root module, fetched from the rehearsal's proxy.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

func main() {
	srv := mergetest.NewServer()
	defer srv.Close()
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ml, err := c.CreateMagicLink(context.Background(), mergelink.MagicLinkParams{
		EndUserEmailAddress:     "jane@acme.example",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "acme-42",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
	})
	if err != nil {
		log.Fatal(err)
	}
	acct, err := srv.CompleteLink(ml.URL, "bamboohr")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ok: mergelink %s made a Magic Link and mergetest linked %s\n", mergelink.Version, acct.ID)
}
