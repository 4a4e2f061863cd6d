package validate

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func problems(c *Checker) map[string]string {
	out := map[string]string{}
	for _, p := range c.problems {
		out[p.Field] = p.Rule
	}
	return out
}

func TestStringsNamesEveryBadString(t *testing.T) {
	t.Parallel()
	type inner struct {
		Name   string
		hidden string
	}
	type params struct {
		ID     string
		Inner  *inner
		List   []string
		ByKey  map[string]string
		Config map[string]any
		Bytes  []byte
		Fn     func() // typed, not sent as JSON by our params: left to encoding/json
	}
	cyclic := map[string]any{}
	cyclic["me"] = cyclic
	c := New("P")
	c.Strings("", params{
		ID:     "a\xff",
		Inner:  &inner{Name: "\xfe", hidden: "\xff"},
		List:   []string{"ok", "\xc3"},
		ByKey:  map[string]string{"k\xff": "v", "k": "\xff"},
		Config: map[string]any{"nan": math.NaN(), "inf": []any{math.Inf(-1)}, "ch": make(chan int), "self": cyclic, "s": "\xff", "ok": 1.5},
		Bytes:  []byte{0xff},
	})
	got := problems(c)
	for field, rule := range map[string]string{
		"ID":                   RuleUTF8,
		"Inner.Name":           RuleUTF8,
		"List[1]":              RuleUTF8,
		`ByKey["k\xff"]`:       RuleUTF8,
		`ByKey["k"]`:           RuleUTF8,
		`Config["nan"]`:        "finite number",
		`Config["inf"][0]`:     "finite number",
		`Config["ch"]`:         "not a chan",
		`Config["self"]["me"]`: "cycle",
		`Config["s"]`:          RuleUTF8,
	} {
		assert.Contains(t, got[field], rule, field)
	}
	assert.Len(t, got, 10, "%v", got)
	for _, p := range c.problems {
		if p.Rule == RuleUTF8 {
			assert.Empty(t, p.Value, "no value shown for %s", p.Field)
		}
	}
}

func TestPlainURL(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"https://myapp.com/cb", "myapp:///done?x=%20y", "https://myapp.com/caf%C3%A9", "https://myapp.com/café"} {
		c := New("P")
		assert.True(t, c.PlainURL("U", s), s)
		assert.Empty(t, c.problems, s)
	}
	for _, s := range []string{" https://myapp.com", "https://myapp.com\n", "https://my\tapp.com", "https://myapp.com/\u200b", "\ufeffhttps://myapp.com", "https://myapp.com/\u202e", "https://myapp.com/\x7f", "https://myapp.com/\u00a0"} {
		c := New("P")
		assert.False(t, c.PlainURL("U", s), "%q", s)
		assert.Len(t, c.problems, 1, "%q", s)
	}
}

func TestQueryKeys(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string][]string{
		"https://a.com/cb":                      nil,
		"https://a.com/cb?":                     nil,
		"https://a.com/cb?state=1&status":       {"state", "status"},
		"https://a.com/cb?st%61te=1;%73tatus=2": {"state", "status"},
		"https://a.com/cb?a+b=1&%zz=2":          {"a b", "%zz"},
		"https://a.com/cb#?state=1":             nil,
		"https://a.com/cb?x=1#&state=1":         {"x"},
		"https://a.com/cb?&&state=&":            {"state"},
		"https://a.com/cb?x=%zz&state=1":        {"x", "state"},
		"https://a.com/cb?state%3D1=2":          {"state=1"},
	} {
		assert.Equal(t, want, QueryKeys(raw), raw)
	}
}

func TestOriginPorts(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://a.com:0443":  "https://a.com",
		"https://a.com:443":   "https://a.com",
		"http://[::1]:0080/x": "http://[::1]",
		"https://a.com:08443": "https://a.com:8443",
		"https://a.com:65535": "https://a.com:65535",
	} {
		got, err := Origin(raw)
		assert.NoError(t, err, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, raw := range []string{"https://a.com:0", "https://a.com:65536", "https://a.com:99999999999999999999", "app://h:0"} {
		_, err := Origin(raw)
		assert.ErrorContains(t, err, "port", raw)
	}
}
