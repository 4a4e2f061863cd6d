package agenthandler_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
)

// AppendCallbackState puts the state in the callback URL's own query, so
// that a link made without a state (an authenticate_* tool's) comes back
// with one.
func TestAppendCallbackState(t *testing.T) {
	t.Parallel()
	const magic = "https://ah.merge.dev/link/tok?x=1#top"
	got, err := agenthandler.AppendCallbackState(magic, "https://app.example.com/cb?user=7#done", "s t")
	require.NoError(t, err)
	u, err := url.Parse(got)
	require.NoError(t, err)
	assert.Equal(t, "1", u.Query().Get("x"))
	assert.Equal(t, "top", u.Fragment)
	assert.Equal(t, "https://app.example.com/cb?user=7&state=s+t#done", u.Query().Get("callback_url"))

	for _, bad := range []struct{ cb, state string }{
		{"https://app.example.com/cb?state=x", "s"},
		{"https://app.example.com/cb?status=x", "s"},
		{"https://app.example.com/cb", ""},
	} {
		_, err := agenthandler.AppendCallbackState(magic, bad.cb, bad.state)
		var ve *agenthandler.ValidationError
		assert.True(t, errors.As(err, &ve), "%v: %v", bad, err)
	}
	_, err = agenthandler.AppendCallbackState(magic, "http://app.example.com/cb", "s")
	assert.Error(t, err, "the callback's origin is checked as AppendCallbackURL checks it")
}

// ParseStoredCallback takes the state from the store: once, not after it
// expires, never for an empty or unknown state; the value saved with it
// comes back.
func TestParseStoredCallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := &agenthandler.MemoryStateStore{Now: func() time.Time { return now }}
	require.NoError(t, store.Save(ctx, "good", "user-7", now.Add(time.Minute)))
	require.NoError(t, store.Save(ctx, "old", "user-8", now.Add(time.Second)))
	assert.Error(t, store.Save(ctx, "", "v", now.Add(time.Minute)), "no empty state is saved")

	q := func(raw string) url.Values { v, err := url.ParseQuery(raw); require.NoError(t, err); return v }
	res, value, err := agenthandler.ParseStoredCallback(ctx, q("status=success&state=good"), store)
	require.NoError(t, err)
	assert.True(t, res.Succeeded())
	assert.Equal(t, "user-7", value)
	_, _, err = agenthandler.ParseStoredCallback(ctx, q("status=success&state=good"), store)
	assert.ErrorIs(t, err, agenthandler.ErrStateUnknown, "a replay")

	for raw, want := range map[string]error{
		"status=success":                  agenthandler.ErrStateMissing,
		"status=success&state=":           agenthandler.ErrStateMissing,
		"status=success&state=a&state=b":  agenthandler.ErrStateMismatch,
		"status=success&state=never-sent": agenthandler.ErrStateUnknown,
	} {
		_, _, err := agenthandler.ParseStoredCallback(ctx, q(raw), store)
		assert.ErrorIs(t, err, want, raw)
	}
	now = now.Add(2 * time.Second)
	_, _, err = agenthandler.ParseStoredCallback(ctx, q("status=success&state=old"), store)
	assert.ErrorIs(t, err, agenthandler.ErrStateUnknown, "expired")

	// Of concurrent callbacks with one state, one wins.
	require.NoError(t, store.Save(ctx, "race", "v", now.Add(time.Minute)))
	var wg sync.WaitGroup
	wins := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := agenthandler.ParseStoredCallback(ctx, q("status=success&state=race"), store)
			wins <- err == nil
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	assert.Equal(t, 1, n)
}

// End to end against mergetest: an authenticate_*-style link (a link
// token made without state) gets a callback with a stored state; the
// redirect comes back with it and status, and any replica holding the
// store accepts it once.
func TestStoredStateThroughMergetest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, ah := mergetestClient(t)
	_, _, err := ah.RegisterCallbackOrigin(ctx, "https://app.example.com")
	require.NoError(t, err)
	user, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "u", OriginUserName: "U"})
	require.NoError(t, err)
	lt, err := ah.CreateLinkToken(ctx, user.ID, agenthandler.LinkTokenParams{Connector: "linear"})
	require.NoError(t, err)

	store := &agenthandler.MemoryStateStore{}
	state, err := agenthandler.NewState()
	require.NoError(t, err)
	require.NoError(t, store.Save(ctx, state, user.ID, time.Now().Add(30*time.Minute)))
	link, err := agenthandler.AppendCallbackState(lt.MagicLinkURL, "https://app.example.com/connected", state)
	require.NoError(t, err)

	redirect, err := srv.CompleteAgentLink(link)
	require.NoError(t, err)
	u, err := url.Parse(redirect)
	require.NoError(t, err)
	res, value, err := agenthandler.ParseStoredCallback(ctx, u.Query(), store)
	require.NoError(t, err)
	assert.True(t, res.Succeeded())
	assert.Equal(t, user.ID, value)
}
