package mergetest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

const agentKey = "ah-verification-key"

// agentSigned reports whether sig is the hex HMAC-SHA256 of body under
// key, computed here with crypto/hmac, apart from the server's code.
func agentSigned(body []byte, sig, key string) bool {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	got, err := hex.DecodeString(sig)
	return err == nil && hmac.Equal(got, m.Sum(nil))
}

// agentPayload is an Agent Handler webhook body as mergetest sends it.
type agentPayload struct {
	ID        string
	Event     string
	CreatedAt time.Time `json:"created_at"`
	Data      struct {
		RegisteredUser *user `json:"registered_user"`
		Connector      *struct{ Slug, Name string }
	}
}

func decodeAgentPayload(t *testing.T, body []byte) agentPayload {
	t.Helper()
	var p agentPayload
	require.NoError(t, json.Unmarshal(body, &p), "%s", body)
	return p
}

// Every change of a registered user and its credentials is sent, signed,
// in order.
func TestAgentWebhooksSignedInOrder(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	now := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	srv := mergetest.NewTestServer(t, mergetest.WithAgentWebhook(rc.URL, agentKey), mergetest.WithClock(func() time.Time { return now }))
	u := createUser(t, srv, "u1")
	again := send(t, srv, "POST", ah+"/registered-users/", `{"origin_user_id":"u1","origin_user_name":"Yash"}`)
	require.Equal(t, http.StatusOK, again.status, "the existing user, and no event")
	require.Equal(t, http.StatusOK, send(t, srv, "PATCH", ah+"/registered-users/"+u.ID+"/", `{"origin_user_name":"Ada"}`).status)
	tok, _ := agentLink(t, srv, u.ID, `{"connector":"linear"}`)
	_, err := srv.CompleteAgentLink(tok)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, send(t, srv, "DELETE", ah+"/credentials/registered-users/"+u.ID+"/connectors/linear/", "").status)
	del := send(t, srv, "DELETE", ah+"/registered-users/"+u.ID+"/", "")
	require.Less(t, del.status, 300)

	want := []string{"registered_user.created", "registered_user.updated", "credential.created", "credential.deleted", "registered_user.deleted"}
	ds, err := srv.WaitForAgentDeliveries(waitCtx(t), len(want))
	require.NoError(t, err)
	require.Len(t, ds, len(want))
	ids := map[string]bool{}
	for i, event := range want {
		h := <-rc.got
		assert.Equal(t, event, h.event)
		assert.True(t, agentSigned(h.body, h.agentSignature, agentKey), "%s: signature %q", event, h.agentSignature)
		assert.False(t, agentSigned(h.body, h.agentSignature, "another key"))
		// The SDK reads what mergetest sends.
		ev, err := agenthandler.ParseWebhookWithTolerance(h.body, h.agentSignature, 0, agentKey) // the fixed clock is days behind
		require.NoError(t, err, event)
		assert.Equal(t, agenthandler.EventType(event), ev.Type())
		if d, ok := ev.Credential(); ok {
			assert.Equal(t, u.ID, d.RegisteredUser.ID)
			assert.Equal(t, "linear", d.Connector.Slug)
			assert.Equal(t, "Linear", d.Connector.Name)
		} else {
			ru, ok := ev.RegisteredUser()
			require.True(t, ok, event)
			assert.Equal(t, u.ID, ru.ID)
			assert.Equal(t, "u1", ru.OriginUserID)
		}
		assert.True(t, now.Equal(ev.CreatedAt))
		assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(h.body, h.agentSignature, "another key"), agenthandler.ErrInvalidSignature)
		assert.Empty(t, h.signature, "no Unified API signature header")

		p := decodeAgentPayload(t, h.body)
		assert.Equal(t, event, p.Event)
		assert.Len(t, p.ID, 36)
		assert.False(t, ids[p.ID], "each event has its own id")
		ids[p.ID] = true
		assert.True(t, now.Equal(p.CreatedAt), "created_at is the server's clock: %s", p.CreatedAt)
		require.NotNil(t, p.Data.RegisteredUser, event)
		assert.Equal(t, u.ID, p.Data.RegisteredUser.ID)
		assert.Equal(t, "u1", p.Data.RegisteredUser.OriginUserID)

		assert.Equal(t, event, ds[i].Event)
		assert.Equal(t, u.ID, ds[i].RegisteredUserID)
		assert.Empty(t, ds[i].LinkedAccountID)
		assert.Equal(t, 1, ds[i].Attempts)
		assert.Equal(t, http.StatusOK, ds[i].StatusCode)
		assert.NoError(t, ds[i].Err)
		assert.Equal(t, h.body, ds[i].Payload)
		assert.Contains(t, ds[i].String(), u.ID)
	}
	assert.Equal(t, ds, srv.AgentDeliveries())
	assert.Empty(t, srv.Deliveries(), "no Unified API webhook")

	created := decodeAgentPayload(t, ds[2].Payload)
	require.NotNil(t, created.Data.Connector)
	assert.Equal(t, "linear", created.Data.Connector.Slug)
	assert.Equal(t, "Linear", created.Data.Connector.Name)
	assert.Equal(t, []string{"linear"}, created.Data.RegisteredUser.AuthenticatedConnectors, "credential.created shows the user connected")
	deleted := decodeAgentPayload(t, ds[3].Payload)
	assert.Equal(t, "linear", deleted.Data.Connector.Slug)
	assert.Empty(t, deleted.Data.RegisteredUser.AuthenticatedConnectors, "credential.deleted shows it gone")
	assert.Equal(t, "Ada", decodeAgentPayload(t, ds[1].Payload).Data.RegisteredUser.OriginUserName)
	assert.Nil(t, decodeAgentPayload(t, ds[0].Payload).Data.Connector, "a user event names no connector")
}

