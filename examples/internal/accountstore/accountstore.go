// Package accountstore keeps, in memory, the account tokens that Merge's
// LinkedAccount webhooks carry, for the examples. A real application keeps
// them in its database, encrypted, as it keeps its API key.
package accountstore

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/mergelink/mergelink"
)

// Account is a Linked Account and its account token. It prints and logs
// with the token masked (see Mask).
type Account struct {
	// ID is the Linked Account's id.
	ID string
	// EndUserOriginID is your id for the end user.
	EndUserOriginID string
	// Integration is the integration's name, such as "Greenhouse".
	Integration string
	// AccountToken authenticates Unified API calls for the account.
	AccountToken string
}

// String describes a with its account token masked.
func (a Account) String() string {
	return fmt.Sprintf("{ID: %s, EndUserOriginID: %q, Integration: %s, AccountToken: %s}",
		a.ID, a.EndUserOriginID, a.Integration, Mask(a.AccountToken))
}

// Format prints String for every verb, so that none prints the token.
func (a Account) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }

// LogValue logs a with its account token masked.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("linked_account_id", a.ID),
		slog.String("end_user_origin_id", a.EndUserOriginID),
		slog.String("integration", a.Integration),
		slog.String("account_token", Mask(a.AccountToken)),
	)
}

// Mask returns the first four characters of a secret and an ellipsis,
// enough to tell tokens apart in a log, or only the ellipsis for a secret
// too short to show any of it.
func Mask(secret string) string {
	if len(secret) < 16 {
		return "…"
	}
	return secret[:4] + "…"
}

// Store keeps accounts by Linked Account id and by end user origin id. The
// zero Store is empty and ready; it is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	byID     map[string]Account
	byOrigin map[string]string // end user origin id -> Linked Account id
}

// Save keeps the account of a webhook event that carries an account token,
// as LinkedAccount.linked and LinkedAccount.synced_initial do, replacing
// what the store held for that account or end user. It reports whether the
// event carried one.
func (s *Store) Save(ev *mergelink.WebhookEvent) (Account, bool) {
	token, ok := ev.AccountToken()
	if !ok || token == "" || ev.LinkedAccount.ID == "" {
		return Account{}, false
	}
	a := Account{
		ID:              ev.LinkedAccount.ID,
		EndUserOriginID: ev.LinkedAccount.EndUserOriginID,
		Integration:     ev.LinkedAccount.Integration,
		AccountToken:    token,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID, s.byOrigin = map[string]Account{}, map[string]string{}
	}
	s.byID[a.ID] = a
	if a.EndUserOriginID != "" {
		s.byOrigin[a.EndUserOriginID] = a.ID
	}
	return a, true
}

// ByID returns the account whose Linked Account id is id.
func (s *Store) ByID(id string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	return a, ok
}

// ByOrigin returns the account of the end user whose origin id is originID.
func (s *Store) ByOrigin(originID string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[s.byOrigin[originID]]
	return a, ok
}
