package mergetest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/mergetest"
)

// AdvanceClock moves the server's time on top of its clock, for tests that
// cannot pass one (the control API's).
func TestAdvanceClock(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := mergetest.NewTestServer(t, mergetest.WithClock(clk.Now))
	short := newLinkToken(t, srv, nil) // the default 30 minutes
	week := newLinkToken(t, srv, map[string]any{"end_user_origin_id": "o2", "should_create_magic_link_url": true, "link_expiry_mins": 10080})

	assert.Equal(t, clk.Now().Add(30*time.Minute), srv.AdvanceClock(30*time.Minute))
	_, err := srv.CompleteLink(short, "greenhouse")
	assert.ErrorIs(t, err, mergetest.ErrLinkExpired)

	clk.Advance(time.Hour) // the clock still counts beneath the advance
	la, err := srv.CompleteLink(week, "greenhouse")
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(30*time.Minute), la.CompletedAt)

	assert.Panics(t, func() { srv.AdvanceClock(0) })
	assert.Panics(t, func() { srv.AdvanceClock(-time.Second) })
}
