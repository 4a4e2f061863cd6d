package mergetest

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
)

// TestEnvironmentAPIKey is the test-environment API key a Server accepts
// unless WithTestEnvironmentAPIKey sets another. Merge gives each
// organization a production key and a test key: test Linked Accounts and
// test registered users belong to the test key, the others to the
// production key (APIKey).
const TestEnvironmentAPIKey = "mergetest-sk-test-environment-key"

// WithTestEnvironmentAPIKey sets the server's test-environment API key.
// A Linked Account made from a link token created with it is a test
// account, and a registered user created with it is a test user (is_test).
// As WIRE.md says of Merge, a key used against the other environment's
// data (a test key with a production account's token or user, or the
// reverse) is answered 404; a key that is neither of the server's is
// answered 401.
func WithTestEnvironmentAPIKey(key string) ServerOption {
	return func(c *config) {
		if key == "" || strings.ContainsAny(key, "\r\n ") {
			c.problems = append(c.problems, "WithTestEnvironmentAPIKey: the key must be non-empty and hold no spaces or line breaks")
			return
		}
		c.testKey = key
	}
}

// TestEnvironmentAPIKey returns the server's test-environment API key.
func (s *Server) TestEnvironmentAPIKey() string { return s.testKey }

// testKeyCtx marks, in a request's context, a request made with the
// test-environment key.
type testKeyCtx struct{}

// environment reports which of the server's keys r carries as a Bearer
// token, comparing in constant time: ok is false for neither.
func (s *Server) environment(r *http.Request) (test, ok bool) {
	got, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !bearer {
		return false, false
	}
	prod := subtle.ConstantTimeCompare([]byte(got), []byte(s.apiKey)) == 1
	test = subtle.ConstantTimeCompare([]byte(got), []byte(s.testKey)) == 1
	return test, prod || test
}

// withEnvironment marks r as made with the test-environment key when test.
func withEnvironment(r *http.Request, test bool) *http.Request {
	if !test {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), testKeyCtx{}, true))
}

// testKeyUsed reports whether r was made with the test-environment key.
func testKeyUsed(r *http.Request) bool {
	test, _ := r.Context().Value(testKeyCtx{}).(bool)
	return test
}
