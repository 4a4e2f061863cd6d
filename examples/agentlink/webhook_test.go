package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/examples/internal/clitest"
	"github.com/mergelink/mergelink/mergetest"
)

const testWebhookKey = "ah-webhook-key"

// hexSig signs body as Agent Handler does, with crypto/hmac.
func hexSig(body, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	const created = `{"id":"e1","event":"credential.created","data":{"registered_user":{"id":"ru-1"},"connector":{"slug":"linear","name":"Linear"}}}`
	const userEvent = `{"id":"e2","event":"registered_user.created","data":{"registered_user":{"id":"ru-1"}}}`
	mac := hmac.New(sha256.New, []byte(testWebhookKey))
	mac.Write([]byte(created))
	b64 := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, tc := range []struct {
		name, method, body, sig string
		status                  int
		got                     []connected
	}{
		{"credential.created", "POST", created, hexSig(created, testWebhookKey), http.StatusOK, []connected{{"ru-1", "linear"}}},
		{"sha256= prefix", "POST", created, "sha256=" + hexSig(created, testWebhookKey), http.StatusOK, []connected{{"ru-1", "linear"}}},
		{"base64", "POST", created, b64, http.StatusOK, []connected{{"ru-1", "linear"}}},
		{"another event", "POST", userEvent, hexSig(userEvent, testWebhookKey), http.StatusOK, nil},
		{"wrong key", "POST", created, hexSig(created, "other key"), http.StatusUnauthorized, nil},
		{"tampered body", "POST", strings.Replace(created, "ru-1", "ru-2", 1), hexSig(created, testWebhookKey), http.StatusUnauthorized, nil},
		{"no signature", "POST", created, "", http.StatusUnauthorized, nil},
		{"not JSON", "POST", "{", hexSig("{", testWebhookKey), http.StatusBadRequest, nil},
		{"GET", "GET", "", "", http.StatusMethodNotAllowed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []connected
			h, err := newWebhooks(testWebhookKey, func(c connected) { got = append(got, c) })
			require.NoError(t, err)
			r := httptest.NewRequest(tc.method, webhookPath, strings.NewReader(tc.body))
			if tc.sig != "" {
				r.Header.Set("X-Merge-Signature", tc.sig)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.got, got)
		})
	}
}

func TestWaiterSaysWhichCameFirst(t *testing.T) {
	t.Parallel()
	ok := &agenthandler.CallbackResult{Status: "success", State: "s"}
	mine := connected{"ru-1", "linear"}
	for _, tc := range []struct {
		name     string
		webhooks bool
		arrivals []any // *agenthandler.CallbackResult or connected, in order
		code     int
		want     []string
		stderr   string
	}{
		{"callback first", true, []any{ok, mine}, 0,
			[]string{"Callback received", "Waiting up to 1h0m0s for the credential.created webhook", "Webhook credential.created received", "Both arrived: the callback came first."}, ""},
		{"webhook first", true, []any{mine, ok}, 0,
			[]string{"Webhook credential.created received", "Waiting for the callback", "Callback received", "Both arrived: the credential.created webhook came first."}, ""},
		{"others' webhooks ignored", true, []any{connected{"ru-2", "linear"}, connected{"ru-1", "github"}, ok, mine}, 0,
			[]string{"Callback received", "Webhook credential.created received", "Both arrived: the callback came first."}, ""},
		{"failed callback", true, []any{&agenthandler.CallbackResult{Status: "declined"}}, 1, nil, `status "declined"`},
		{"webhooks off", false, []any{ok}, 0, []string{"Callback received"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			// Unbuffered: each arrival is taken before the next is sent, so
			// their order is the test's.
			callbacks := make(chan *agenthandler.CallbackResult)
			var credentials chan connected
			if tc.webhooks {
				credentials = make(chan connected)
			}
			done := make(chan int, 1)
			w := waiter{stdout: &stdout, stderr: &stderr, connector: "linear", userName: "Yash", userID: "ru-1", webhookWait: time.Hour}
			go func() { done <- w.wait(context.Background(), callbacks, credentials) }()
			for _, a := range tc.arrivals {
				var sent bool
				switch a := a.(type) {
				case *agenthandler.CallbackResult:
					select {
					case callbacks <- a:
						sent = true
					case code := <-done:
						done <- code
					}
				case connected:
					select {
					case credentials <- a:
						sent = true
					case code := <-done:
						done <- code
					}
				}
				require.True(t, sent, "the waiter returned before taking %v", a)
			}
			code := <-done
			assert.Equal(t, tc.code, code, stderr.String())
			out := stdout.String()
			at := 0
			for _, line := range tc.want {
				i := strings.Index(out[at:], line)
				require.GreaterOrEqual(t, i, 0, "%q not after byte %d of:\n%s", line, at, out)
				at += i + len(line)
			}
			if !tc.webhooks {
				assert.NotContains(t, out, "Both arrived")
				assert.NotContains(t, out, "webhook")
			}
			if tc.stderr == "" {
				assert.Empty(t, stderr.String())
			} else {
				assert.Contains(t, stderr.String(), tc.stderr)
			}
		})
	}
}

