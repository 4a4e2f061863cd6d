//go:build !race

// The race detector changes allocation counts (sync.Pool drops items at
// random), so the budget is checked only without it.

package mergelink_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// allocBudget reads testdata/alloc-budget.txt: the Go minor version it was
// measured with, and the budget of each path.
func allocBudget(t *testing.T) (goMinor string, budget map[string]int) {
	t.Helper()
	f, err := os.Open("testdata/alloc-budget.txt")
	require.NoError(t, err)
	defer f.Close()
	budget = map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		require.Len(t, fields, 2, "a budget line is a name and a number: %q", sc.Text())
		if fields[0] == "go" {
			goMinor = fields[1]
			continue
		}
		n, err := strconv.Atoi(fields[1])
		require.NoError(t, err, sc.Text())
		budget[fields[0]] = n
	}
	require.NoError(t, sc.Err())
	return goMinor, budget
}

// TestAllocationBudget runs each hot path with testing.AllocsPerRun and
// compares it with its budget: more fails (a regression), and so does
// less (lower the budget in the same commit).
func TestAllocationBudget(t *testing.T) {
	goMinor, budget := allocBudget(t)
	if v := runtime.Version(); !strings.HasPrefix(v, "go"+goMinor+".") && v != "go"+goMinor {
		t.Skipf("the budget was measured with Go %s, this is %s: allocation counts differ between Go versions", goMinor, v)
	}
	paths := allocPaths(t)
	for name := range budget {
		assert.Contains(t, paths, name, "testdata/alloc-budget.txt names a path the test does not run")
	}
	for name, run := range paths {
		want, ok := budget[name]
		if !assert.True(t, ok, "%s has no budget in testdata/alloc-budget.txt", name) {
			continue
		}
		run() // warm up: lazily made tables, connection pools
		got := int(testing.AllocsPerRun(100, run))
		t.Logf("%-30s %3d allocs/op (budget %d)", name, got, want)
		switch {
		case got > want:
			t.Errorf("%s allocates %d per op, over its budget of %d: find what allocates (go test -bench with -memprofile), or, if it must, raise the budget in testdata/alloc-budget.txt and say why in the commit", name, got, want)
		case got < want:
			t.Errorf("%s allocates %d per op, under its budget of %d: lower the budget in testdata/alloc-budget.txt to %d in this commit", name, got, want, got)
		}
	}
}

// allocPaths returns the hot paths by name, each one operation that fails
// the test if it fails.
func allocPaths(t *testing.T) map[string]func() {
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, _ := memClients(t, http.StatusCreated, benchLinkTokenAnswer)
	p := benchParams()

	// The default client takes http.DefaultTransport when it is made.
	saved := http.DefaultTransport
	http.DefaultTransport = memTransport{status: http.StatusCreated, body: benchLinkTokenAnswer}
	dc, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL("https://api.merge.dev/api"))
	http.DefaultTransport = saved
	require.NoError(t, err)

	ex, _ := memClients(t, http.StatusOK, `{"account_token":"at-0123456789","id":"0b4f2ea8-1a2b-4c3d-8e9f-0a1b2c3d4e5f","integration":{"name":"Lever","slug":"lever","categories":["ats"]}}`)
	var page strings.Builder
	page.WriteString(`{"next":null,"previous":null,"results":[`)
	for i := range 10 {
		if i > 0 {
			page.WriteString(",")
		}
		fmt.Fprintf(&page, `{"id":"la-%d","category":"hris","status":"COMPLETE","end_user_origin_id":"o-%d","end_user_organization_name":"Acme","end_user_email_address":"a@acme.example","integration":{"name":"BambooHR","slug":"bamboohr"},"account_type":"PRODUCTION","completed_at":"2026-01-02T03:04:05Z"}`, i, i)
	}
	page.WriteString(`]}`)
	lc, _ := memClients(t, http.StatusOK, page.String())

	small := bytes.Repeat([]byte("x"), 1<<10)
	smallSig := mergelink.SignWebhook(small, testWebhookKey)
	large := bytes.Repeat([]byte("x"), 64<<10)
	largeSig := mergelink.SignWebhook(large, testWebhookKey)
	linked := linkedPayload4KiB()
	linkedSig := mergelink.SignWebhook(linked, testWebhookKey)

	return map[string]func(){
		"CreateLinkToken": func() {
			_, err := c.CreateLinkToken(ctx, p)
			must(err)
		},
		"CreateLinkTokenDefaultClient": func() {
			_, err := dc.CreateLinkToken(ctx, p)
			must(err)
		},
		"ExchangeAccountToken": func() {
			_, err := ex.ExchangeAccountToken(ctx, mergelink.CategoryATS, "public-token-0123")
			must(err)
		},
		"ListLinkedAccountsPage": func() {
			n := 0
			for _, err := range lc.ListLinkedAccounts(ctx, mergelink.LinkedAccountsParams{}) {
				must(err)
				n++
			}
			if n != 10 {
				t.Fatalf("listed %d accounts, want 10", n)
			}
		},
		"VerifyWebhookSignature1KiB": func() {
			must(mergelink.VerifyWebhookSignature(small, smallSig, testWebhookKey))
		},
		"VerifyWebhookSignature64KiB": func() {
			must(mergelink.VerifyWebhookSignature(large, largeSig, testWebhookKey))
		},
		"ParseWebhook4KiB": func() {
			_, err := mergelink.ParseWebhook(linked, linkedSig, testWebhookKey)
			must(err)
		},
		"WebhookHandlerDelivery":      handlerDeliveries(t, false),
		"AgentWebhookHandlerDelivery": handlerDeliveries(t, true),
	}
}

// handlerDeliveries returns a function that sends the next of many
// distinct signed deliveries through a webhook handler of the Unified API
// or of Agent Handler, with its default memory store, which already holds
// enough deliveries not to grow while the allocations are counted.
func handlerDeliveries(t *testing.T, agent bool) func() {
	const warm, counted = 2000, 200
	var h http.Handler
	header := mergelink.SignatureHeader
	all := deliveries(warm + counted)
	if agent {
		header = agenthandler.SignatureHeader
		for i := range all {
			body := fmt.Appendf(nil, `{"id":"ev-%d","type":"credential.created","data":{"registered_user_id":"u-%d","connector":"linear"}}`, i, i)
			all[i] = delivery{body: body, sig: agenthandler.SignWebhook(body, testWebhookKey)}
		}
		ah, err := agenthandler.NewWebhookHandler(func(context.Context, *agenthandler.WebhookEvent) error { return nil }, []string{testWebhookKey})
		require.NoError(t, err)
		h = ah
	} else {
		uh, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error { return nil }, []string{testWebhookKey})
		require.NoError(t, err)
		h = uh
	}
	next := 0
	send := func() {
		d := all[next%len(all)]
		next++
		req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(d.body))
		req.Header.Set(header, d.sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("delivery %d answered %d: %s", next, rec.Code, rec.Body)
		}
	}
	for range warm {
		send()
	}
	return send
}
