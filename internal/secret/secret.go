// Package secret helps the module's types that hold a secret (an API key,
// an account token, a webhook payload) print without it.
package secret

import (
	"fmt"
	"io"
)

// Hidden stands in for a secret in String, GoString, logs and JSON.
const Hidden = "[hidden]"

// Format writes s for every fmt verb, quoted for %q, and goString for %#v.
// A type whose String hides a secret calls it from its Format method:
// without one, fmt prints the type's fields, secret included, for any verb
// other than %v, %s, %q and %x (such as %d or %t).
func Format(f fmt.State, verb rune, s, goString string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, goString)
	case verb == 'q':
		fmt.Fprintf(f, "%q", s)
	default:
		io.WriteString(f, s)
	}
}
