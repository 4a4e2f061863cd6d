package secret

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

type token struct{ value string }

func (token) String() string   { return "token{hidden}" }
func (token) GoString() string { return "secret.token{hidden}" }
func (t token) Format(f fmt.State, verb rune) {
	Format(f, verb, t.String(), t.GoString())
}

func TestFormatHidesTheSecretUnderEveryVerb(t *testing.T) {
	t.Parallel()
	tok := token{"s3cret"}
	for _, verb := range []string{"%v", "%+v", "%s", "%x", "%X", "%d", "%t", "%o", "%e", "%10v", "%-v"} {
		assert.Equal(t, "token{hidden}", fmt.Sprintf(verb, tok), verb)
		assert.Equal(t, "token{hidden}", fmt.Sprintf(verb, &tok), verb)
	}
	assert.Equal(t, `"token{hidden}"`, fmt.Sprintf("%q", tok))
	assert.Equal(t, "secret.token{hidden}", fmt.Sprintf("%#v", tok))
	assert.Equal(t, "[token{hidden}]", fmt.Sprintf("%d", []token{tok}))
	assert.Equal(t, "{token{hidden}}", fmt.Sprintf("%+d", struct{ T token }{tok}))
}
