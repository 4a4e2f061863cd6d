package mergetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

// post sends a JSON body with the server's API key and decodes the answer.
func post(srv *mergetest.Server, path, body string, out any) int {
	req, _ := http.NewRequest("POST", srv.URL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

// A Magic Link journey: create the link, let the end user connect, receive
// the signed webhooks with the account token.
func Example() {
	const key = "webhook-signing-key"
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if mergelink.VerifyWebhookSignature(body, r.Header.Get(mergelink.SignatureHeader), key) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
		}
	}))
	defer receiver.Close()
	srv := mergetest.NewServer(mergetest.WithWebhook(receiver.URL, key))
	defer srv.Close()

	var lt struct {
		LinkToken    string `json:"link_token"`
		MagicLinkURL string `json:"magic_link_url"`
	}
	status := post(srv, "/api/ats/v1/link-token", `{"end_user_email_address": "jane@example.com",
		"end_user_organization_name": "Example Organization", "end_user_origin_id": "12345678910",
		"categories": ["ats"], "should_create_magic_link_url": true, "link_expiry_mins": 10080}`, &lt)
	fmt.Println(status, strings.HasPrefix(lt.MagicLinkURL, srv.URL()+"/link/"))

	// What the end user does on the page at lt.MagicLinkURL.
	la, err := srv.CompleteLink(lt.LinkToken, "greenhouse")
	if err != nil {
		panic(err)
	}
	fmt.Println(la.EndUserOrganizationName, "connected", la.IntegrationName)

	deliveries, err := srv.WaitForDeliveries(context.Background(), 2)
	if err != nil {
		panic(err)
	}
	for _, d := range deliveries {
		fmt.Println(d.Event, d.StatusCode)
	}
	// Output:
	// 200 true
	// Example Organization connected Greenhouse
	// LinkedAccount.linked 200
	// LinkedAccount.synced_initial 200
}

// An Agent Handler link whose callback URL gets the state back.
func ExampleServer_CompleteAgentLink() {
	// The allowed callback origins are the dashboard's, given as an option.
	srv := mergetest.NewServer(mergetest.WithAllowedCallbackOrigins("https://myapp.com"))
	defer srv.Close()

	var link map[string]string
	var user struct{ ID string }
	post(srv, "/ah/api/v1/registered-users/", `{"origin_user_id": "user1234", "origin_user_name": "Yash"}`, &user)
	post(srv, "/ah/api/v1/registered-users/"+user.ID+"/link-token/",
		`{"connector": "linear", "callback_url": "https://myapp.com/cb", "state": "csrf-123"}`, &link)

	redirect, err := srv.CompleteAgentLink(link["magic_link_url"])
	if err != nil {
		panic(err)
	}
	fmt.Println(redirect)
	// Output:
	// https://myapp.com/cb?state=csrf-123&status=success
}
