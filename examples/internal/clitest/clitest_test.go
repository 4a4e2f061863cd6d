package clitest

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOutput(t *testing.T) {
	t.Parallel()
	proceed := make(chan struct{})
	o := Start(func(w io.Writer) int {
		fmt.Fprintln(w, "first")
		<-proceed // the test reads the first line while run still runs
		fmt.Fprintln(w, "second\nthird")
		fmt.Fprint(w, strings.Repeat("x", 1<<17)) // longer than a Scanner's line
		fmt.Fprintln(w, "lost")
		return 3
	})
	l, ok := o.Next(t)
	assert.True(t, ok)
	assert.Equal(t, "first", l)
	close(proceed)
	l, ok = o.Next(t)
	assert.True(t, ok)
	assert.Equal(t, "second", l)

	code, lines := o.Wait(t)
	assert.Equal(t, 3, code)
	assert.Equal(t, []string{"first", "second", "third"}, lines, "run returned despite the overlong line")
	_, ok = o.Next(t)
	assert.False(t, ok, "the output has ended")
	assert.Equal(t, "first\nsecond\nthird", o.String())
}

func TestEnvWithKey(t *testing.T) {
	env := EnvWithKey("the-key")
	if got := env("MERGE_API_KEY"); got != "the-key" {
		t.Errorf("MERGE_API_KEY = %q, want the-key", got)
	}
	if got := env("HOME"); got != "" {
		t.Errorf("HOME = %q, want nothing", got)
	}
}
