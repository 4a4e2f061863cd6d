package transport

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadAtMost reads bodies around the limit, with a Content-Length that
// is right, unknown, too small or too large, through a reader that
// returns one byte at a time too: the bytes and the cut never depend on
// the length the answer claimed.
func TestReadAtMost(t *testing.T) {
	const limit = 10
	for _, n := range []int{0, 1, 9, 10, 11, 100, 1000} {
		body := strings.Repeat("x", n)
		want, cut := body, n > limit
		if cut {
			want = body[:limit]
		}
		for _, size := range []int64{int64(n), -1, 0, int64(n) / 2, int64(n) + 7, 1 << 40} {
			got, gotCut, err := readAtMost(strings.NewReader(body), size, limit)
			require.NoError(t, err)
			assert.Equal(t, want, string(got), "%d bytes, size %d", n, size)
			assert.Equal(t, cut, gotCut, "%d bytes, size %d", n, size)

			got, gotCut, err = readAtMost(iotest.OneByteReader(strings.NewReader(body)), size, limit)
			require.NoError(t, err)
			assert.Equal(t, want, string(got), "%d bytes, size %d, one byte at a time", n, size)
			assert.Equal(t, cut, gotCut, "%d bytes, size %d, one byte at a time", n, size)
		}
	}
	_, _, err := readAtMost(iotest.ErrReader(assert.AnError), -1, limit)
	assert.ErrorIs(t, err, assert.AnError)
}

// TestReadAtMostOneAllocation checks that a body whose length is known is
// read with one allocation, the buffer.
func TestReadAtMostOneAllocation(t *testing.T) {
	body := []byte(strings.Repeat("x", 700))
	r := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(body)
		if _, _, err := readAtMost(r, int64(len(body)), 1<<20); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 1.0, allocs)
}
