package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

// started is a mergetest command running in-process.
type started struct {
	t    *testing.T
	ep   endpoints
	stop func() error
}

// start runs the command with args and reads the endpoints it prints.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-json"}, args...), w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the command printed no line")
	s := &started{t: t, stop: sync.OnceValue(func() error { cancel(); return <-done })}
	require.NoError(t, json.Unmarshal([]byte(line), &s.ep))
	t.Cleanup(func() { s.stop() })
	return s
}

// call sends a JSON request and decodes the JSON answer.
func (s *started) call(method, url string, body any, header ...string) (int, map[string]any) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(s.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(s.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var out map[string]any
	data, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	if len(data) > 0 {
		require.NoError(s.t, json.Unmarshal(data, &out), "%s %s answered %s", method, url, data)
	}
	return resp.StatusCode, out
}

// control calls the control API and requires want.
func (s *started) control(want int, method, path string, body any) map[string]any {
	s.t.Helper()
	status, out := s.call(method, s.ep.Control+path, body)
	require.Equal(s.t, want, status, "%s %s: %v", method, path, out)
	if want >= 400 {
		assert.NotEmpty(s.t, out["error"], "%s %s: an error names what is wrong", method, path)
	}
	return out
}

func (s *started) unified(method, path string, body any, header ...string) (int, map[string]any) {
	return s.call(method, s.ep.Unified+path, body, append([]string{"Authorization", "Bearer " + s.ep.APIKey}, header...)...)
}

func (s *started) agent(method, path string, body any) (int, map[string]any) {
	return s.call(method, s.ep.Agent+path, body, "Authorization", "Bearer "+s.ep.APIKey)
}

// deliveries waits for n deliveries of list ("deliveries" or
// "agent-deliveries") and returns them.
func (s *started) deliveries(list string, n int) []map[string]any {
	s.t.Helper()
	out := s.control(200, "GET", fmt.Sprintf("/%s?wait=%d&timeout_ms=10000", list, n), nil)
	var ds []map[string]any
	for _, d := range out["results"].([]any) {
		ds = append(ds, d.(map[string]any))
	}
	require.Len(s.t, ds, n)
	return ds
}

func (s *started) linkToken(category, origin string) string {
	s.t.Helper()
	status, lt := s.unified("POST", "/"+category+"/v1/link-token", map[string]any{
		"end_user_email_address": "a@b.test", "end_user_organization_name": "Org", "end_user_origin_id": origin, "categories": []string{category}})
	require.Equal(s.t, 200, status, "%v", lt)
	return lt["link_token"].(string)
}

// receiver is a webhook target that answers 200.
func receiver(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	t.Cleanup(srv.Close)
	return srv
}

func hexHMAC(payload, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// Every control of the Unified API side, driven over HTTP as a test in
// another language would.
func TestUnifiedControls(t *testing.T) {
	t.Parallel()
	a, b := receiver(t), receiver(t)
	s := start(t, "-webhook", a.URL, "-webhook", b.URL, "-webhook-key", "key-1")
	assert.Equal(t, "ok", s.control(200, "GET", "/health", nil)["status"])

	// A link completed through the control API gives a working account token.
	la := s.control(200, "POST", "/links/complete", map[string]any{"link": s.linkToken("hris", "o1"), "integration": "bamboohr"})
	id, token := la["id"].(string), la["account_token"].(string)
	assert.Equal(t, "hris", la["category"])
	assert.NotEmpty(t, la["public_token"])
	status, details := s.unified("GET", "/hris/v1/account-details", nil, mergetest.AccountTokenHeader, token)
	require.Equal(t, 200, status, "%v", details)
	assert.Equal(t, id, details["id"])

	// The deliveries, with their signatures and headers, went to both targets in turn.
	ds := s.deliveries("deliveries", 2)
	assert.Equal(t, []any{"LinkedAccount.linked", "LinkedAccount.synced_initial"}, []any{ds[0]["event"], ds[1]["event"]})
	assert.Equal(t, []any{a.URL, b.URL}, []any{ds[0]["url"], ds[1]["url"]})
	for _, d := range ds {
		assert.Equal(t, mergelink.SignWebhook([]byte(d["payload"].(string)), "key-1"), d["signature"])
		assert.Equal(t, []any{d["signature"]}, d["headers"].(map[string]any)[mergelink.SignatureHeader])
		assert.Equal(t, "unified", d["api"])
		assert.Equal(t, id, d["linked_account_id"])
	}

	// A redelivery: the same bytes, the same signature, a new id.
	s.control(200, "POST", "/deliveries/"+ds[0]["id"].(string)+"/redeliver", nil)
	again := s.deliveries("deliveries", 3)[2]
	assert.Equal(t, ds[0]["payload"], again["payload"])
	assert.Equal(t, ds[0]["signature"], again["signature"])
	assert.NotEqual(t, ds[0]["id"], again["id"])
	s.control(404, "POST", "/deliveries/no-such-delivery/redeliver", nil)

	// Any event, with its data; then a key rotation, finished.
	s.control(200, "POST", "/linked-accounts/"+id+"/webhooks", map[string]any{"event": "Candidate.added", "data": map[string]any{"n": 1}})
	s.control(200, "POST", "/webhook/rotate", map[string]any{"key": "key-2"})
	s.control(200, "POST", "/linked-accounts/"+id+"/webhooks", map[string]any{"event": "LinkedAccount.sync_completed"})
	s.deliveries("deliveries", 5) // sent before the rotation finishes
	s.control(200, "POST", "/webhook/rotate/finish", nil)
	s.control(400, "POST", "/webhook/rotate/finish", nil)
	s.control(200, "POST", "/linked-accounts/"+id+"/webhooks", map[string]any{"event": "Employee.changed"})
	ds = s.deliveries("deliveries", 6)
	var payload struct{ Data map[string]any }
	require.NoError(t, json.Unmarshal([]byte(ds[3]["payload"].(string)), &payload))
	assert.Equal(t, map[string]any{"n": float64(1)}, payload.Data)
	assert.Equal(t, mergelink.SignWebhook([]byte(ds[4]["payload"].(string)), "key-1"), ds[4]["signature"], "signed with the old key until the rotation finishes")
	assert.Equal(t, mergelink.SignWebhook([]byte(ds[5]["payload"].(string)), "key-2"), ds[5]["signature"])
	s.control(400, "POST", "/linked-accounts/"+id+"/webhooks", map[string]any{"event": "not an event"})

	// One target again.
	c := receiver(t)
	s.control(200, "POST", "/webhook", map[string]any{"url": c.URL, "key": "key-3"})
	s.control(200, "POST", "/linked-accounts/"+id+"/webhooks", map[string]any{"event": "Employee.added"})
	last := s.deliveries("deliveries", 7)[6]
	assert.Equal(t, c.URL, last["url"])
	assert.Equal(t, mergelink.SignWebhook([]byte(last["payload"].(string)), "key-3"), last["signature"])
	s.control(400, "POST", "/webhook", map[string]any{"url": "ftp://x", "key": "k"})

	// Status, test account and employees.
	assert.Equal(t, "RELINK_NEEDED", s.control(200, "POST", "/linked-accounts/"+id+"/status", map[string]any{"status": "RELINK_NEEDED"})["status"])
	s.control(400, "POST", "/linked-accounts/"+id+"/status", map[string]any{"status": "BROKEN"})
	assert.Equal(t, true, s.control(200, "POST", "/linked-accounts/"+id+"/test-account", map[string]any{"is_test_account": true})["is_test_account"])
	assert.Equal(t, false, s.control(200, "POST", "/linked-accounts/"+id+"/test-account", map[string]any{"is_test_account": false})["is_test_account"])
	s.control(400, "POST", "/linked-accounts/"+id+"/test-account", map[string]any{})
	s.control(200, "POST", "/linked-accounts/"+id+"/employee-count", map[string]any{"count": 7})
	status, emps := s.unified("GET", "/hris/v1/employees?page_size=100", nil, mergetest.AccountTokenHeader, token)
	require.Equal(t, 200, status)
	assert.Len(t, emps["results"], 7)
	s.control(400, "POST", "/linked-accounts/"+id+"/employee-count", map[string]any{"count": -1})
	accounts := s.control(200, "GET", "/linked-accounts", nil)["results"].([]any)
	require.Len(t, accounts, 1)
	assert.Equal(t, token, accounts[0].(map[string]any)["account_token"])

	// Issues.
	is := s.control(200, "POST", "/linked-accounts/"+id+"/issues", map[string]any{"description": "Missing Permissions"})
	assert.Equal(t, "ONGOING", is["status"])
	issueID := is["id"].(string)
	assert.Len(t, s.control(200, "GET", "/issues", nil)["results"], 1)
	assert.Equal(t, true, s.control(200, "POST", "/issues/"+issueID+"/mute", nil)["is_muted"])
	assert.Equal(t, "RESOLVED", s.control(200, "POST", "/issues/"+issueID+"/resolve", nil)["status"])
	s.control(404, "POST", "/issues/no-such-issue/resolve", nil)
	s.control(400, "POST", "/linked-accounts/"+id+"/issues", map[string]any{"description": ""})

	// Links: cancelled stays usable, used once, unknown.
	link := s.linkToken("ats", "o2")
	s.control(200, "POST", "/links/cancel", map[string]any{"link": link})
	s.control(200, "POST", "/links/complete", map[string]any{"link": link, "integration": "lever"})
	s.control(409, "POST", "/links/complete", map[string]any{"link": link, "integration": "lever"})
	s.control(404, "POST", "/links/complete", map[string]any{"link": "no-such-link", "integration": "lever"})
	s.control(404, "POST", "/links/cancel", map[string]any{"link": "no-such-link"})

	// Requests, without the API key; injected failures; sync duration.
	reqs := s.control(200, "GET", "/requests", nil)["results"].([]any)
	first := reqs[0].(map[string]any)
	assert.Equal(t, "/api/hris/v1/link-token", first["path"])
	assert.Contains(t, first["body"], `"end_user_origin_id":"o1"`)
	assert.NotContains(t, first["headers"], "Authorization")
	s.control(200, "POST", "/fail-next", map[string]any{"count": 1, "status": 503, "retry_after": "1"})
	status, _ = s.unified("GET", "/hris/v1/linked-accounts", nil)
	assert.Equal(t, 503, status)
	status, _ = s.unified("GET", "/hris/v1/linked-accounts", nil)
	assert.Equal(t, 200, status)
	s.control(400, "POST", "/fail-next", map[string]any{"count": 1, "status": 200})
	s.control(200, "POST", "/sync-duration", map[string]any{"milliseconds": 1})
	s.control(400, "POST", "/sync-duration", map[string]any{"milliseconds": 0})

	// The clock: a link token made now has expired 30 minutes on.
	before, err := time.Parse(time.RFC3339Nano, s.control(200, "GET", "/clock", nil)["now"].(string))
	require.NoError(t, err)
	expiring := s.linkToken("hris", "o3")
	after, err := time.Parse(time.RFC3339Nano, s.control(200, "POST", "/clock/advance", map[string]any{"milliseconds": 30 * 60 * 1000})["now"].(string))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, after.Sub(before), 30*time.Minute)
	s.control(409, "POST", "/links/complete", map[string]any{"link": expiring, "integration": "bamboohr"})
	s.control(400, "POST", "/clock/advance", map[string]any{"milliseconds": 0})
	s.control(400, "POST", "/clock/advance", map[string]any{"seconds": 1})

	// Delete: the token stops working, the id is unknown after.
	s.control(200, "DELETE", "/linked-accounts/"+id, nil)
	status, _ = s.unified("GET", "/hris/v1/account-details", nil, mergetest.AccountTokenHeader, token)
	assert.Equal(t, 401, status)
	s.control(404, "DELETE", "/linked-accounts/"+id, nil)
	s.control(404, "POST", "/linked-accounts/"+id+"/status", map[string]any{"status": "COMPLETE"})

	require.NoError(t, s.stop())
	_, err = http.Get(s.ep.Control + "/health")
	assert.Error(t, err, "the server stops with the command")
}

// Agent Handler's controls: links completed, cancelled and declined, its
// signed webhooks, their key rotated, callback origins.
func TestAgentControls(t *testing.T) {
	t.Parallel()
	a, b := receiver(t), receiver(t)
	s := start(t, "-agent-webhook", a.URL, "-agent-webhook", b.URL, "-agent-webhook-key", "ak-1",
		"-allowed-origin", "http://localhost:3000", "-own-callback-statuses")
	status, user := s.agent("POST", "/registered-users/", map[string]any{"origin_user_id": "u1", "origin_user_name": "Ada"})
	require.Equal(t, 201, status, "%v", user)
	uid := user["id"].(string)
	linkFor := func(cb string) string {
		status, lt := s.agent("POST", "/registered-users/"+uid+"/link-token/", map[string]any{"connector": "linear", "callback_url": cb, "state": "st"})
		require.Equal(t, 201, status, "%v", lt)
		return lt["magic_link_url"].(string)
	}
	to := s.control(200, "POST", "/agent-links/complete", map[string]any{"link": linkFor("http://localhost:3000/cb")})["redirect_url"]
	assert.Equal(t, "http://localhost:3000/cb?state=st&status=success", to)
	assert.Equal(t, "http://localhost:3000/cb?state=st&status=cancelled",
		s.control(200, "POST", "/agent-links/cancel", map[string]any{"link": linkFor("http://localhost:3000/cb")})["redirect_url"])
	assert.Equal(t, "http://localhost:3000/cb?state=st&status=declined",
		s.control(200, "POST", "/agent-links/decline", map[string]any{"link": linkFor("http://localhost:3000/cb")})["redirect_url"])
	s.control(404, "POST", "/agent-links/complete", map[string]any{"link": "no-such-link"})

	// An origin allowed later.
	assert.Empty(t, s.control(200, "POST", "/agent-links/complete", map[string]any{"link": linkFor("https://app.example.com/cb")})["redirect_url"])
	s.control(200, "POST", "/callback-origins", map[string]any{"origins": []string{"https://app.example.com"}})
	assert.NotEmpty(t, s.control(200, "POST", "/agent-links/complete", map[string]any{"link": linkFor("https://app.example.com/cb")})["redirect_url"])
	s.control(400, "POST", "/callback-origins", map[string]any{"origins": []string{"https://app.example.com/path"}})

	ds := s.deliveries("agent-deliveries", 4)
	assert.Equal(t, "registered_user.created", ds[0]["event"])
	assert.Equal(t, "credential.created", ds[1]["event"])
	assert.Equal(t, []any{a.URL, b.URL}, []any{ds[0]["url"], ds[1]["url"]})
	for _, d := range ds {
		assert.Equal(t, hexHMAC(d["payload"].(string), "ak-1"), d["signature"])
		assert.Equal(t, "agent", d["api"])
		assert.Equal(t, uid, d["registered_user_id"])
	}
	s.control(200, "POST", "/deliveries/"+ds[0]["id"].(string)+"/redeliver", nil)
	assert.Equal(t, ds[0]["payload"], s.deliveries("agent-deliveries", 5)[4]["payload"])

	s.control(200, "POST", "/agent-webhook/rotate", map[string]any{"key": "ak-2"})
	status, _ = s.agent("PATCH", "/registered-users/"+uid+"/", map[string]any{"origin_user_name": "Ada L."})
	require.Equal(t, 200, status)
	d := s.deliveries("agent-deliveries", 6)[5]
	assert.Equal(t, "registered_user.updated", d["event"])
	assert.Equal(t, hexHMAC(d["payload"].(string), "ak-2"), d["signature"])

	c := receiver(t)
	s.control(200, "POST", "/agent-webhook", map[string]any{"url": c.URL, "key": "ak-3"})
	status, _ = s.agent("DELETE", "/registered-users/"+uid+"/", nil)
	require.Equal(t, 200, status)
	d = s.deliveries("agent-deliveries", 7)[6]
	assert.Equal(t, c.URL, d["url"])
	assert.Equal(t, hexHMAC(d["payload"].(string), "ak-3"), d["signature"])
	s.control(400, "POST", "/agent-webhook/rotate", map[string]any{"key": ""})
}

// The control API cannot be taken for Merge's, nor Merge's for it, and it
// refuses what it does not understand with a JSON error.
func TestControlRefuses(t *testing.T) {
	t.Parallel()
	s := start(t)
	// Not under Merge's paths, even with the key.
	status, out := s.unified("GET", "/_mergetest/v1/health", nil)
	assert.Equal(t, 404, status)
	assert.Equal(t, "Not found.", out["detail"], "Merge's own 404")
	status, out = s.agent("GET", "/_mergetest/v1/health", nil)
	assert.Equal(t, 404, status)
	assert.NotNil(t, out["error"])
	// No Merge credentials on the control API.
	status, out = s.call("GET", s.ep.Control+"/health", nil, "Authorization", "Bearer "+s.ep.APIKey)
	assert.Equal(t, 400, status)
	assert.Contains(t, out["error"], "not Merge's API")
	// Unknown controls, methods, fields and bad JSON.
	s.control(404, "POST", "/no-such-control", map[string]any{})
	s.control(404, "POST", "/health", nil)
	s.control(400, "POST", "/links/complete", map[string]any{"link": "x", "integraton": "lever"})
	status, out = s.call("POST", s.ep.Control+"/links/complete", "not json")
	assert.Equal(t, 400, status)
	assert.Contains(t, out["error"], "JSON")
	s.control(400, "GET", "/deliveries?wait=x", nil)
	out = s.control(400, "GET", "/deliveries?wait=1", nil)
	assert.Contains(t, out["error"], "WaitForDeliveries", "no webhook URL: waiting could never end")
	s.control(200, "POST", "/webhook", map[string]any{"url": "http://127.0.0.1:9/", "key": "k"})
	out = s.control(408, "GET", "/deliveries?wait=1&timeout_ms=1", nil)
	assert.Contains(t, out["error"], "0 of the 1")
}

// The flags: the address is used, the printed lines parse, bad
// combinations are refused before anything listens.
func TestFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-webhook", "http://127.0.0.1:9/"},
		{"-agent-webhook-key", "k"},
		{"-api-key", "same", "-test-api-key", "same"},
		{"-webhook", "ftp://x", "-webhook-key", "k"},
		{"-addr", "256.0.0.1:80"},
		{"stray"},
	} {
		var stdout bytes.Buffer
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), &stdout, io.Discard)
		assert.Error(t, err, "%v", args)
		assert.Empty(t, stdout.String(), "%v: nothing printed", args)
	}

	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-api-key", "prod-k", "-test-api-key", "test-k"}, w, io.Discard)
	}()
	vars := map[string]string{}
	sc := bufio.NewScanner(out)
	for len(vars) < 6 && sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), "=")
		require.True(t, ok, sc.Text())
		vars[name] = value
	}
	assert.Equal(t, "prod-k", vars["MERGETEST_API_KEY"])
	assert.Equal(t, "test-k", vars["MERGETEST_TEST_API_KEY"])
	assert.Equal(t, vars["MERGETEST_URL"]+"/api", vars["MERGETEST_UNIFIED_URL"])
	assert.Equal(t, vars["MERGETEST_URL"]+"/ah/api/v1", vars["MERGETEST_AGENT_URL"])
	resp, err := http.Get(vars["MERGETEST_CONTROL_URL"] + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	cancel()
	assert.NoError(t, <-done)
}

// With -seed, two runs that make the same calls get the same ids and
// tokens; another seed, or none, others.
func TestSeed(t *testing.T) {
	t.Parallel()
	account := func(args ...string) map[string]any {
		s := start(t, args...)
		la := s.control(200, "POST", "/links/complete", map[string]any{"link": s.linkToken("hris", "o1"), "integration": "bamboohr"})
		require.NoError(t, s.stop())
		return map[string]any{"id": la["id"], "account_token": la["account_token"], "public_token": la["public_token"]}
	}
	first := account("-seed", "42")
	assert.Equal(t, first, account("-seed", "42"))
	assert.NotEqual(t, first["id"], account("-seed", "43")["id"])
	assert.NotEqual(t, first["id"], account()["id"])
}
