package agenthandler

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"

	"github.com/mergelink/mergelink/internal/validate"
)

// Errors of ParseCallback, to test with errors.Is.
var (
	// ErrStateMissing means the callback carries no state although one was
	// sent with the link token: it did not come from that flow.
	ErrStateMissing = errors.New("mergelink: callback has no state parameter: refuse it")
	// ErrStateMismatch means the callback's state is not the one expected
	// (or it carries several): it may be forged or replayed.
	ErrStateMismatch = errors.New("mergelink: callback state does not match the state sent: refuse it")
	// ErrNoExpectedState means ParseCallback was given no state to expect.
	// Without one any callback would pass, so it refuses them all.
	ErrNoExpectedState = errors.New("mergelink: no expected state given: pass the state sent with the link token (see NewState)")
	// ErrStatusMissing means a callback whose state is right carries no
	// status parameter.
	ErrStatusMissing = errors.New("mergelink: callback has no status parameter")
	// ErrStatusRepeated means a callback whose state is right carries
	// several status parameters: which one Merge sent cannot be told (a
	// callback URL with a status of its own, or a forged one), so none is
	// taken.
	ErrStatusRepeated = errors.New("mergelink: callback has several status parameters: refuse it")
)

// StatusSuccess is the callback status of a completed authentication.
const StatusSuccess = "success"

// OriginOf returns the origin of a callback URL, the form in which allowed
// callback origins are registered: scheme and host (and a port other than
// the default, without leading zeros), lower-cased, such as
// "https://myapp.com" or "myapp://". It fails for a URL that is not
// absolute, for http on a host other than localhost or a loopback address,
// for a port outside 1 to 65535, and for schemes that cannot be callbacks
// (javascript, data, file, ...).
func OriginOf(rawURL string) (string, error) {
	o, err := validate.Origin(rawURL)
	if err != nil {
		return "", fmt.Errorf("mergelink: callback URL %s: %v", validate.QuoteURL(rawURL), err)
	}
	return o, nil
}

// AppendCallbackURL returns magicLinkURL with callbackURL added as its
// callback_url query parameter, escaped, so that the browser comes back to
// callbackURL after the flow. The rest of magicLinkURL, query and fragment
// included, is kept byte for byte. It fails when magicLinkURL is not an
// absolute https URL (http only on loopback), has a malformed query, or
// already has a callback_url parameter (set at link token creation: pass
// LinkTokenParams.CallbackURL or this, not both), and when callbackURL has
// no valid origin (see OriginOf). The origin must still be an allowed
// callback origin, or Merge silently skips the redirect.
func AppendCallbackURL(magicLinkURL, callbackURL string) (string, error) {
	u, err := parseMagicLinkURL(magicLinkURL)
	if err != nil {
		return "", err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", fmt.Errorf("mergelink: magic link URL has a malformed query: %v", err)
	}
	if q.Has("callback_url") {
		return "", errors.New("mergelink: magic link URL already has a callback_url parameter: set the callback once, either in LinkTokenParams.CallbackURL or here")
	}
	if _, err := OriginOf(callbackURL); err != nil {
		return "", err
	}
	return addQueryParam(magicLinkURL, "callback_url", callbackURL), nil
}

// parseMagicLinkURL parses a magic link URL: absolute, https, or http on a
// loopback host (a test server). Its errors do not show the URL, which
// carries a link token.
func parseMagicLinkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return nil, errors.New("mergelink: the magic link URL must be an absolute https URL")
	case u.Scheme == "https", u.Scheme == "http" && validate.IsLoopback(u.Hostname()):
		return u, nil
	default:
		return nil, errors.New("mergelink: the magic link URL must use https (plain http only on loopback)")
	}
}

// NewState returns a new random state for a link token's callback: 256 bits
// from crypto/rand, base64url-encoded without padding (43 characters, safe
// in a URL). Keep it on the server with the user's session, send it as
// LinkTokenParams.State, and check the callback with ParseCallback. It
// fails only when crypto/rand does.
func NewState() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mergelink: reading crypto/rand: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// CallbackResult is what the redirect to a callback URL says.
type CallbackResult struct {
	// Status is the outcome, such as StatusSuccess; other values mean the
	// user did not complete the flow.
	Status string
	// State is the state sent with the link token, checked.
	State string
}

// Succeeded reports whether the user completed the authentication.
func (r *CallbackResult) Succeeded() bool { return r.Status == StatusSuccess }

// ParseCallback reads the query of a request to a callback URL (use
// r.URL.Query()) and checks its state against wantState, the state sent with
// the link token, in constant time. It fails with ErrNoExpectedState when
// wantState is empty, ErrStateMissing when the query has no state,
// ErrStateMismatch when it has another one or several, ErrStatusMissing
// when the state is right but there is no status, and ErrStatusRepeated
// when there are several. A caller that keeps states
// should drop one once it has been accepted, so that a replay fails.
func ParseCallback(query url.Values, wantState string) (*CallbackResult, error) {
	if wantState == "" {
		return nil, ErrNoExpectedState
	}
	got := query["state"]
	switch {
	case len(got) == 0 || got[0] == "":
		return nil, ErrStateMissing
	case len(got) > 1 || !sameState(got[0], wantState):
		return nil, ErrStateMismatch
	}
	status := query["status"]
	switch {
	case len(status) > 1:
		return nil, ErrStatusRepeated
	case len(status) == 0 || status[0] == "":
		return nil, ErrStatusMissing
	}
	return &CallbackResult{Status: status[0], State: got[0]}, nil
}

// sameState compares two states in constant time. Hashing first hides the
// expected state's length too.
func sameState(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