// A link the user leaves without connecting makes no credential.
func TestAgentWebhookNoCredentialWhenTheUserLeaves(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithAgentWebhook(rc.URL, agentKey))
	u := createUser(t, srv, "u1")
	for _, leave := range []func(string) (string, error){srv.CancelAgentLink, srv.DeclineAgentLink} {
		tok, _ := agentLink(t, srv, u.ID, `{"connector":"linear"}`)
		_, err := leave(tok)
		require.NoError(t, err)
	}
	tok, _ := agentLink(t, srv, u.ID, `{"connector":"github"}`)
	_, err := srv.CompleteAgentLink(tok)
	require.NoError(t, err)

	ds, err := srv.WaitForAgentDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, "registered_user.created", ds[0].Event)
	assert.Equal(t, "credential.created", ds[1].Event, "the cancelled and declined links sent nothing")
	assert.Equal(t, "github", decodeAgentPayload(t, ds[1].Payload).Data.Connector.Slug)
	assert.Equal(t, []string{"github"}, userConnectors(t, srv, u.ID))
}

func TestAgentWebhookRetriedFiveTimesThenDropped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failFirst, status int
		attempts, final   int
	}{
		{4, http.StatusInternalServerError, 5, http.StatusOK},                   // the fifth attempt succeeds
		{1000, http.StatusServiceUnavailable, 5, http.StatusServiceUnavailable}, // dropped after five failures
		{1000, http.StatusTooManyRequests, 5, http.StatusTooManyRequests},
		{1000, http.StatusUnauthorized, 1, http.StatusUnauthorized}, // a refusal is final
	} {
		t.Run(fmt.Sprint(tc.failFirst, "x", tc.status), func(t *testing.T) {
			t.Parallel()
			rc := newFailingReceiver(t, tc.failFirst, tc.status)
			srv := mergetest.NewTestServer(t, mergetest.WithAgentWebhook(rc.URL, agentKey), mergetest.WithWebhookRetryWait(time.Millisecond))
			createUser(t, srv, "u1")
			ds, err := srv.WaitForAgentDeliveries(waitCtx(t), 1)
			require.NoError(t, err)
			assert.Equal(t, tc.attempts, ds[0].Attempts)
			assert.Equal(t, tc.final, ds[0].StatusCode)
			if tc.final == http.StatusOK {
				assert.NoError(t, ds[0].Err)
			} else {
				assert.ErrorContains(t, ds[0].Err, fmt.Sprint(tc.final))
			}
			require.Len(t, rc.got, tc.attempts, "one request per attempt")
			first := <-rc.got
			for range tc.attempts - 1 {
				h := <-rc.got
				assert.Equal(t, first.body, h.body, "a retry sends the same event")
				assert.True(t, agentSigned(h.body, h.agentSignature, agentKey))
			}
		})
	}
	assert.Equal(t, 5, mergetest.AgentDeliveryAttempts)
}

