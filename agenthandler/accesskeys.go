package agenthandler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"time"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
)

// Access key scopes: what a key may do.
const (
	// ScopeRuntime allows MCP tool calls.
	ScopeRuntime = "runtime:all"
	// ScopeManagement allows the management calls (users, tool packs...).
	ScopeManagement = "management:all"
)

// AccessKey is an API key of the organization as list and get describe
// it: its secret shows only masked.
type AccessKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// KeyMasked is a truncated form of the secret, safe to show.
	KeyMasked string `json:"key_masked"`
	// ToolPackIDs and RegisteredUserIDs limit the key to those tool packs
	// and users; nil means no limit.
	ToolPackIDs       []string `json:"tool_pack_ids"`
	RegisteredUserIDs []string `json:"registered_user_ids"`
	Scopes            []string `json:"scopes"`
	// IsTest keys authenticate test registered users only.
	IsTest bool `json:"is_test"`
	// ExpiresAt is nil for a key that never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// IssuedAccessKey is an access key as CreateAccessKey and
// RegenerateAccessKey return it: with its secret, which Merge shows only
// then. String, GoString, Format, LogValue and MarshalJSON hide the
// secret, so fmt (every verb), slog and encoding/json show everything else.
//
// To store the secret, take it out on purpose from the Key field, and keep
// it as you keep the API key:
//
//	k, err := ah.CreateAccessKey(ctx, agenthandler.CreateAccessKeyParams{Name: "agent"})
//	...
//	err = vault.Save(ctx, k.ID, k.Key) // the secret itself
type IssuedAccessKey struct {
	AccessKey
	// Key is the secret, a Bearer token for the API. Reading this field
	// is the way to take it out.
	Key string `json:"key"`
}

// String describes k with its secret hidden.
func (k IssuedAccessKey) String() string {
	return fmt.Sprintf("{ID:%s Name:%s Key:%s KeyMasked:%s Scopes:%v}", k.ID, k.Name, hidden, k.KeyMasked, k.Scopes)
}

// GoString is String, so that %#v hides the secret too.
func (k IssuedAccessKey) GoString() string { return "agenthandler.IssuedAccessKey" + k.String() }

// Format prints String for every verb (GoString for %#v), so that no verb
// prints the secret.
func (k IssuedAccessKey) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, k.String(), k.GoString())
}

// LogValue shows k in slog output with its secret hidden.
func (k IssuedAccessKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("name", k.Name),
		slog.String("key", hidden), slog.String("key_masked", k.KeyMasked))
}

// MarshalJSON encodes k with "[hidden]" in place of its secret, so that a
// log or a JSON answer that holds k never shows it. Read the Key field to
// store the secret.
func (k IssuedAccessKey) MarshalJSON() ([]byte, error) {
	type plain IssuedAccessKey
	p := plain(k)
	if p.Key != "" {
		p.Key = hidden
	}
	return json.Marshal(p)
}

// errHiddenKey is the error of decoding JSON that MarshalJSON wrote.
var errHiddenKey = errors.New(`mergelink: this IssuedAccessKey JSON was written by json.Marshal, which writes "[hidden]" in place of the secret: store the Key field itself`)

// UnmarshalJSON decodes Merge's answer. It fails for JSON that MarshalJSON
// wrote, whose key is "[hidden]", so that the mask is never used as a key.
func (k *IssuedAccessKey) UnmarshalJSON(data []byte) error {
	type plain IssuedAccessKey
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	if p.Key == hidden {
		return errHiddenKey
	}
	*k = IssuedAccessKey(p)
	return nil
}

// CreateAccessKeyParams are the body of CreateAccessKey. Zero fields are
// not sent. A new key's limits must lie within those of the key that
// creates it.
type CreateAccessKeyParams struct {
	// Name labels the key; Merge makes one up when it is "".
	Name string
	// ToolPackIDs and RegisteredUserIDs limit the key to those tool packs
	// and registered users; nil means no limit. An empty, non-nil slice
	// is refused: it would read as "none" but is no limit to Merge.
	ToolPackIDs       []string
	RegisteredUserIDs []string
	// Scopes limit what the key may do: ScopeRuntime, ScopeManagement.
	Scopes []string
	// IsTest makes a key that authenticates test registered users only.
	IsTest bool
	// ExpiresAt, ExpiresIn and NeverExpires set when the key expires; set
	// at most one. None set leaves Merge's default, 90 days. ExpiresIn is
	// sent in whole seconds.
	ExpiresAt    time.Time
	ExpiresIn    time.Duration
	NeverExpires bool
}

// Validate reports every problem of p: an id that is not a UUID, an empty
// non-nil id list, an empty scope, more than one expiry, an ExpiresIn
// that is not a positive number of whole seconds, or a string that is not
// valid UTF-8. It returns nil or a *ValidationError.
func (p CreateAccessKeyParams) Validate() error {
	v := newChecker("CreateAccessKeyParams", p)
	p.check(v)
	return v.Err()
}

