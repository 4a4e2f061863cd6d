package mergetest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/mergetest"
)

const webhookKey = "whsec-test-key"

// payload is a webhook body as WIRE.md describes it.
type payload struct {
	Hook struct {
		ID, Event, Target string
	}
	LinkedAccount struct {
		ID                      string
		Integration             string
		IntegrationSlug         string `json:"integration_slug"`
		Category                string
		EndUserOriginID         string `json:"end_user_origin_id"`
		EndUserOrganizationName string `json:"end_user_organization_name"`
		EndUserEmailAddress     string `json:"end_user_email_address"`
		Status                  string
		WebhookListenerURL      string `json:"webhook_listener_url"`
		AccountType             string `json:"account_type"`
	} `json:"linked_account"`
	Data map[string]any
}

func decodePayload(t *testing.T, body []byte) payload {
	t.Helper()
	var p payload
	require.NoError(t, json.Unmarshal(body, &p), "%s", body)
	return p
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWebhooksSignedInOrder(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)

	linked, synced := <-rc.got, <-rc.got
	for _, h := range []hook{linked, synced} {
		require.NoError(t, mergelink.VerifyWebhookSignature(h.body, h.signature, webhookKey), h.event)
		assert.ErrorIs(t, mergelink.VerifyWebhookSignature(h.body, h.signature, "another key"), mergelink.ErrInvalidSignature)
	}
	p := decodePayload(t, linked.body)
	assert.Equal(t, "LinkedAccount.linked", p.Hook.Event)
	assert.Equal(t, rc.URL, p.Hook.Target)
	assert.Len(t, p.Hook.ID, 36)
	assert.Equal(t, la.ID, p.LinkedAccount.ID)
	assert.Equal(t, "Greenhouse", p.LinkedAccount.Integration)
	assert.Equal(t, "greenhouse", p.LinkedAccount.IntegrationSlug)
	assert.Equal(t, "ats", p.LinkedAccount.Category)
	assert.Equal(t, "12345678910", p.LinkedAccount.EndUserOriginID)
	assert.Equal(t, "Example Organization", p.LinkedAccount.EndUserOrganizationName)
	assert.Equal(t, "jane@example.com", p.LinkedAccount.EndUserEmailAddress)
	assert.Equal(t, "COMPLETE", p.LinkedAccount.Status)
	assert.NotEmpty(t, p.LinkedAccount.WebhookListenerURL)
	assert.Equal(t, la.AccountToken, p.Data["account_token"])
	assert.Equal(t, false, p.Data["is_relink"])

	q := decodePayload(t, synced.body)
	assert.Equal(t, "LinkedAccount.synced_initial", q.Hook.Event)
	assert.Equal(t, p.Hook.ID, q.Hook.ID, "hook.id names the webhook configuration")
	assert.Equal(t, la.ID, q.LinkedAccount.ID)
	assert.Equal(t, la.AccountToken, q.Data["account_token"])
	assert.Equal(t, "Greenhouse", q.Data["integration_name"])
	assert.Equal(t, "greenhouse", q.Data["integration_id"])
	assert.Equal(t, []any{"ats.Candidate"}, q.Data["synced_models"])

	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	for i, event := range []string{"LinkedAccount.linked", "LinkedAccount.synced_initial"} {
		assert.Equal(t, event, ds[i].Event)
		assert.Equal(t, la.ID, ds[i].LinkedAccountID)
		assert.Equal(t, 1, ds[i].Attempts)
		assert.Equal(t, 200, ds[i].StatusCode)
		assert.NoError(t, ds[i].Err)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v %d %t", ds[i], ds[i], ds[i], ds[i], ds[i]), la.AccountToken)
		assert.Equal(t, ds[i].String(), fmt.Sprintf("%d", ds[i]), "%d prints String, not the payload's bytes")
	}
	assert.Equal(t, linked.body, ds[0].Payload)
	assert.Equal(t, ds, srv.Deliveries())
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("linked", "account", la, "accounts", srv.LinkedAccounts(), "deliveries", ds)
	assert.Contains(t, logs.String(), la.ID)
	for _, secret := range []string{la.AccountToken, la.PublicToken, base64.StdEncoding.EncodeToString(ds[0].Payload[:30])} {
		assert.NotContains(t, logs.String(), secret, "a JSON log leaves tokens and payloads out")
	}
}

