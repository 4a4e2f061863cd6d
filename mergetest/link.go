package mergetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
)

// Errors of completing a link, from Go or on a hosted page.
var (
	ErrUnknownLink = errors.New("mergetest: no such link token on this server")
	ErrLinkUsed    = errors.New("mergetest: the link token was already used: a link token works once, create another")
	ErrLinkExpired = errors.New("mergetest: the link token has expired: create another")
	ErrClosed      = errors.New("mergetest: the server is closed")
)

// LinkedAccount is a Linked Account the server holds, as CompleteLink
// returns it. Its String method hides the tokens, and JSON (a slog JSON
// handler's, say) leaves them out.
type LinkedAccount struct {
	ID string
	// AccountToken authenticates calls for the account; a relink keeps it.
	AccountToken string `json:"-"`
	// PublicToken is what Merge Link's onSuccess would hand the front end:
	// exchange it once for the account token at
	// GET {category}/v1/account-token/{public_token}. It is set only on
	// CompleteLink's result.
	PublicToken string `json:"-"`
	// IsRelink reports that the link relinked an existing account, one with
	// the same end_user_origin_id. It is set only on CompleteLink's result.
	IsRelink bool
	// Integration is the integration's slug, IntegrationName its name.
	Integration     string
	IntegrationName string
	// Category is the category linked: the first of the link token's
	// categories that the integration belongs to.
	Category                string
	EndUserOriginID         string
	EndUserOrganizationName string
	EndUserEmailAddress     string
	// Status is "COMPLETE".
	Status      string
	CompletedAt time.Time
}

// String describes the account without its tokens.
func (a LinkedAccount) String() string {
	return fmt.Sprintf("mergetest.LinkedAccount{ID: %s, Integration: %s, Category: %s, EndUserOriginID: %q, IsRelink: %t, tokens hidden}",
		a.ID, a.Integration, a.Category, a.EndUserOriginID, a.IsRelink)
}

// GoString is String, so that %#v hides the tokens too.
func (a LinkedAccount) GoString() string { return a.String() }

// Format prints String for every verb, so that no verb, %d or %t
// included, prints the tokens.
func (a LinkedAccount) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, a.String(), a.GoString())
}

// account is a Linked Account's state.
type account struct {
	id          string
	token       string
	integ       integration
	category    string
	originID    string
	org         string
	email       string
	status      string
	listenerURL string
	completedAt time.Time
}

func (a *account) linkedAccount() LinkedAccount {
	return LinkedAccount{
		ID:                      a.id,
		AccountToken:            a.token,
		Integration:             a.integ.slug,
		IntegrationName:         a.integ.name,
		Category:                a.category,
		EndUserOriginID:         a.originID,
		EndUserOrganizationName: a.org,
		EndUserEmailAddress:     a.email,
		Status:                  a.status,
		CompletedAt:             a.completedAt,
	}
}

func (a *account) json() accountJSON {
	in := a.integ.json()
	passthrough := true
	in.PassthroughAvailable = &passthrough
	in.AbbreviatedName = ""
	return accountJSON{
		ID:                      a.id,
		Category:                a.category,
		Status:                  a.status,
		EndUserOriginID:         a.originID,
		EndUserOrganizationName: a.org,
		EndUserEmailAddress:     a.email,
		WebhookListenerURL:      a.listenerURL,
		Integration:             in,
		AccountType:             "PRODUCTION",
		CompletedAt:             a.completedAt,
	}
}

// CompleteLink does what an end user does on the Magic Link page: it
// connects integration (a slug such as "greenhouse"; "" takes the one the
// link token was made for) with the link token. It creates a Linked Account,
// or relinks the one with the token's end_user_origin_id, keeping its id and
// account token, and queues the webhooks LinkedAccount.linked then
// LinkedAccount.synced_initial. It fails with ErrUnknownLink, ErrLinkUsed,
// ErrLinkExpired or ErrClosed, or when the integration is missing, is not a
// slug, differs from the token's, or offers none of its categories.
func (s *Server) CompleteLink(linkToken, integration string) (*LinkedAccount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	lt, err := s.openLink(linkToken)
	if err != nil {
		return nil, err
	}
	slug := lt.integ
	switch {
	case slug == "" && integration == "":
		return nil, errors.New("mergetest: CompleteLink: pass the integration the end user picks, such as \"greenhouse\"")
	case slug == "":
		slug = integration
	case integration != "" && integration != slug:
		return nil, fmt.Errorf("mergetest: CompleteLink: the link token is for %q, not %q", slug, integration)
	}
	if !validate.IsSlug(slug) {
		return nil, fmt.Errorf("mergetest: CompleteLink: %s is not an integration slug such as \"greenhouse\"", validate.Quote(slug))
	}
	in := integrationFor(slug, lt.categories)
	category, ok := in.offers(lt.categories)
	if !ok {
		return nil, fmt.Errorf("mergetest: CompleteLink: %s offers none of the link token's categories %v", in.name, lt.categories)
	}

	lt.used = true
	a := s.byOrigin[lt.originID]
	relink := a != nil
	if !relink {
		a = &account{
			id:          newID(),
			token:       newToken(),
			originID:    lt.originID,
			listenerURL: s.URL() + "/api/integrations/webhook-listener/" + newToken(),
		}
		s.accounts = append(s.accounts, a)
		s.byOrigin[a.originID] = a
	}
	a.integ, a.category = in, category
	a.org, a.email = lt.org, lt.email
	a.status, a.completedAt = "COMPLETE", s.now().UTC()

	public := newToken()
	s.publicTokens[public] = a
	if s.hooks != nil {
		s.hooks.linked(a, relink)
	}
	la := a.linkedAccount()
	la.PublicToken, la.IsRelink = public, relink
	return &la, nil
}

// openLink returns the link token if it can still be used. It runs with
// s.mu held.
func (s *Server) openLink(token string) (*linkToken, error) {
	lt := s.linkTokens[token]
	switch {
	case lt == nil:
		return nil, ErrUnknownLink
	case lt.used:
		return nil, ErrLinkUsed
	case !s.now().Before(lt.expires):
		return nil, ErrLinkExpired
	}
	return lt, nil
}

// LinkedAccounts returns the Linked Accounts the server holds, oldest
// first, without public tokens.
func (s *Server) LinkedAccounts() []LinkedAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LinkedAccount, len(s.accounts))
	for i, a := range s.accounts {
		out[i] = a.linkedAccount()
	}
	return out
}
