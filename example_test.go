package mergelink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/mergelink/mergelink"
)

// exampleMerge starts a tiny stand-in for Merge's Unified API on loopback,
// so that the examples run offline. Real code leaves out WithBaseURL.
func exampleMerge() *httptest.Server {
	names := map[string]string{"bamboohr": "BambooHR", "greenhouse": "Greenhouse"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{category}/v1/link-token", func(w http.ResponseWriter, r *http.Request) {
		var p mergelink.LinkTokenParams
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, `{"detail":"bad JSON"}`, http.StatusBadRequest)
			return
		}
		lt := mergelink.LinkToken{LinkToken: "lt_" + p.EndUserOriginID, IntegrationName: names[p.Integration]}
		if p.ShouldCreateMagicLinkURL {
			lt.MagicLinkURL = "https://link.merge.dev/magic/" + lt.LinkToken
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(lt)
	})
	mux.HandleFunc("GET /api/{category}/v1/account-token/{public}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"account_token":"secret-for-%s","id":"0496d4c2-42e6-4072-80b3-7b69bfdc76fd",
			"integration":{"name":"BambooHR","categories":["hris"],"slug":"bamboohr","color":"#73C41D"}}`, r.PathValue("public"))
	})
	mux.HandleFunc("GET /api/hris/v1/linked-accounts", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			fmt.Fprint(w, `{"next":"cD0y","results":[
				{"id":"a1","status":"COMPLETE","integration":{"name":"BambooHR"}}]}`)
			return
		}
		fmt.Fprint(w, `{"next":null,"results":[{"id":"a2","status":"RELINK_NEEDED","integration":{"name":"Greenhouse"}}]}`)
	})
	return httptest.NewServer(mux)
}

func ExampleClient_CreateLinkToken() {
	srv := exampleMerge()
	defer srv.Close()
	c, err := mergelink.NewClient("YOUR_MERGE_API_KEY", mergelink.WithBaseURL(srv.URL+"/api"))
	if err != nil {
		log.Fatal(err)
	}

	lt, err := c.CreateLinkToken(context.Background(), mergelink.LinkTokenParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "user-42",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS, mergelink.CategoryATS},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Hand the link token to Merge Link in your frontend.
	fmt.Println(lt.LinkToken)
	// Output: lt_user-42
}

func ExampleClient_CreateLinkToken_invalid() {
	c, err := mergelink.NewClient("YOUR_MERGE_API_KEY")
	if err != nil {
		log.Fatal(err)
	}
	// Nothing is sent: every problem comes back at once.
	_, err = c.CreateLinkToken(context.Background(), mergelink.LinkTokenParams{
		EndUserEmailAddress: "jane@example.com",
		EndUserOriginID:     "user-42",
		Categories:          []mergelink.Category{"payroll"},
		LinkExpiryMins:      1440,
	})
	fmt.Println(err)
	// Output: mergelink: invalid LinkTokenParams: EndUserOrganizationName: required; Categories[0]: must be one of hris, ats, accounting, ticketing, crm, mktg, filestorage, knowledgebase, chat, calendar, email (got "payroll"); LinkExpiryMins: must be 30 to 720 minutes (up to 10080 with a Magic Link URL), or 0 for the default (got 1440)
}

func ExampleClient_CreateMagicLink() {
	srv := exampleMerge()
	defer srv.Close()
	c, err := mergelink.NewClient("YOUR_MERGE_API_KEY", mergelink.WithBaseURL(srv.URL+"/api"))
	if err != nil {
		log.Fatal(err)
	}

	ml, err := c.CreateMagicLink(context.Background(), mergelink.MagicLinkParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "user-42",
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Send the URL to the end user; it lasts 7 days unless LinkExpiryMins
	// says otherwise.
	fmt.Println(ml.URL)
	fmt.Println("expires in", time.Until(ml.ExpiresAt).Round(time.Hour))
	// Output:
	// https://link.merge.dev/magic/lt_user-42
	// expires in 168h0m0s
}

// Relinking an end user's account, whose credentials expired, straight to
// its integration: the same EndUserOriginID keeps the Linked Account and
// its account token, and Integration skips the integration picker.
func ExampleClient_CreateMagicLink_relinkOneIntegration() {
	srv := exampleMerge()
	defer srv.Close()
	c, err := mergelink.NewClient("YOUR_MERGE_API_KEY", mergelink.WithBaseURL(srv.URL+"/api"))
	if err != nil {
		log.Fatal(err)
	}

	ml, err := c.CreateMagicLink(context.Background(), mergelink.MagicLinkParams{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "user-42", // as when the account was first linked
		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
		Integration:             "bamboohr",
		LinkExpiryMins:          24 * 60,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ml.IntegrationName, ml.URL)
	fmt.Println("expires in", time.Until(ml.ExpiresAt).Round(time.Hour))
	// Output:
	// BambooHR https://link.merge.dev/magic/lt_user-42
	// expires in 24h0m0s
}

func ExampleClient_ExchangeAccountToken() {
	srv := exampleMerge()
	defer srv.Close()
	c, err := mergelink.NewClient("YOUR_MERGE_API_KEY", mergelink.WithBaseURL(srv.URL+"/api"))
	if err != nil {
		log.Fatal(err)
	}

	// publicToken comes from Merge Link's onSuccess callback in your
	// frontend.
	publicToken := "pub_123"
	at, err := c.ExchangeAccountToken(context.Background(), mergelink.CategoryHRIS, publicToken)
	if err != nil {
		log.Fatal(err)
	}
	// Store at.AccountToken as a secret; printing at hides it.
	fmt.Println(at.Integration.Name, at.ID)
	fmt.Printf("%+v\n", at)
	// Output:
	// BambooHR 0496d4c2-42e6-4072-80b3-7b69bfdc76fd
	// {AccountToken:[hidden] ID:0496d4c2-42e6-4072-80b3-7b69bfdc76fd Integration:bamboohr}
}

func ExampleClient_ListLinkedAccounts() {
	srv := exampleMerge()
	defer srv.Close()
	c, err := mergelink.NewClient("YOUR_MERGE_API_KEY", mergelink.WithBaseURL(srv.URL+"/api"))
	if err != nil {
		log.Fatal(err)
	}

	for acct, err := range c.ListLinkedAccounts(context.Background(), mergelink.LinkedAccountsParams{PageSize: 1}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(acct.ID, acct.Integration.Name, acct.Status)
	}
	// Output:
	// a1 BambooHR COMPLETE
	// a2 Greenhouse RELINK_NEEDED
}