func TestWebhookRetriedAfterFailureAndOrderKept(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 2) // 500 to the first two requests
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)

	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	var events []string
	for range 4 {
		h := <-rc.got
		events = append(events, h.event)
		assert.NoError(t, mergelink.VerifyWebhookSignature(h.body, h.signature, webhookKey))
	}
	assert.Equal(t, []string{"LinkedAccount.linked", "LinkedAccount.linked", "LinkedAccount.linked", "LinkedAccount.synced_initial"}, events,
		"the first-sync event waits until the linked event is delivered")
	assert.Equal(t, 3, ds[0].Attempts)
	assert.Equal(t, 200, ds[0].StatusCode)
	assert.NoError(t, ds[0].Err)
	assert.Equal(t, 1, ds[1].Attempts)

	// A relink is announced as one.
	_, err = srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	ds, err = srv.WaitForDeliveries(waitCtx(t), 4)
	require.NoError(t, err)
	p := decodePayload(t, ds[2].Payload)
	assert.Equal(t, true, p.Data["is_relink"])
	assert.Equal(t, la.AccountToken, p.Data["account_token"])
}

func TestWebhookGivesUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 1000)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	_, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, mergetest.DeliveryAttempts, d.Attempts, d.Event)
		assert.Equal(t, 500, d.StatusCode)
		assert.ErrorContains(t, d.Err, "500")
	}
	assert.Len(t, rc.got, 2*mergetest.DeliveryAttempts)
}

func TestWebhookRetriedOnlyAfterTransientAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		attempts int // for the first delivery, whose first answer is status
	}{
		{http.StatusInternalServerError, 2},
		{http.StatusBadGateway, 2},
		{http.StatusRequestTimeout, 2},
		{http.StatusTooManyRequests, 2},
		{http.StatusUnauthorized, 1},
		{http.StatusBadRequest, 1},
		{http.StatusNotFound, 1},
		{http.StatusGone, 1},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			rc := newFailingReceiver(t, 1, tc.status)
			srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
			_, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
			require.NoError(t, err)
			ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
			require.NoError(t, err)
			assert.Equal(t, tc.attempts, ds[0].Attempts, "attempts after a first answer of %d", tc.status)
			if tc.attempts == 1 {
				assert.Equal(t, tc.status, ds[0].StatusCode)
				assert.ErrorContains(t, ds[0].Err, fmt.Sprint(tc.status), "a final 4xx is reported")
			} else {
				assert.Equal(t, http.StatusOK, ds[0].StatusCode)
				assert.NoError(t, ds[0].Err)
			}
			assert.Equal(t, 1, ds[1].Attempts)
			assert.NoError(t, ds[1].Err, "the next event is still delivered")
			assert.Len(t, rc.got, tc.attempts+1, "requests the receiver saw")
		})
	}
}

func TestWebhookRefusedIsNotRetried(t *testing.T) {
	t.Parallel()
	rc := newFailingReceiver(t, 1000, http.StatusUnauthorized)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	_, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, 1, d.Attempts, d.Event)
		assert.Equal(t, http.StatusUnauthorized, d.StatusCode)
		assert.ErrorContains(t, d.Err, "401")
	}
	assert.Len(t, rc.got, 2, "one request per event")
}

func TestWebhookTransportErrorRetried(t *testing.T) {
	t.Parallel()
	// A receiver that hangs up on every connection, kept listening for the
	// whole test so that no other test can take its port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook("http://"+ln.Addr().String()+"/hook", webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	_, err = srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, mergetest.DeliveryAttempts, d.Attempts, d.Event)
		assert.Equal(t, 0, d.StatusCode)
		assert.Error(t, d.Err)
	}
	assert.EqualValues(t, 2*mergetest.DeliveryAttempts, conns.Load(), "each attempt reached the receiver")
}

