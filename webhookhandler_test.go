package mergelink_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// recorder counts the events a handler function receives and can be told
// to fail.
type recorder struct {
	mu     sync.Mutex
	events []*mergelink.WebhookEvent
	fail   error
}

func (r *recorder) fn(_ context.Context, ev *mergelink.WebhookEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.fail
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func newHandler(t *testing.T, fn func(context.Context, *mergelink.WebhookEvent) error, opts ...mergelink.WebhookOption) *mergelink.WebhookHandler {
	t.Helper()
	h, err := mergelink.NewWebhookHandler(fn, []string{testWebhookKey}, opts...)
	require.NoError(t, err)
	return h
}

// post sends body, signed with sig when sig is not empty, to h.
func post(h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/merge", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(mergelink.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// postSigned sends body signed with testWebhookKey.
func postSigned(h http.Handler, body string) *httptest.ResponseRecorder {
	b, sig := signed(body)
	return post(h, b, sig)
}

func TestWebhookHandlerAcceptsAndPassesTheEvent(t *testing.T) {
	t.Parallel()
	var r recorder
	h := newHandler(t, r.fn)
	rec := postSigned(h, payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-h-1","is_relink":false}`))
	assert.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, 1, r.calls())
	ev := r.events[0]
	assert.Equal(t, mergelink.EventLinkedAccountLinked, ev.Type())
	assert.Equal(t, "acct-1", ev.LinkedAccount.ID)
	token, ok := ev.AccountToken()
	assert.True(t, ok)
	assert.Equal(t, "tok-h-1", token)
}

func TestWebhookHandlerRefusals(t *testing.T) {
	t.Parallel()
	good := []byte(payload(mergelink.EventIssueNew, `{"id":"issue-1"}`))
	goodSig := mergelink.SignWebhook(good, testWebhookKey)
	notMerge := []byte(`{"hello":"world"}`)
	big := bytes.Repeat([]byte("x"), 65)
	for _, tc := range []struct {
		name    string
		method  string
		body    []byte
		sig     string
		chunked bool // send without a Content-Length
		limit   int64
		want    int
	}{
		{"GET", http.MethodGet, nil, "", false, 0, http.StatusMethodNotAllowed},
		{"PUT with a good signature", http.MethodPut, good, goodSig, false, 0, http.StatusMethodNotAllowed},
		{"HEAD", http.MethodHead, nil, "", false, 0, http.StatusMethodNotAllowed},
		{"over the limit", http.MethodPost, big, mergelink.SignWebhook(big, testWebhookKey), false, 64, http.StatusRequestEntityTooLarge},
		{"over the limit, length unknown", http.MethodPost, big, mergelink.SignWebhook(big, testWebhookKey), true, 64, http.StatusRequestEntityTooLarge},
		{"no signature", http.MethodPost, good, "", false, 0, http.StatusUnauthorized},
		{"wrong signature", http.MethodPost, good, vectorHelloSigA, false, 0, http.StatusUnauthorized},
		{"signed with another key", http.MethodPost, good, mergelink.SignWebhook(good, vectorKeyA), false, 0, http.StatusUnauthorized},
		{"tampered body", http.MethodPost, append([]byte(" "), good...), goodSig, false, 0, http.StatusUnauthorized},
		{"signed but not a Merge payload", http.MethodPost, notMerge, mergelink.SignWebhook(notMerge, testWebhookKey), false, 0, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r recorder
			var opts []mergelink.WebhookOption
			if tc.limit > 0 {
				opts = append(opts, mergelink.WithMaxBodyBytes(tc.limit))
			}
			h := newHandler(t, r.fn, opts...)
			req := httptest.NewRequest(tc.method, "/webhooks/merge", bytes.NewReader(tc.body))
			if tc.chunked {
				req.ContentLength = -1
			}
			if tc.sig != "" {
				req.Header.Set(mergelink.SignatureHeader, tc.sig)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.want, rec.Code, rec.Body.String())
			assert.Zero(t, r.calls(), "the function is not called")
			if tc.want == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
			}
		})
	}
}

