// Package clitest runs an example command's run function in a test and
// reads what it writes, line by line, while it runs: the commands that
// serve (agentlink, webhookserver) print what the test must act on before
// they return.
package clitest

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"
)

// Timeout is how long Next and Wait wait before failing the test.
const Timeout = 10 * time.Second

// Output is what a running command writes to one writer.
type Output struct {
	lines  chan string
	exited chan int
	read   []string
}

// Start calls run in a goroutine with a writer whose lines the returned
// Output gives, and closes that writer when run returns.
func Start(run func(w io.Writer) int) *Output {
	pr, pw := io.Pipe()
	o := &Output{lines: make(chan string, 100), exited: make(chan int, 1)}
	go func() {
		code := run(pw)
		pw.Close()
		o.exited <- code
	}()
	go func() {
		defer close(o.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			o.lines <- sc.Text()
		}
		io.Copy(io.Discard, pr) // after a line too long, so that run never blocks
	}()
	return o
}

// Next returns the next line, or false once the output has ended, which is
// after run has returned. It fails t when no line comes within Timeout.
func (o *Output) Next(t testing.TB) (string, bool) {
	t.Helper()
	select {
	case l, ok := <-o.lines:
		if ok {
			o.read = append(o.read, l)
		}
		return l, ok
	case <-time.After(Timeout):
		t.Fatalf("no line written within %s; so far:\n%s", Timeout, o)
		return "", false
	}
}

// Wait waits for run to return and its output to end, and returns its exit
// status and every line it wrote, those Next returned included. It fails t
// when run does not return within Timeout.
func (o *Output) Wait(t testing.TB) (int, []string) {
	t.Helper()
	select {
	case code := <-o.exited:
		for l := range o.lines {
			o.read = append(o.read, l)
		}
		return code, o.read
	case <-time.After(Timeout):
		t.Fatalf("run did not return within %s; it wrote:\n%s", Timeout, o)
		return 0, nil
	}
}

// String returns the lines read so far.
func (o *Output) String() string { return strings.Join(o.read, "\n") }

// EnvWithKey returns an environment, for a command's env argument, that
// holds key as MERGE_API_KEY and nothing else.
func EnvWithKey(key string) func(string) string {
	return func(k string) string {
		if k == "MERGE_API_KEY" {
			return key
		}
		return ""
	}
}