func TestWebhookOrderPerAccountUnderConcurrency(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 5)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		tok := newLinkToken(t, srv, map[string]any{"end_user_origin_id": fmt.Sprint("user-", i)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := srv.CompleteLink(tok, "lever")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2*n)
	require.NoError(t, err)
	require.Len(t, ds, 2*n)
	lastEvent := map[string]string{}
	for range 2*n + 5 {
		h := <-rc.got
		p := decodePayload(t, h.body)
		if p.Hook.Event == "LinkedAccount.synced_initial" {
			assert.Equal(t, "LinkedAccount.linked", lastEvent[p.LinkedAccount.ID], "linked arrives before synced_initial")
		}
		lastEvent[p.LinkedAccount.ID] = p.Hook.Event
	}
	assert.Len(t, lastEvent, n)
	for id, e := range lastEvent {
		assert.Equal(t, "LinkedAccount.synced_initial", e, id)
	}
}

func TestCloseWaitsForQueuedDeliveries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 1)
	srv := mergetest.NewServer(mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	_, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	srv.Close()
	ds := srv.Deliveries()
	require.Len(t, ds, 2, "Close returns once the queued webhooks are delivered")
	assert.NoError(t, ds[0].Err)
	assert.NoError(t, ds[1].Err)
}

func TestWaitForDeliveries(t *testing.T) {
	t.Parallel()
	plain := mergetest.NewTestServer(t)
	_, err := plain.WaitForDeliveries(context.Background(), 1)
	assert.ErrorContains(t, err, "WithWebhook")
	assert.Empty(t, plain.Deliveries())

	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ds, err := srv.WaitForDeliveries(ctx, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, ds)
	ds, err = srv.WaitForDeliveries(ctx, 0)
	assert.NoError(t, err, "nothing to wait for")
	assert.Empty(t, ds)
}

// SendWebhook sends any event about an account, signed as the server's own
// webhooks and after them, with the data given or a default.
func TestSendWebhook(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey))
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)

	events := []struct {
		event mergelink.EventType
		data  any
		check func(t *testing.T, ev *mergelink.WebhookEvent)
	}{
		{mergelink.EventLinkedAccountSyncCompleted, nil, func(t *testing.T, ev *mergelink.WebhookEvent) {
			d, ok := ev.SyncCompleted()
			require.True(t, ok)
			assert.False(t, d.IsInitialSync)
			assert.Contains(t, d.SyncStatus, "ats.Candidate")
		}},
		{mergelink.EventLinkedAccountSyncCompleted, map[string]any{"is_initial_sync": true, "sync_status": map[string]any{}}, func(t *testing.T, ev *mergelink.WebhookEvent) {
			d, ok := ev.SyncCompleted()
			require.True(t, ok)
			assert.True(t, d.IsInitialSync, "the data given is sent")
		}},
		{mergelink.EventLinkedAccountLinked, nil, func(t *testing.T, ev *mergelink.WebhookEvent) {
			tok, ok := ev.AccountToken()
			require.True(t, ok)
			assert.Equal(t, la.AccountToken, tok)
		}},
		{mergelink.EventIssueNew, nil, func(t *testing.T, ev *mergelink.WebhookEvent) {
			var d struct{ ID, Status string }
			require.NoError(t, json.Unmarshal(ev.Data, &d))
			assert.Equal(t, "ONGOING", d.Status)
			assert.Len(t, d.ID, 36)
		}},
		{mergelink.EventIssueResolved, nil, func(t *testing.T, ev *mergelink.WebhookEvent) {
			assert.Contains(t, string(ev.Data), `"status":"RESOLVED"`)
		}},
		{"Candidate.added", struct {
			ID string `json:"id"`
		}{"c-1"}, func(t *testing.T, ev *mergelink.WebhookEvent) {
			model, action, ok := ev.ModelEvent()
			require.True(t, ok)
			assert.Equal(t, "Candidate", model)
			assert.Equal(t, "added", action)
			assert.JSONEq(t, `{"id":"c-1"}`, string(ev.Data))
		}},
		{mergelink.EventLinkedAccountDeleted, nil, func(t *testing.T, ev *mergelink.WebhookEvent) {
			assert.JSONEq(t, `{}`, string(ev.Data))
		}},
	}
	for _, e := range events {
		require.NoError(t, srv.SendWebhook(la.ID, e.event, e.data), e.event)
	}
	assert.Len(t, srv.LinkedAccounts(), 1, "sending LinkedAccount.deleted deletes nothing")

	ds, err := srv.WaitForDeliveries(waitCtx(t), 2+len(events))
	require.NoError(t, err)
	require.Len(t, ds, 2+len(events))
	for i, e := range events {
		d := ds[2+i]
		require.Equal(t, string(e.event), d.Event, "in the order sent, after the link's own")
		assert.Equal(t, la.ID, d.LinkedAccountID)
		ev, err := mergelink.ParseWebhook(d.Payload, mergelink.SignWebhook(d.Payload, webhookKey), webhookKey)
		require.NoError(t, err, e.event)
		assert.Equal(t, e.event, ev.Type())
		assert.Equal(t, la.ID, ev.LinkedAccount.ID)
		assert.Equal(t, "greenhouse", ev.LinkedAccount.IntegrationSlug)
		e.check(t, ev)
	}
	for i := range len(ds) {
		h := <-rc.got
		require.NoError(t, mergelink.VerifyWebhookSignature(h.body, h.signature, webhookKey), "delivery %d is signed", i)
	}

	for _, tt := range []struct {
		id    string
		event mergelink.EventType
		data  any
		want  string
	}{
		{"nope", mergelink.EventIssueNew, nil, "no such Linked Account"},
		{la.ID, "sync_completed", nil, "Model.action"},
		{la.ID, "", nil, "Model.action"},
		{la.ID, "Issue.", nil, "Model.action"},
		{la.ID, "Issue.new\n", nil, "Model.action"},
		{la.ID, mergelink.EventIssueNew, []string{"a"}, "JSON object"},
		{la.ID, mergelink.EventIssueNew, "text", "JSON object"},
		{la.ID, mergelink.EventIssueNew, func() {}, "JSON object"},
	} {
		assert.ErrorContains(t, srv.SendWebhook(tt.id, tt.event, tt.data), tt.want, "%s %q", tt.id, tt.event)
	}

	plain := mergetest.NewTestServer(t)
	other, err := plain.CompleteLink(newLinkToken(t, plain, nil), "lever")
	require.NoError(t, err)
	assert.ErrorContains(t, plain.SendWebhook(other.ID, mergelink.EventIssueNew, nil), "delivers no webhooks")
}