func TestWebhookHandlerBodyLimit(t *testing.T) {
	t.Parallel()
	body := []byte(payload(mergelink.EventIssueNew, `{}`))
	var r recorder
	exact := newHandler(t, r.fn, mergelink.WithMaxBodyBytes(int64(len(body))))
	assert.Equal(t, http.StatusOK, postSigned(exact, string(body)).Code, "a body of exactly the limit")
	tight := newHandler(t, r.fn, mergelink.WithMaxBodyBytes(int64(len(body)-1)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, postSigned(tight, string(body)).Code)
	assert.Equal(t, 1, r.calls())

	// The default limit is 1 MiB.
	def := newHandler(t, r.fn)
	pad := strings.Repeat(" ", 1<<20-len(body))
	assert.Equal(t, http.StatusOK, postSigned(def, string(body)+pad).Code)
	assert.Equal(t, http.StatusRequestEntityTooLarge, postSigned(def, string(body)+pad+" ").Code)
}

func TestWebhookHandlerRequestWithoutBody(t *testing.T) {
	t.Parallel()
	var r recorder
	h := newHandler(t, r.fn)
	req, err := http.NewRequest(http.MethodPost, "/webhooks/merge", nil)
	require.NoError(t, err)
	req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(nil, testWebhookKey))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code, "an empty body, rightly signed, is not a Merge payload")
	assert.Contains(t, rec.Body.String(), "empty body")
	assert.Zero(t, r.calls())
}

func TestWebhookHandlerFunctionFailure(t *testing.T) {
	t.Parallel()
	r := recorder{fail: errors.New("database down at postgres://user:pw-LEAK@db")}
	h := newHandler(t, r.fn)
	rec := postSigned(h, payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-LEAK-fail"}`))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, 1, r.calls())
	assert.NotContains(t, rec.Body.String(), "LEAK")
	assert.NotContains(t, rec.Body.String(), "database")
}

func TestNewWebhookHandlerErrors(t *testing.T) {
	t.Parallel()
	var r recorder
	for _, keys := range [][]string{nil, {}, {""}} {
		h, err := mergelink.NewWebhookHandler(r.fn, keys)
		assert.ErrorIs(t, err, mergelink.ErrNoWebhookKey)
		assert.Nil(t, h)
	}
	var nilStore *mergelink.MemoryDeliveryStore
	_, err := mergelink.NewWebhookHandler(nil, []string{testWebhookKey}, mergelink.WithMaxBodyBytes(0), mergelink.WithDuplicateStore(nilStore))
	var verr *mergelink.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("fn"))
	assert.True(t, verr.Has("WithMaxBodyBytes"))
	assert.True(t, verr.Has("WithDuplicateStore"))
	assert.Contains(t, err.Error(), "nil *mergelink.MemoryDeliveryStore")
	assert.NotContains(t, err.Error(), testWebhookKey)
}

func TestWebhookHandlerHidesKeys(t *testing.T) {
	t.Parallel()
	var r recorder
	h := newHandler(t, r.fn)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s %x", h, h, h, h, h), fmt.Sprintf("%+v %#v %v", *h, *h, *h)} {
		assert.NotContains(t, out, testWebhookKey)
		assert.NotContains(t, out, hex.EncodeToString([]byte(testWebhookKey)))
		assert.Contains(t, out, "keys: 1 hidden")
	}
}

// A key rotation: during it both keys verify.
func TestWebhookHandlerTwoKeys(t *testing.T) {
	t.Parallel()
	var r recorder
	h, err := mergelink.NewWebhookHandler(r.fn, []string{vectorKeyA, vectorKeyB})
	require.NoError(t, err)
	body := []byte(payload(mergelink.EventIssueResolved, `{"id":"i"}`))
	assert.Equal(t, http.StatusOK, post(h, body, mergelink.SignWebhook(body, vectorKeyA)).Code)
	body2 := []byte(payload(mergelink.EventIssueMuted, `{"id":"i"}`))
	assert.Equal(t, http.StatusOK, post(h, body2, mergelink.SignWebhook(body2, vectorKeyB)).Code)
	assert.Equal(t, http.StatusUnauthorized, post(h, body2, mergelink.SignWebhook(body2, testWebhookKey)).Code)
	assert.Equal(t, 2, r.calls())
}

