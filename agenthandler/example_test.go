package agenthandler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// An agent asks for a magic link for a registered user, with a callback URL
// and a state that brings the browser back to the app.
func ExampleClient_CreateLinkToken() {
	// A stand-in for Merge's Agent Handler, so the example runs offline;
	// against Merge, leave out WithAgentHandlerBaseURL.
	merge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		fmt.Println("Merge got:", r.Method, strings.TrimPrefix(r.URL.Path, "/api/v1"), body["connector"], body["callback_url"])
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"link_token":"lt-1","magic_link_url":"https://ah.merge.dev/link/lt-1"}`)
	}))
	defer merge.Close()

	c, err := mergelink.NewClient("your-api-key",
		mergelink.WithAgentHandlerBaseURL(merge.URL+"/api/v1"),
		mergelink.WithAllowedCallbackOrigins("https://myapp.com"))
	if err != nil {
		log.Fatal(err)
	}
	state, err := agenthandler.NewState()
	if err != nil {
		log.Fatal(err)
	}
	// Keep state on the server with the user's session, for the callback.
	lt, err := c.AgentHandler().CreateLinkToken(context.Background(), "41f11808-5387-4be5-9af2-852a372d61e3",
		agenthandler.LinkTokenParams{
			Connector:   "linear",
			CallbackURL: "https://myapp.com/agent/callback?session=42",
			State:       state,
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("send the user:", lt.MagicLinkURL)
	// Output:
	// Merge got: POST /registered-users/41f11808-5387-4be5-9af2-852a372d61e3/link-token/ linear https://myapp.com/agent/callback?session=42
	// send the user: https://ah.merge.dev/link/lt-1
}

// A callback handler keeps each session's state on the server and uses it
// up on the first good callback, so a forged or replayed one is refused.
func ExampleParseCallback() {
	var mu sync.Mutex
	pending := map[string]string{} // session -> state sent with its link token

	callback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		session := q.Get("session")
		mu.Lock()
		defer mu.Unlock()
		res, err := agenthandler.ParseCallback(q, pending[session])
		if err != nil {
			http.Error(w, "invalid callback", http.StatusForbidden)
			return
		}
		delete(pending, session)
		fmt.Fprintln(w, "connected:", res.Succeeded())
	})

	state, err := agenthandler.NewState()
	if err != nil {
		log.Fatal(err)
	}
	pending["42"] = state
	forged := "/agent/callback?session=42&status=success&state=guess"
	good := "/agent/callback?session=42&status=success&state=" + url.QueryEscape(state)
	for _, target := range []string{forged, good, good} {
		rec := httptest.NewRecorder()
		callback.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 403 invalid callback
	// 200 connected: true
	// 403 invalid callback
}

// A callback URL can also be added to a magic link URL after the fact.
func ExampleAppendCallbackURL() {
	u, err := agenthandler.AppendCallbackURL("https://ah.merge.dev/link?token=abc", "myapp:///integrations/complete")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	// Output:
	// https://ah.merge.dev/link?token=abc&callback_url=myapp%3A%2F%2F%2Fintegrations%2Fcomplete
}

// An agent reads an authenticate_* tool result and passes the link on.
func ExampleParseAuthenticateResult() {
	r, err := agenthandler.ParseAuthenticateResult([]byte(`{"message":"Connect Linear here.","magic_link_url":"https://ah.merge.dev/link/lt-2","link_token":"lt-2"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Message, r.MagicLinkURL)
	// Output:
	// Connect Linear here. https://ah.merge.dev/link/lt-2
}