// A delivery SendWebhook queued is retried after a failure, like the
// server's own.
func TestSendWebhookRetried(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	_, err = srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	rc.mu.Lock()
	rc.failLeft = 2
	rc.mu.Unlock()
	require.NoError(t, srv.SendWebhook(la.ID, mergelink.EventLinkedAccountSyncCompleted, nil))
	ds, err := srv.WaitForDeliveries(waitCtx(t), 3)
	require.NoError(t, err)
	assert.Equal(t, "LinkedAccount.sync_completed", ds[2].Event)
	assert.Equal(t, 3, ds[2].Attempts)
	assert.NoError(t, ds[2].Err)
}

// Close waits for a receiver that hangs only as long as WithCloseWait
// says, then ends the attempt in flight and gives up the deliveries left.
func TestCloseDoesNotWaitForAHangingReceiver(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 8)
	aborted := make(chan struct{}, 8)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // net/http notices a client gone only once the body is read
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			aborted <- struct{}{}
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })

	srv := mergetest.NewServer(mergetest.WithWebhook(hang.URL, webhookKey), mergetest.WithCloseWait(time.Millisecond))
	_, err := srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	<-arrived // the first delivery is in flight, and will not be answered

	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-waitCtx(t).Done():
		t.Fatal("Close waited for the hanging receiver")
	}
	<-aborted // the attempt in flight was ended, not left to its timeout

	ds := srv.Deliveries()
	require.Len(t, ds, 2, "both deliveries finished: one cut short, one never sent")
	assert.Equal(t, "LinkedAccount.linked", ds[0].Event)
	assert.Equal(t, 1, ds[0].Attempts)
	assert.Error(t, ds[0].Err)
	assert.Equal(t, "LinkedAccount.synced_initial", ds[1].Event)
	assert.Equal(t, 0, ds[1].Attempts)
	assert.ErrorIs(t, ds[1].Err, mergetest.ErrClosed)
	assert.Len(t, arrived, 0, "no attempt after Close gave up")
}

