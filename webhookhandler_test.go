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
	"time"

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
	assert.Contains(t, err.Error(), "nil *delivery.MemoryStore")
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

// A handler not made by NewWebhookHandler answers 500 instead of panicking.
func TestZeroWebhookHandler(t *testing.T) {
	t.Parallel()
	var zero mergelink.WebhookHandler
	rec := httptest.NewRecorder()
	body := []byte(`{"hook":{"event":"LinkedAccount.linked"}}`)
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, testWebhookKey))
	zero.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, zero.String(), "not made by NewWebhookHandler")
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
	state    mergelink.DeliveryState
	err      error
	doneErrs []error // what the first calls of Done return, in turn; then doneErr
	doneErr  error
	mu       sync.Mutex
	keys     []string
	done     map[string]bool
	dones    int
}

func (s *stubStore) Begin(_ context.Context, key, _ string, _ time.Duration) (mergelink.DeliveryState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, key)
	return s.state, s.err
}

func (s *stubStore) Done(_ context.Context, key, _ string, ok bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = map[string]bool{}
	}
	s.done[key] = ok
	s.dones++
	if s.dones <= len(s.doneErrs) {
		return s.doneErrs[s.dones-1]
	}
	return s.doneErr
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
		{"store error", &stubStore{err: errors.New("redis down")}, http.StatusServiceUnavailable, -1},
		{"unknown state", &stubStore{state: mergelink.DeliveryState(7)}, http.StatusServiceUnavailable, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r recorder
			h := newHandler(t, r.fn, mergelink.WithDuplicateStore(tc.store))
			rec := postSigned(h, body)
			assert.Equal(t, tc.want, rec.Code)
			assert.Equal(t, max(tc.calls, 0), r.calls())
			assert.Equal(t, []string{wantKey}, tc.store.keys, "the key is the SHA-256 of the signed body")
			if tc.want == http.StatusServiceUnavailable {
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
				assert.NotContains(t, rec.Body.String(), "redis")
			}
			switch tc.calls {
			case 1:
				assert.Equal(t, map[string]bool{wantKey: true}, tc.store.done)
				assert.Equal(t, wantKey, r.events[0].DeliveryKey(), "fn sees the store's key")
			case -1: // Begin failed: the claim it may have made is released
				assert.Equal(t, map[string]bool{wantKey: false}, tc.store.done)
			default:
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

func (s signalStore) Begin(ctx context.Context, key, owner string, lease time.Duration) (mergelink.DeliveryState, error) {
	s.begun <- struct{}{}
	return s.MemoryDeliveryStore.Begin(ctx, key, owner, lease)
}

// Copies that arrive together: the function runs once when it succeeds;
// when it fails, one waiting copy runs it again and the rest are done.
func TestWebhookHandlerConcurrentCopies(t *testing.T) {
	t.Parallel()
	for _, firstFails := range []bool{false, true} {
		t.Run(fmt.Sprint("first fails ", firstFails), func(t *testing.T) {
			t.Parallel()
			const copies = 8
			mem, err := mergelink.NewMemoryDeliveryStore(mergelink.MemoryDeliveryStoreOptions{})
			require.NoError(t, err)
			store := signalStore{mem, make(chan struct{}, copies)}
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

// fn's context ends at four fifths of the lease, so that the outcome is
// recorded while the claim is still the handler's.
func TestWebhookHandlerFunctionDeadlineBeforeLease(t *testing.T) {
	t.Parallel()
	const lease = 10 * time.Second
	var deadline time.Time
	var ok bool
	h := newHandler(t, func(ctx context.Context, _ *mergelink.WebhookEvent) error {
		deadline, ok = ctx.Deadline()
		return nil
	}, mergelink.WithDeliveryLease(lease))
	start := time.Now()
	require.Equal(t, http.StatusOK, postSigned(h, payload(mergelink.EventIssueNew, `{}`)).Code)
	end := time.Now()
	require.True(t, ok, "fn's context has a deadline")
	assert.False(t, deadline.Before(start.Add(lease*4/5)), "deadline %v is before start+8s", deadline.Sub(start))
	assert.False(t, deadline.After(end.Add(lease*4/5)), "deadline %v is after end+8s", deadline.Sub(end))
}

func TestWebhookHandlerLeaseOptionValidated(t *testing.T) {
	t.Parallel()
	var r recorder
	_, err := mergelink.NewWebhookHandler(r.fn, []string{testWebhookKey}, mergelink.WithDeliveryLease(999*time.Millisecond))
	var verr *mergelink.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("WithDeliveryLease"))
}

// The outcome is recorded with the claim's owner token before the answer
// is sent. A failed record of a success is retried within the fifth of the
// lease left for it; when every try fails the answer is still 200 (the
// function completed, so Merge must not send it again) and the failure is
// logged at error level. A failure to record a failure answers 500.
func TestWebhookHandlerRecordsOutcome(t *testing.T) {
	t.Parallel()
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name     string
		fnErr    error
		doneErrs []error
		doneErr  error
		want     int
		dones    int // 0: at least 2
		log      string
	}{
		{"success", nil, nil, nil, http.StatusOK, 1, ""},
		{"failure", errors.New("boom"), nil, nil, http.StatusInternalServerError, 1, "handler function failed"},
		{"claim lost after success", nil, nil, mergelink.ErrDeliveryClaimLost, http.StatusOK, 1, "claim lost"},
		{"store blip after success", nil, []error{down, down}, nil, http.StatusOK, 3, ""},
		{"store down after success", nil, nil, down, http.StatusOK, 0, "level=ERROR msg=\"merge webhook: duplicate store failed to record the outcome"},
		{"store down after failure", errors.New("boom"), nil, down, http.StatusInternalServerError, 1, "failed to record the outcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			var mu sync.Mutex
			logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
			store := &stubStore{state: mergelink.DeliveryNew, doneErrs: tc.doneErrs, doneErr: tc.doneErr}
			h := newHandler(t, func(context.Context, *mergelink.WebhookEvent) error { return tc.fnErr },
				mergelink.WithDuplicateStore(store), mergelink.WithWebhookLogger(logger), mergelink.WithDeliveryLease(time.Second))
			rec := postSigned(h, payload(mergelink.EventIssueNew, `{}`))
			assert.Equal(t, tc.want, rec.Code)
			if tc.dones == 0 {
				assert.Greater(t, store.dones, 1, "the record is retried")
			} else {
				assert.Equal(t, tc.dones, store.dones, "calls of Done")
			}
			require.Len(t, store.done, 1)
			for _, ok := range store.done {
				assert.Equal(t, tc.fnErr == nil, ok)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.log != "" {
				assert.Contains(t, logs.String(), tc.log)
			} else {
				assert.Empty(t, logs.String())
			}
		})
	}
}

// Begin and Done carry one owner token, a fresh one per request.
func TestWebhookHandlerOwnerTokens(t *testing.T) {
	t.Parallel()
	store := &ownerStore{}
	h := newHandler(t, func(context.Context, *mergelink.WebhookEvent) error {
		return errors.New("fail, so the next copy claims again")
	},
		mergelink.WithDuplicateStore(store))
	body := payload(mergelink.EventIssueNew, `{}`)
	postSigned(h, body)
	postSigned(h, body)
	require.Len(t, store.begun, 2)
	assert.Equal(t, store.begun, store.done, "Done names the owner that Begin did")
	assert.NotEqual(t, store.begun[0], store.begun[1], "each request has its own owner")
	assert.Len(t, store.begun[0], 32)
}

type ownerStore struct {
	mu          sync.Mutex
	begun, done []string
}

func (s *ownerStore) Begin(_ context.Context, _, owner string, lease time.Duration) (mergelink.DeliveryState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.begun = append(s.begun, owner)
	if lease != mergelink.DefaultDeliveryLease {
		return mergelink.DeliveryBusy, fmt.Errorf("lease %v, want the default", lease)
	}
	return mergelink.DeliveryNew, nil
}

func (s *ownerStore) Done(_ context.Context, _, owner string, _ bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = append(s.done, owner)
	return nil
}

// A sender that hung up while the function ran does not undo its success:
// the outcome is recorded without the request's context.
func TestWebhookHandlerRecordsAfterClientLeft(t *testing.T) {
	t.Parallel()
	store, err := mergelink.NewMemoryDeliveryStore(mergelink.MemoryDeliveryStoreOptions{})
	require.NoError(t, err)
	body := payload(mergelink.EventIssueNew, `{}`)
	ctx, cancel := context.WithCancel(context.Background())
	h := newHandler(t, func(context.Context, *mergelink.WebhookEvent) error { cancel(); return nil }, mergelink.WithDuplicateStore(store))
	b, sig := signed(body)
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set(mergelink.SignatureHeader, sig)
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.Equal(t, 1, store.Len(), "the success is recorded")
}

// cancelStore cancels the request's context while granting the claim, as
// when a claim comes after the function's time is gone.
type cancelStore struct {
	stubStore
	cancel context.CancelFunc
}

func (s *cancelStore) Begin(ctx context.Context, key, owner string, lease time.Duration) (mergelink.DeliveryState, error) {
	s.cancel()
	return s.stubStore.Begin(ctx, key, owner, lease)
}

// A claim granted when the function's context has already ended is
// released at once, and answered 503 without calling the function.
func TestWebhookHandlerClaimTooLate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	store := &cancelStore{stubStore: stubStore{state: mergelink.DeliveryNew}, cancel: cancel}
	var r recorder
	h := newHandler(t, r.fn, mergelink.WithDuplicateStore(store))
	b, sig := signed(payload(mergelink.EventIssueNew, `{}`))
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set(mergelink.SignatureHeader, sig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Zero(t, r.calls())
	require.Len(t, store.done, 1)
	for _, ok := range store.done {
		assert.False(t, ok, "the claim is released as a failure")
	}
}
