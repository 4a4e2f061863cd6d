package mergetest

import (
	"fmt"
	"time"
)

// now is the server's time: its clock (WithClock, or the real one) moved on
// by every AdvanceClock.
func (s *Server) now() time.Time {
	return s.clock().Add(time.Duration(s.skew.Load()))
}

// AdvanceClock moves the server's time d forward, on top of its clock
// (WithClock's, or the real one), and returns the new time: link tokens
// and access keys expire, syncs end (SetSyncDuration) and the rate limit's
// minute passes as if d had gone by. It is the control API's
// POST /_mergetest/v1/clock/advance, for tests that cannot pass a clock.
// Agent Handler's webhooks carry the server's time as created_at, which
// agenthandler's receivers check against their own clock (six hours by
// default, agenthandler.WithWebhookTolerance). It panics when d is not
// positive.
func (s *Server) AdvanceClock(d time.Duration) time.Time {
	if d <= 0 {
		panic(fmt.Sprintf("mergetest: AdvanceClock: the duration must be positive, got %s", d))
	}
	s.skew.Add(int64(d))
	return s.now()
}