// gatedReceiver hands each request to got and answers it with the status
// the test then sends to answer, so that the test acts between attempts.
type gatedReceiver struct {
	*httptest.Server
	got    chan hook
	answer chan int
}

func newGatedReceiver(t *testing.T) *gatedReceiver {
	t.Helper()
	rc := &gatedReceiver{got: make(chan hook), answer: make(chan int)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.got <- hook{body: body, agentSignature: r.Header.Get("X-Merge-Signature")}
		w.WriteHeader(<-rc.answer)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// Rotating the verification key takes effect at once: the retry of an
// event first signed with the old key is signed with the new one only.
func TestRotateAgentWebhookKey(t *testing.T) {
	t.Parallel()
	rc := newGatedReceiver(t)
	srv := mergetest.NewTestServer(t, mergetest.WithAgentWebhook(rc.URL, agentKey), mergetest.WithWebhookRetryWait(time.Millisecond))
	u := createUser(t, srv, "u1")

	first := <-rc.got
	assert.True(t, agentSigned(first.body, first.agentSignature, agentKey))
	require.NoError(t, srv.RotateAgentWebhookKey("rotated-key"))
	rc.answer <- http.StatusServiceUnavailable

	retry := <-rc.got
	rc.answer <- http.StatusOK
	assert.Equal(t, first.body, retry.body)
	assert.True(t, agentSigned(retry.body, retry.agentSignature, "rotated-key"))
	assert.False(t, agentSigned(retry.body, retry.agentSignature, agentKey), "the old key no longer verifies")
	assert.ErrorIs(t, agenthandler.VerifyWebhookSignature(retry.body, retry.agentSignature, agentKey), agenthandler.ErrInvalidSignature)
	assert.NoError(t, agenthandler.VerifyWebhookSignature(retry.body, retry.agentSignature, "rotated-key"))

	createUser(t, srv, "u2")
	next := <-rc.got
	rc.answer <- http.StatusOK
	assert.True(t, agentSigned(next.body, next.agentSignature, "rotated-key"))
	assert.False(t, agentSigned(next.body, next.agentSignature, agentKey))

	ds, err := srv.WaitForAgentDeliveries(waitCtx(t), 2)
	require.NoError(t, err)
	for _, d := range ds { // two users: the order they finished in is not set
		want := 1
		if d.RegisteredUserID == u.ID {
			want = 2
		}
		assert.Equal(t, want, d.Attempts, "%v", d)
		assert.Equal(t, http.StatusOK, d.StatusCode)
	}

	assert.ErrorContains(t, srv.RotateAgentWebhookKey(""), "must not be empty")
}

// Without an Agent Handler webhook nothing is sent; SetAgentWebhook turns
// it on for later events.
func TestSetAgentWebhook(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	srv := mergetest.NewTestServer(t, mergetest.WithWebhook(rc.URL, webhookKey))
	createUser(t, srv, "before")
	assert.ErrorContains(t, srv.RotateAgentWebhookKey("k2"), "WithAgentWebhook")

	require.NoError(t, srv.SetAgentWebhook(rc.URL, agentKey))
	u := createUser(t, srv, "after")
	ds, err := srv.WaitForAgentDeliveries(waitCtx(t), 1)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, u.ID, ds[0].RegisteredUserID, "only the event after SetAgentWebhook is sent")
	h := <-rc.got
	assert.Equal(t, "registered_user.created", h.event)
	assert.True(t, agentSigned(h.body, h.agentSignature, agentKey))
	assert.Empty(t, rc.got)
	assert.Empty(t, srv.Deliveries(), "agent events are not Unified API webhooks")

	for _, bad := range [][2]string{{"ftp://x", agentKey}, {rc.URL, ""}} {
		assert.Error(t, srv.SetAgentWebhook(bad[0], bad[1]), "%q", bad)
	}
	srv.Close()
	assert.ErrorIs(t, srv.SetAgentWebhook(rc.URL, agentKey), mergetest.ErrClosed)
}

func TestBadAgentWebhookOptions(t *testing.T) {
	t.Parallel()
	for _, opt := range []mergetest.ServerOption{
		mergetest.WithAgentWebhook("ftp://x", "k"),
		mergetest.WithAgentWebhook("http://127.0.0.1:1/hook", ""),
	} {
		assert.Panics(t, func() { mergetest.NewServer(opt) })
	}
}
