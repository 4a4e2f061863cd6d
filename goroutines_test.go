package mergelink_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkGoroutines makes t fail if, once every cleanup registered after this
// call has run, a goroutine that started during t is still running code of
// net/http, go-retryablehttp or this module. Call it first in a test, so that
// its check runs after the test's servers are closed and its clients' idle
// connections dropped. The test must not run in parallel with others, whose
// goroutines would count as its own.
//
// Goroutines end a little after the connection or server they serve is
// closed, so the check polls for up to two seconds before it fails.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := goroutines()
	t.Cleanup(func() {
		deadline := time.NewTimer(2 * time.Second)
		defer deadline.Stop()
		poll := time.NewTicker(5 * time.Millisecond)
		defer poll.Stop()
		for {
			var left []string
			for id, stack := range goroutines() {
				if _, old := before[id]; !old && ours(stack) {
					left = append(left, stack)
				}
			}
			if len(left) == 0 {
				return
			}
			runtime.Gosched()
			select {
			case <-poll.C:
			case <-deadline.C:
				t.Errorf("%d goroutines left behind:\n\n%s", len(left), strings.Join(left, "\n\n"))
				return
			}
		}
	})
}

// ours reports whether a goroutine's stack runs code that a call of the SDK
// may have started: the HTTP client or server, the retry library or the
// module (tests included).
func ours(stack string) bool {
	for _, s := range []string{"net/http.", "github.com/hashicorp/go-retryablehttp", "github.com/mergelink/mergelink"} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}

// goroutines returns the stack of every goroutine by its id (the text after
// "goroutine "), which the runtime never reuses.
func goroutines() map[string]string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := make(map[string]string)
	for _, stack := range bytes.Split(buf, []byte("\n\n")) {
		s := string(stack)
		header, _, _ := strings.Cut(s, "\n")
		id, _, ok := strings.Cut(strings.TrimPrefix(header, "goroutine "), " ")
		if ok && strings.HasPrefix(header, "goroutine ") {
			all[id] = s
		}
	}
	return all
}