func TestWaiterGivesUpOnTheWebhook(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	callbacks := make(chan *agenthandler.CallbackResult, 1)
	callbacks <- &agenthandler.CallbackResult{Status: "success"}
	w := waiter{stdout: &stdout, stderr: &stderr, connector: "linear", userName: "Yash", userID: "ru-1", webhookWait: time.Millisecond}
	code := w.wait(context.Background(), callbacks, make(chan connected))
	assert.Equal(t, 0, code, "the callback said the user connected")
	assert.Contains(t, stderr.String(), "no credential.created webhook came within 1ms")
	assert.NotContains(t, stdout.String(), "Both arrived")
}

// The whole run against mergetest: the credential.created webhook, sent by
// mergetest to the command's webhook URL, arrives before the browser's
// callback here, and the command says so.
func TestRunWaitsForTheWebhook(t *testing.T) {
	t.Parallel()
	srv := mergetest.NewTestServer(t, mergetest.WithWebhookRetryWait(time.Millisecond))
	env := func(k string) string {
		switch k {
		case "MERGE_API_KEY":
			return srv.APIKey()
		case webhookKeyEnv:
			return testWebhookKey
		}
		return ""
	}
	var stderr strings.Builder
	out := clitest.Start(func(stdout io.Writer) int {
		return run(context.Background(), []string{"-addr", "127.0.0.1:0", "-user-id", "user-1234", "-user-name", "Yash", "-connector", "linear"},
			env, stdout, &stderr, srv.ClientOptions()...)
	})
	var magic string
	for magic == "" {
		l, ok := out.Next(t)
		if !ok {
			t.Fatalf("run ended early: %s\n%s", out, stderr.String())
		}
		if rest, found := strings.CutPrefix(l, webhookURLLine); found {
			hookURL, _, _ := strings.Cut(rest, " ")
			require.True(t, strings.HasPrefix(hookURL, "http://localhost:"), hookURL)
			require.NoError(t, srv.SetAgentWebhook(hookURL, testWebhookKey))
		}
		if _, cb, found := strings.Cut(l, "comes back to "); found {
			// What the user does in the dashboard.
			require.NoError(t, srv.AllowCallbackOrigins(origin(cb)))
		}
		if rest, found := strings.CutPrefix(l, magicLinkLine); found {
			magic = rest
		}
	}
	redirect, err := srv.CompleteAgentLink(magic)
	require.NoError(t, err)
	// The webhook is delivered (and accepted) before the browser follows
	// the redirect.
	for n := 1; ; n++ {
		ds, err := srv.WaitForAgentDeliveries(waitCtx(t), n)
		require.NoError(t, err)
		if d := ds[n-1]; d.Event == "credential.created" {
			require.Equal(t, http.StatusOK, d.StatusCode, "%v", d)
			break
		}
	}
	status, body := get(t, redirect)
	assert.Equal(t, http.StatusOK, status, body)

	code, lines := out.Wait(t)
	assert.Equal(t, 0, code, stderr.String())
	all := strings.Join(lines, "\n")
	assert.Contains(t, all, "Webhook credential.created received (signature verified): linear is connected for Yash.")
	assert.Contains(t, all, "Both arrived: the credential.created webhook came first.")
	assert.Empty(t, stderr.String())
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), clitest.Timeout)
	t.Cleanup(cancel)
	return ctx
}