func TestWebhookHandlerDropsDuplicates(t *testing.T) {
	t.Parallel()
	var r recorder
	h := newHandler(t, r.fn)
	body := payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-dup"}`)
	first, second := postSigned(h, body), postSigned(h, body)
	assert.Equal(t, http.StatusOK, first.Code)
	assert.Equal(t, http.StatusOK, second.Code)
	assert.Contains(t, second.Body.String(), "already processed")
	assert.Equal(t, 1, r.calls(), "a retry of a processed delivery does not reach the function")

	other := payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-dup2"}`)
	assert.Equal(t, http.StatusOK, postSigned(h, other).Code)
	assert.Equal(t, 2, r.calls(), "another body is another delivery")
}

func TestWebhookHandlerRerunsFailedDelivery(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := newHandler(t, func(context.Context, *mergelink.WebhookEvent) error {
		if calls.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		return nil
	})
	body := payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-retry"}`)
	assert.Equal(t, http.StatusInternalServerError, postSigned(h, body).Code)
	assert.Equal(t, http.StatusOK, postSigned(h, body).Code, "Merge's retry runs the function again")
	assert.Equal(t, http.StatusOK, postSigned(h, body).Code)
	assert.Equal(t, int32(2), calls.Load(), "once it succeeded, the delivery is not run again")
}

func TestWebhookHandlerForgetsDeliveryWhoseFunctionPanicked(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := newHandler(t, func(context.Context, *mergelink.WebhookEvent) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	})
	body := payload(mergelink.EventIssueNew, `{}`)
	func() {
		defer func() { assert.Equal(t, "boom", recover()) }()
		postSigned(h, body)
	}()
	assert.Equal(t, http.StatusOK, postSigned(h, body).Code)
	assert.Equal(t, int32(2), calls.Load())
}

func TestWebhookHandlerTestPayloadAlwaysReachesFunction(t *testing.T) {
	t.Parallel()
	var r recorder
	h := newHandler(t, r.fn)
	for range 2 {
		assert.Equal(t, http.StatusOK, postSigned(h, `{"response": "Success! This URL will be notified."}`).Code)
	}
	require.Equal(t, 2, r.calls())
	assert.True(t, r.events[1].IsTest())
}

func TestWebhookHandlerWithoutDuplicateStore(t *testing.T) {
	t.Parallel()
	var r recorder
	h := newHandler(t, r.fn, mergelink.WithDuplicateStore(nil))
	body := payload(mergelink.EventIssueNew, `{}`)
	postSigned(h, body)
	postSigned(h, body)
	assert.Equal(t, 2, r.calls())
}

// stubStore answers Begin with a fixed state or error and records keys.
type stubStore struct {
	state mergelink.DeliveryState
	err   error
	mu    sync.Mutex
	keys  []string
	done  map[string]bool
}

func (s *stubStore) Begin(_ context.Context, key string) (mergelink.DeliveryState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, key)
	return s.state, s.err
}

func (s *stubStore) Done(key string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = map[string]bool{}
	}
	s.done[key] = ok
}

func TestWebhookHandlerCustomStore(t *testing.T) {
	t.Parallel()
	body := payload(mergelink.EventIssueNew, `{}`)
	sum := sha256.Sum256([]byte(body))
	wantKey := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name  string
		store *stubStore
		want  int
		calls int
	}{
		{"new", &stubStore{state: mergelink.DeliveryNew}, http.StatusOK, 1},
		{"done", &stubStore{state: mergelink.DeliveryDone}, http.StatusOK, 0},
		{"busy", &stubStore{state: mergelink.DeliveryBusy}, http.StatusServiceUnavailable, 0},
		{"store error", &stubStore{err: errors.New("redis down")}, http.StatusServiceUnavailable, 0},
		{"unknown state", &stubStore{state: mergelink.DeliveryState(7)}, http.StatusServiceUnavailable, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r recorder
			h := newHandler(t, r.fn, mergelink.WithDuplicateStore(tc.store))
			rec := postSigned(h, body)
			assert.Equal(t, tc.want, rec.Code)
			assert.Equal(t, tc.calls, r.calls())
			assert.Equal(t, []string{wantKey}, tc.store.keys, "the key is the SHA-256 of the signed body")
			if tc.want == http.StatusServiceUnavailable {
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
				assert.NotContains(t, rec.Body.String(), "redis")
			}
			if tc.calls == 1 {
				assert.Equal(t, map[string]bool{wantKey: true}, tc.store.done)
			} else {
				assert.Empty(t, tc.store.done, "Done only after a granted claim")
			}
		})
	}
}

