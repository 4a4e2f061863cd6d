package deliverytest

import "github.com/mergelink/mergelink/internal/testclock"

// Clock is a clock that moves only when told, for a store's Now option,
// so that tests of leases and TTLs pass time without sleeping. It is safe
// for concurrent use.
type Clock = testclock.Clock

// NewClock returns a Clock set to 2025-01-02 03:04:05 UTC.
func NewClock() *Clock { return testclock.New() }
