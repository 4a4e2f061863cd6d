// Command sdk creates one link token with the mergelink SDK and prints it.
// It reads the API key from MERGE_API_KEY. With its twin in ../bare, which
// does the same with net/http alone, it measures what the SDK adds to a
// program's size.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mergelink/mergelink"
)

func main() {
	c, err := mergelink.NewClient(os.Getenv("MERGE_API_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lt, err := c.CreateLinkToken(context.Background(), mergelink.LinkTokenParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "user-42",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(lt.LinkToken)
}
