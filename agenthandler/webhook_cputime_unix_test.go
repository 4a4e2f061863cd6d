//go:build unix

package agenthandler_test

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU reports the process's CPU time per operation (user and
// system, every thread, so a baseline's garbage collection counts) as
// cpu-ns/op, measured from now to the end of b. On a machine busy with
// other work it varies much less than the wall time of ns/op. Call it
// after any setup, right before the loop.
func reportCPU(b *testing.B) {
	start := cpuTime()
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