// SetWebhook points the server at a receiver after it started; deliveries
// before it go nowhere.
func TestSetWebhookAfterStart(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t)
	before, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "before"}), "lever")
	require.NoError(t, err)

	rc := newReceiver(t, 0)
	require.NoError(t, srv.SetWebhook(rc.URL, webhookKey))
	after, err := srv.CompleteLink(newLinkToken(t, srv, map[string]any{"end_user_origin_id": "after"}), "lever")
	require.NoError(t, err)
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	for _, d := range ds {
		assert.Equal(t, after.ID, d.LinkedAccountID, "nothing was queued for the link before SetWebhook")
		p := decodePayload(t, d.Payload)
		assert.Equal(t, rc.URL, p.Hook.Target)
	}
	require.NoError(t, srv.SendWebhook(before.ID, mergelink.EventIssueNew, nil))
	ds, err = srv.WaitForDeliveries(waitCtx(t), 3)
	require.NoError(t, err)
	assert.Equal(t, before.ID, ds[2].LinkedAccountID)
	for range 3 {
		h := <-rc.got
		assert.NoError(t, mergelink.VerifyWebhookSignature(h.body, h.signature, webhookKey))
	}

	for _, tt := range []struct{ url, key string }{{"ftp://x", "k"}, {rc.URL, ""}, {"", "k"}} {
		assert.Error(t, srv.SetWebhook(tt.url, tt.key), tt)
	}
}

// A rotation keeps signing with the old key until it is finished, retries
// included; after it, only the new key verifies.
func TestRotateWebhookKey(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, "old-key"))
	la, err := srv.CompleteLink(newLinkToken(t, srv, nil), "lever")
	require.NoError(t, err)
	assert.ErrorContains(t, srv.FinishWebhookKeyRotation(), "no rotation")
	assert.Error(t, srv.RotateWebhookKey(""))

	require.NoError(t, srv.RotateWebhookKey("new-key"))
	require.NoError(t, srv.SendWebhook(la.ID, mergelink.EventLinkedAccountSyncCompleted, nil))
	_, err = srv.WaitForDeliveries(waitCtx(t), 3)
	require.NoError(t, err)
	for i := range 3 {
		h := <-rc.got
		assert.NoError(t, mergelink.VerifyWebhookSignature(h.body, h.signature, "old-key"), "delivery %d: the old key until told", i)
		assert.Error(t, mergelink.VerifyWebhookSignature(h.body, h.signature, "new-key"), "delivery %d", i)
	}

	require.NoError(t, srv.FinishWebhookKeyRotation())
	require.NoError(t, srv.SendWebhook(la.ID, mergelink.EventIssueNew, nil))
	_, err = srv.WaitForDeliveries(waitCtx(t), 4)
	require.NoError(t, err)
	h := <-rc.got
	assert.NoError(t, mergelink.VerifyWebhookSignature(h.body, h.signature, "new-key"))
	assert.Error(t, mergelink.VerifyWebhookSignature(h.body, h.signature, "old-key"))

	plain := mergetest.NewTestServer(t)
	assert.ErrorContains(t, plain.RotateWebhookKey("k"), "delivers no webhooks")
}

// A failed delivery prints without the receiver URL's secrets: a token in
// its query or user info, which net/http's error quotes in full.
func TestFailedDeliveryHidesTheURLSecrets(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close() // hang up: each attempt fails with a *url.Error
		}
	}()
	const token = "rcv-TOKEN-s3cret"
	hook := "http://user:" + token + "@" + ln.Addr().String() + "/hook?token=" + token + "#" + token
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(hook, webhookKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	_, err = srv.CompleteLink(newLinkToken(t, srv, nil), "greenhouse")
	require.NoError(t, err)
	ds, err := srv.WaitForDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	for _, d := range ds {
		require.Error(t, d.Err)
		for _, shown := range []string{fmt.Sprint(d), fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", d), d.Err.Error()} {
			assert.NotContains(t, shown, token)
		}
		assert.Contains(t, d.Err.Error(), "/hook?***#***")
	}
}
