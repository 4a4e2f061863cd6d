package mergelink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// echoServer answers each call with values made from the request's own
// input, so that a client that mixed up two concurrent calls gets an answer
// that is not its own. It records every Idempotency-Key it sees.
type echoServer struct {
	t        *testing.T
	requests atomic.Int32
	mu       sync.Mutex
	keys     map[string]int // Idempotency-Key -> times seen
}

func (s *echoServer) register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/{category}/v1/link-token", s.linkToken)
	mux.HandleFunc("GET /api/{category}/v1/account-token/{token}", s.accountToken)
	mux.HandleFunc("GET /api/{category}/v1/linked-accounts", s.linkedAccounts)
	mux.HandleFunc("POST /ah/api/v1/registered-users/{id}/link-token/", s.agentLinkToken)
}

func (s *echoServer) answer(w http.ResponseWriter, status int, v any) {
	s.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.t.Errorf("encoding the answer: %v", err)
	}
}

func (s *echoServer) linkToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.keys[r.Header.Get("Idempotency-Key")]++
	s.mu.Unlock()
	var p struct {
		Origin string `json:"end_user_origin_id"`
		Magic  bool   `json:"should_create_magic_link_url"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		s.t.Errorf("decoding a link token request: %v", err)
	}
	out := map[string]string{"link_token": "lt-" + p.Origin}
	if p.Magic {
		out["magic_link_url"] = "https://app.merge.dev/link/" + p.Origin
	}
	s.answer(w, http.StatusCreated, out)
}

func (s *echoServer) accountToken(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.answer(w, http.StatusOK, map[string]any{
		"account_token": "at-" + token,
		"id":            "id-" + token,
		"integration":   map[string]string{"name": "BambooHR", "slug": "bamboohr"},
	})
}

// linkedAccounts answers in two pages, each with one account of the end
// user the query names.
func (s *echoServer) linkedAccounts(w http.ResponseWriter, r *http.Request) {
	origin := r.URL.Query().Get("end_user_origin_id")
	page := map[string]any{
		"next":    origin + "-2",
		"results": []map[string]string{{"id": origin + "-1", "end_user_origin_id": origin}},
	}
	if r.URL.Query().Get("cursor") == origin+"-2" {
		page = map[string]any{
			"next":    nil,
			"results": []map[string]string{{"id": origin + "-2", "end_user_origin_id": origin}},
		}
	}
	s.answer(w, http.StatusOK, page)
}

func (s *echoServer) agentLinkToken(w http.ResponseWriter, r *http.Request) {
	var p agenthandler.LinkTokenParams
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		s.t.Errorf("decoding an agent link token request: %v", err)
	}
	id := r.PathValue("id")
	s.answer(w, http.StatusCreated, map[string]string{
		"link_token":     "alt-" + id + "-" + p.Connector,
		"magic_link_url": "https://ah.merge.dev/link/" + id + "?state=" + p.State,
	})
}

// One client serves 250 goroutines at once, each making one of the five
// kinds of call with input of its own: every answer must be the one its
// input asked for, every request must have its own Idempotency-Key, and no
// goroutine may be left behind.
func TestConcurrentCallsShareOneClient(t *testing.T) {
	const goroutines = 250
	checkGoroutines(t)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: tr}
	c, mux := setup(t, mergelink.WithHTTPClient(hc))
	t.Cleanup(hc.CloseIdleConnections)
	srv := &echoServer{t: t, keys: make(map[string]int)}
	srv.register(mux)

	calls := []func(ctx context.Context, i int) error{
		func(ctx context.Context, i int) error {
			p := minimalLinkTokenParams()
			p.EndUserOriginID = fmt.Sprintf("user-%d", i)
			lt, err := c.CreateLinkToken(ctx, p)
			if err == nil {
				assert.Equal(t, &mergelink.LinkToken{LinkToken: "lt-" + p.EndUserOriginID}, lt)
			}
			return err
		},
		func(ctx context.Context, i int) error {
			p := mergelink.MagicLinkParams(minimalLinkTokenParams())
			p.EndUserOriginID = fmt.Sprintf("user-%d", i)
			ml, err := c.CreateMagicLink(ctx, p)
			if err == nil {
				assert.Equal(t, "lt-"+p.EndUserOriginID, ml.LinkToken)
				assert.Equal(t, "https://app.merge.dev/link/"+p.EndUserOriginID, ml.URL)
			}
			return err
		},
		func(ctx context.Context, i int) error {
			token := fmt.Sprintf("pub-%d", i)
			at, err := c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, token)
			if err == nil {
				assert.Equal(t, "at-"+token, at.AccountToken)
				assert.Equal(t, "id-"+token, at.ID)
			}
			return err
		},
		func(ctx context.Context, i int) error {
			origin := fmt.Sprintf("user-%d", i)
			var ids []string
			for acct, err := range c.ListLinkedAccounts(ctx, mergelink.LinkedAccountsParams{EndUserOriginID: origin}) {
				if err != nil {
					return err
				}
				assert.Equal(t, origin, acct.EndUserOriginID)
				ids = append(ids, acct.ID)
			}
			assert.Equal(t, []string{origin + "-1", origin + "-2"}, ids)
			return nil
		},
		func(ctx context.Context, i int) error {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			state := fmt.Sprintf("state-%d", i)
			lt, err := c.CreateAgentLinkToken(ctx, id, agenthandler.LinkTokenParams{
				Connector: "linear", CallbackURL: "https://myapp.com/cb", State: state})
			if err == nil {
				assert.Equal(t, &agenthandler.LinkToken{
					LinkToken:    "alt-" + id + "-linear",
					MagicLinkURL: "https://ah.merge.dev/link/" + id + "?state=" + state,
				}, lt)
			}
			return err
		},
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	var done atomic.Int32
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // all at once
			if err := calls[i%len(calls)](context.Background(), i); err != nil {
				t.Errorf("goroutine %d: %v", i, err)
				return
			}
			done.Add(1)
		}()
	}
	close(start)
	wg.Wait()

	require.Equal(t, goroutines, int(done.Load()), "calls that succeeded")
	per := goroutines / len(calls)
	// Listing reads two pages; the rest is one request per call.
	assert.Equal(t, 6*per, int(srv.requests.Load()), "requests the server answered")
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Len(t, srv.keys, 2*per, "one Idempotency-Key per link token and Magic Link call")
	for key, n := range srv.keys {
		assert.Regexp(t, uuidV4, key)
		assert.Equal(t, 1, n, "Idempotency-Key %s sent by two calls", key)
	}
}