// signalStore tells when each Begin is called, then lets the memory store
// answer.
type signalStore struct {
	*mergelink.MemoryDeliveryStore
	begun chan struct{}
}

func (s signalStore) Begin(ctx context.Context, key string) (mergelink.DeliveryState, error) {
	s.begun <- struct{}{}
	return s.MemoryDeliveryStore.Begin(ctx, key)
}

// Copies that arrive together: the function runs once when it succeeds;
// when it fails, one waiting copy runs it again and the rest are done.
func TestWebhookHandlerConcurrentCopies(t *testing.T) {
	t.Parallel()
	for _, firstFails := range []bool{false, true} {
		t.Run(fmt.Sprint("first fails ", firstFails), func(t *testing.T) {
			t.Parallel()
			const copies = 8
			store := signalStore{newStore(t, mergelink.MemoryDeliveryStoreOptions{}), make(chan struct{}, copies)}
			var calls atomic.Int32
			h := newHandler(t, func(context.Context, *mergelink.WebhookEvent) error {
				if calls.Add(1) == 1 {
					for range copies { // hold the first run until every copy is in
						<-store.begun
					}
					if firstFails {
						return errors.New("first run fails")
					}
				}
				return nil
			}, mergelink.WithDuplicateStore(store))
			body := payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-conc"}`)
			codes := make(chan int, copies)
			for range copies {
				go func() { codes <- postSigned(h, body).Code }()
			}
			count := map[int]int{}
			for range copies {
				count[<-codes]++
			}
			if firstFails {
				assert.Equal(t, int32(2), calls.Load())
				assert.Equal(t, map[int]int{http.StatusInternalServerError: 1, http.StatusOK: copies - 1}, count)
			} else {
				assert.Equal(t, int32(1), calls.Load())
				assert.Equal(t, map[int]int{http.StatusOK: copies}, count)
			}
		})
	}
}

// Many deliveries, each sent several times, and forged requests, all at
// once over a loopback server: each delivery reaches the function once and
// every forged request is refused.
func TestWebhookHandlerUnderConcurrentLoad(t *testing.T) {
	t.Parallel()
	const deliveries, copies, workers = 60, 3, 12
	var mu sync.Mutex
	seen := map[string]int{}
	h := newHandler(t, func(_ context.Context, ev *mergelink.WebhookEvent) error {
		mu.Lock()
		defer mu.Unlock()
		seen[ev.LinkedAccount.ID]++
		return nil
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	type job struct {
		body   []byte
		sig    string
		status int
	}
	jobs := make(chan job)
	go func() {
		defer close(jobs)
		for c := range copies {
			for d := range deliveries {
				body := []byte(strings.Replace(payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok"}`), `"acct-1"`, fmt.Sprintf(`"acct-%d"`, d), 1))
				jobs <- job{body, mergelink.SignWebhook(body, testWebhookKey), http.StatusOK}
				if d%10 == c {
					jobs <- job{body, mergelink.SignWebhook(body, "forged"), http.StatusUnauthorized}
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(j.body))
				if !assert.NoError(t, err) {
					continue
				}
				req.Header.Set(mergelink.SignatureHeader, j.sig)
				resp, err := srv.Client().Do(req)
				if !assert.NoError(t, err) {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, j.status, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, seen, deliveries)
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
}

func TestWebhookHandlerLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHandler(t, func(context.Context, *mergelink.WebhookEvent) error {
		return errors.New("could not store the token")
	}, mergelink.WithWebhookLogger(logger))
	body := payload(mergelink.EventLinkedAccountLinked, `{"account_token":"tok-LEAKCHECK-log"}`)
	b, sig := signed(body)
	assert.Equal(t, http.StatusInternalServerError, post(h, b, sig).Code)
	assert.Equal(t, http.StatusUnauthorized, post(h, b, vectorHelloSigA).Code)

	mu.Lock()
	out := logs.String()
	mu.Unlock()
	assert.Contains(t, out, "handler function failed")
	assert.Contains(t, out, "could not store the token")
	assert.Contains(t, out, `"linked_account_id":"acct-1"`)
	assert.Contains(t, out, `"status":401`)
	for _, secret := range []string{"tok-LEAKCHECK-log", testWebhookKey, sig, strings.TrimRight(vectorHelloSigA, "=")} {
		assert.NotContains(t, out, secret)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
