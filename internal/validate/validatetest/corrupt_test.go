package validatetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

type inner struct {
	Name  string
	Tags  []string
	ByKey map[string]string
}

type outer struct {
	ID     string
	Inner  *inner
	Any    map[string]any
	hidden string
	Num    int
}

func TestCorruptReachesEveryString(t *testing.T) {
	t.Parallel()
	v := outer{
		ID:     "id",
		Inner:  &inner{Name: "n", Tags: []string{"a", "b"}, ByKey: map[string]string{"k": "v"}},
		Any:    map[string]any{"x": []any{"y", 1.5}},
		hidden: "h",
		Num:    3,
	}
	got := map[string]outer{}
	for _, variant := range Corrupt(v, "BAD") {
		got[variant.Field] = variant.Value.(outer)
	}
	assert.ElementsMatch(t, []string{
		"ID", "Inner.Name", "Inner.Tags[0]", "Inner.Tags[1]", `Inner.ByKey["BAD"]`, `Inner.ByKey["k"]`,
		`Any["BAD"]`, `Any["x"][0]`,
	}, keys(got))
	assert.Equal(t, "BAD", got["ID"].ID)
	assert.Equal(t, "BAD", got["Inner.Tags[1]"].Inner.Tags[1])
	assert.Equal(t, "BAD", got[`Inner.ByKey["k"]`].Inner.ByKey["k"])
	assert.Equal(t, map[string]string{"BAD": "v"}, got[`Inner.ByKey["BAD"]`].Inner.ByKey)
	assert.Equal(t, []any{"BAD", 1.5}, got[`Any["x"][0]`].Any["x"])
	// The original is untouched.
	assert.Equal(t, "id", v.ID)
	assert.Equal(t, []string{"a", "b"}, v.Inner.Tags)
	assert.Equal(t, map[string]string{"k": "v"}, v.Inner.ByKey)
	assert.Equal(t, []any{"y", 1.5}, v.Any["x"])
}

func keys[M ~map[string]V, V any](m M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
