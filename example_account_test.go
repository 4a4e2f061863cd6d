package mergelink_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

// exampleLinkedAccount starts a mergetest server, so that the example runs
// offline, and links one HRIS account on it. Real code leaves out the
// server: its client is made with the API key alone, and the account token
// comes from the token exchange or the LinkedAccount.linked webhook.
func exampleLinkedAccount() (*mergetest.Server, *mergelink.Client, string) {
	clock := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	srv := mergetest.NewServer(mergetest.WithClock(func() time.Time { return clock }))
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	lt, err := c.CreateLinkToken(context.Background(), mergelink.LinkTokenParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "user-42",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
	})
	if err != nil {
		log.Fatal(err)
	}
	acct, err := srv.CompleteLink(lt.LinkToken, "bamboohr")
	if err != nil {
		log.Fatal(err)
	}
	return srv, c, acct.AccountToken
}

// Employee holds the fields of Merge's HRIS Employee that this program
// uses; Paginate decodes each item of the list into it.
type Employee struct {
	ID               string `json:"id"`
	FirstName        string `json:"first_name"`
	LastName         string `json:"last_name"`
	WorkEmail        string `json:"work_email"`
	EmploymentStatus string `json:"employment_status"`
}

// List an HRIS account's employees, page after page, into a struct of your
// own.
func ExamplePaginate() {
	srv, c, accountToken := exampleLinkedAccount()
	defer srv.Close()
	ctx := context.Background()

	acct := c.Account(mergelink.CategoryHRIS, accountToken)
	for e, err := range mergelink.Paginate[Employee](ctx, acct, "employees", url.Values{"page_size": {"2"}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.FirstName, e.LastName, e.WorkEmail)
	}
	// Output:
	// Ada Lovelace ada.lovelace@exampleorg.example
	// Grace Hopper grace.hopper@exampleorg.example
	// Alan Turing alan.turing@exampleorg.example
	// Katherine Johnson katherine.johnson@exampleorg.example
	// Edsger Dijkstra edsger.dijkstra@exampleorg.example
}

// Read a Linked Account's details and the state of its syncs, and send its
// end user a Magic Link when Merge needs them to link again.
func ExampleAccount_Details() {
	srv, c, accountToken := exampleLinkedAccount()
	defer srv.Close()
	ctx := context.Background()

	acct := c.Account(mergelink.CategoryHRIS, accountToken)
	d, err := acct.Details(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Integration, d.EndUserOriginID, d.Status)
	for st, err := range acct.SyncStatus(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		if st.ModelID == "hris.Employee" {
			fmt.Println(st.ModelID, st.Status, st.IsInitialSync)
		}
	}
	if d.Status == mergelink.LinkedAccountRelinkNeeded {
		ml, err := c.CreateMagicLink(ctx, d.RelinkParams())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("send", ml.URL)
	}
	// Output:
	// BambooHR user-42 COMPLETE
	// hris.Employee SYNCING true
}
