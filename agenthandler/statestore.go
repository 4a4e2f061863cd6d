package agenthandler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// ErrStateUnknown means a callback's state is not one the app saved, or
// was already taken (a replay), or has expired: refuse the callback.
var ErrStateUnknown = errors.New("mergelink: callback state is unknown, used or expired: refuse it")

// StateStore keeps the states an app sent with its links until their
// callbacks come back, so that any replica of the app can check a
// callback (see ParseStoredCallback). Each state is taken once. A store
// is safe for concurrent use.
type StateStore interface {
	// Save keeps state, with value (your data for the link, such as the
	// user's id), until expires.
	Save(ctx context.Context, state, value string, expires time.Time) error
	// Take removes state and returns its value; ok is false when the
	// store does not hold it or it has expired. Of concurrent Takes of
	// one state, at most one returns ok.
	Take(ctx context.Context, state string) (value string, ok bool, err error)
}

// AppendCallbackState returns magicLinkURL with a callback URL added that
// carries state in its own query (callbackURL?state=...), for a link whose
// link token was made without one: the links that authenticate_* tools
// return, say. Merge keeps a callback URL's query and adds status to it,
// so the callback comes back with the state; check it with
// ParseStoredCallback (or ParseCallback). It fails when state is empty,
// when callbackURL already has a state or status parameter, and as
// AppendCallbackURL fails.
func AppendCallbackState(magicLinkURL, callbackURL, state string) (string, error) {
	v := validate.New("AppendCallbackState")
	v.Required("state", state)
	v.UTF8("state", state)
	for _, k := range validate.QueryKeys(callbackURL) {
		if k == "state" || k == "status" {
			v.Add("callbackURL", "must have no "+k+" query parameter of its own: the state is added here, the status by Merge", validate.QuoteURL(callbackURL))
		}
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	return AppendCallbackURL(magicLinkURL, addQueryParam(callbackURL, "state", state))
}

// addQueryParam returns raw with name=value (value escaped) added to its
// query, the rest, fragment included, kept byte for byte.
func addQueryParam(raw, name, value string) string {
	head, fragment, hasFragment := strings.Cut(raw, "#")
	// The query is what follows the first "?": "??" ends with a "?" but
	// holds a parameter named "?", which the new one must not join.
	switch _, query, hasQuery := strings.Cut(head, "?"); {
	case !hasQuery:
		head += "?"
	case query != "" && !strings.HasSuffix(query, "&"):
		head += "&"
	}
	head += name + "=" + url.QueryEscape(value)
	if hasFragment {
		head += "#" + fragment
	}
	return head
}

// ParseStoredCallback reads the query of a request to a callback URL (use
// r.URL.Query()), takes its state from store (so that a replay, or a
// state the app never sent, fails) and returns the result with the value
// saved with the state. Unlike ParseCallback it needs no state up front,
// so it suits an app behind several replicas, whose callback may reach
// another replica than the one that made the link.
//
// A callback whose state parameter is empty (state=) is refused with
// ErrStateMissing, like one without it, and the store is not asked: no
// state is ever saved empty. It fails with ErrStateMismatch when the query
// has several states, ErrStateUnknown when the store does not hold the
// state, and, the state taken, as ParseCallback does for the status.
func ParseStoredCallback(ctx context.Context, query url.Values, store StateStore) (*CallbackResult, string, error) {
	got := query["state"]
	switch {
	case len(got) == 0 || got[0] == "":
		return nil, "", ErrStateMissing
	case len(got) > 1:
		return nil, "", ErrStateMismatch
	}
	value, ok, err := store.Take(ctx, got[0])
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("mergelink: looking up the callback state: %w", err)
	case !ok:
		return nil, "", ErrStateUnknown
	}
	res, err := ParseCallback(query, got[0])
	if err != nil {
		return nil, "", err
	}
	return res, value, nil
}

// MemoryStateStore is a StateStore in memory: for one process, and for
// tests. Its zero value is ready to use.
type MemoryStateStore struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	states map[string]memoryState
}

type memoryState struct {
	value   string
	expires time.Time
}

func (m *MemoryStateStore) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Save keeps state until expires, dropping the states that have expired.
// It fails for an empty state.
func (m *MemoryStateStore) Save(_ context.Context, state, value string, expires time.Time) error {
	if state == "" {
		return errors.New("mergelink: MemoryStateStore.Save: the state is empty: use NewState")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.states == nil {
		m.states = map[string]memoryState{}
	}
	for k, s := range m.states {
		if !now.Before(s.expires) {
			delete(m.states, k)
		}
	}
	m.states[stateKey(state)] = memoryState{value, expires}
	return nil
}

// Take removes state and returns its value, once.
func (m *MemoryStateStore) Take(_ context.Context, state string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := stateKey(state)
	s, ok := m.states[k]
	if !ok {
		return "", false, nil
	}
	delete(m.states, k)
	if !m.now().Before(s.expires) {
		return "", false, nil
	}
	return s.value, true, nil
}

// stateKey is what stores keep of a state: its SHA-256, so that a store
// read by someone else lists no state that would pass.
func stateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}