func (p CreateAccessKeyParams) check(v *validate.Checker) {
	for _, ids := range []struct {
		field string
		ids   []string
	}{{"ToolPackIDs", p.ToolPackIDs}, {"RegisteredUserIDs", p.RegisteredUserIDs}} {
		if ids.ids != nil && len(ids.ids) == 0 {
			v.Add(ids.field, "is empty but not nil: Merge reads an empty list as no limit; leave it nil for no limit, or list the ids", "")
		}
		for i, id := range ids.ids {
			checkID(v, ids.field+"["+itoa(i)+"]", id)
		}
	}
	for i, s := range p.Scopes {
		v.Required("Scopes["+itoa(i)+"]", s)
	}
	set := 0
	for _, b := range []bool{!p.ExpiresAt.IsZero(), p.ExpiresIn != 0, p.NeverExpires} {
		if b {
			set++
		}
	}
	if set > 1 {
		v.Add("ExpiresAt", "ExpiresAt, ExpiresIn and NeverExpires exclude each other: set one", "")
	}
	if p.ExpiresIn < 0 || p.ExpiresIn%time.Second != 0 {
		v.Add("ExpiresIn", "must be a positive number of whole seconds", p.ExpiresIn.String())
	}
}

// MarshalJSON writes p as Agent Handler reads it: expires_at null for
// NeverExpires, expires_in in seconds.
func (p CreateAccessKeyParams) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if p.Name != "" {
		m["name"] = p.Name
	}
	if p.ToolPackIDs != nil {
		m["tool_pack_ids"] = p.ToolPackIDs
	}
	if p.RegisteredUserIDs != nil {
		m["registered_user_ids"] = p.RegisteredUserIDs
	}
	if p.Scopes != nil {
		m["scopes"] = p.Scopes
	}
	if p.IsTest {
		m["is_test"] = true
	}
	switch {
	case p.NeverExpires:
		m["expires_at"] = nil
	case !p.ExpiresAt.IsZero():
		m["expires_at"] = p.ExpiresAt.UTC().Format(time.RFC3339)
	case p.ExpiresIn > 0:
		m["expires_in"] = int64(p.ExpiresIn / time.Second)
	}
	return json.Marshal(m)
}

func accessKeyPath(id string) string { return "/access-keys/" + escape(id) + "/" }

// CreateAccessKey creates an access key and returns it with its secret,
// which Merge shows only now: store IssuedAccessKey.Key. It fails with a
// *ValidationError, sending nothing, when p is invalid, and with an
// *APIError when Merge refuses it (limits wider than the calling key's,
// say).
func (c *Client) CreateAccessKey(ctx context.Context, p CreateAccessKeyParams) (*IssuedAccessKey, error) {
	v := newChecker("CreateAccessKeyParams", p)
	p.check(v)
	return fetch[IssuedAccessKey](ctx, c, v, http.MethodPost, "/access-keys/", p)
}

// ListAccessKeys returns an iterator over the organization's active access
// keys, page after page. A failure ends the loop with its error, as for
// ListRegisteredUsers.
func (c *Client) ListAccessKeys(ctx context.Context, p Paging) iter.Seq2[AccessKey, error] {
	v := newChecker("Paging", p)
	v.Page(p.Page, p.PageSize)
	return list[AccessKey](ctx, c, v, "/access-keys/", p)
}

// GetAccessKey returns the access key whose id is id, its secret masked.
// It fails with a *ValidationError, sending nothing, when id is not a
// UUID, and with an error matching mergelink.ErrNotFound when there is no
// such key.
func (c *Client) GetAccessKey(ctx context.Context, id string) (*AccessKey, error) {
	v := validate.New("GetAccessKey")
	checkID(v, "keyID", id)
	return fetch[AccessKey](ctx, c, v, http.MethodGet, accessKeyPath(id), nil)
}

// RegenerateAccessKey gives an access key a new secret, keeping its
// limits and expiry, and returns it with the new secret; the old one stops
// working. It fails as GetAccessKey does.
func (c *Client) RegenerateAccessKey(ctx context.Context, id string) (*IssuedAccessKey, error) {
	v := validate.New("RegenerateAccessKey")
	checkID(v, "keyID", id)
	return fetch[IssuedAccessKey](ctx, c, v, http.MethodPost, accessKeyPath(id)+"regenerate/", nil)
}

// RevokeAccessKey revokes an access key for good. It fails as GetAccessKey
// does.
func (c *Client) RevokeAccessKey(ctx context.Context, id string) error {
	v := validate.New("RevokeAccessKey")
	checkID(v, "keyID", id)
	return exec(ctx, c, v, http.MethodPost, accessKeyPath(id)+"revoke/", nil)
}
