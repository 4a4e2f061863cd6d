package mergetest

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
)

// Errors of completing a link, from Go or on a hosted page, and of the
// controls of Linked Accounts, issues and deliveries.
var (
	ErrUnknownLink     = errors.New("mergetest: no such link token on this server")
	ErrLinkUsed        = errors.New("mergetest: the link token was already used: a link token works once, create another")
	ErrLinkExpired     = errors.New("mergetest: the link token has expired: create another")
	ErrClosed          = errors.New("mergetest: the server is closed")
	ErrUnknownAccount  = errors.New("mergetest: no such Linked Account on this server")
	ErrUnknownIssue    = errors.New("mergetest: no such issue on this server")
	ErrUnknownDelivery = errors.New("mergetest: no finished delivery has this id: take it from Deliveries or AgentDeliveries")
)

// Linked Account statuses, as Merge lists them.
const (
	StatusComplete     = "COMPLETE"
	StatusIncomplete   = "INCOMPLETE"
	StatusRelinkNeeded = "RELINK_NEEDED"
	StatusIdle         = "IDLE"
)

var statuses = []string{StatusComplete, StatusIncomplete, StatusRelinkNeeded, StatusIdle}

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
	// the same end_user_origin_id and category. It is set only on
	// CompleteLink's result.
	IsRelink bool
	// Integration is the integration's slug, IntegrationName its name.
	Integration     string
	IntegrationName string
	// Category is the category linked: the first of the link token's
	// categories that the integration belongs to. With EndUserOriginID it
	// identifies the account.
	Category                string
	EndUserOriginID         string
	EndUserOrganizationName string
	EndUserEmailAddress     string
	// Status is StatusComplete after a link, or what
	// SetLinkedAccountStatus set.
	Status string
	// IsTestAccount is what SetTestAccount set: test accounts are listed
	// only with the is_test_account filter.
	IsTestAccount bool
	CompletedAt   time.Time
}

// String describes the account without its tokens.
func (a LinkedAccount) String() string {
	return fmt.Sprintf("mergetest.LinkedAccount{ID: %s, Integration: %s, Category: %s, EndUserOriginID: %q, Status: %s, IsRelink: %t, tokens hidden}",
		a.ID, a.Integration, a.Category, a.EndUserOriginID, a.Status, a.IsRelink)
}

// GoString is String, so that %#v hides the tokens too.
func (a LinkedAccount) GoString() string { return a.String() }

// Format prints String for every verb, so that no verb, %d or %t
// included, prints the tokens.
func (a LinkedAccount) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, a.String(), a.GoString())
}

// identity is what identifies a Linked Account at Merge: the end user's
// origin id and the category linked.
type identity struct{ originID, category string }

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
	test        bool
	listenerURL string
	completedAt time.Time
}

func (a *account) identity() identity { return identity{a.originID, a.category} }

func (a *account) accountType() string {
	if a.test {
		return "TEST"
	}
	return "PRODUCTION"
}

// isDuplicate is the account's is_duplicate: false for a complete
// production account, null otherwise, as Merge sends it.
func (a *account) isDuplicate() *bool {
	if a.test || a.status == StatusIncomplete {
		return nil
	}
	f := false
	return &f
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
		IsTestAccount:           a.test,
		CompletedAt:             a.completedAt,
	}
}

func (a *account) json() accountJSON {
	return accountJSON{
		ID:                      a.id,
		Category:                a.category,
		Status:                  a.status,
		EndUserOriginID:         a.originID,
		EndUserOrganizationName: a.org,
		EndUserEmailAddress:     a.email,
		WebhookListenerURL:      a.listenerURL,
		IsDuplicate:             a.isDuplicate(),
		Integration:             a.integ.accountJSON(),
		AccountType:             a.accountType(),
		CompletedAt:             a.completedAt,
	}
}

// linkTokenOf returns the link token of link: the token itself, or the
// Magic Link URL that carries it.
func linkTokenOf(link, path string) (token string, query url.Values, err error) {
	if !strings.Contains(link, "://") {
		return link, url.Values{}, nil
	}
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, path) {
		return "", nil, ErrUnknownLink
	}
	return strings.TrimPrefix(u.Path, path), u.Query(), nil
}

// CompleteLink does what an end user does on the Magic Link page: it
// connects integration (a slug such as "greenhouse"; "" takes the one the
// link token was made for) with link, the link token or its Magic Link URL.
//
// A Linked Account is the pair (end_user_origin_id, category linked), the
// category being the first of the token's categories that the integration
// belongs to: when an account with that pair exists, CompleteLink relinks
// it, keeping its id and account token and setting its status back to
// COMPLETE; otherwise it creates one, so the same origin id in another
// category makes a second account. Either way it queues the webhooks
// LinkedAccount.linked then LinkedAccount.synced_initial.
//
// It fails with ErrUnknownLink, ErrLinkUsed, ErrLinkExpired or ErrClosed,
// or when the integration is missing, is not in the server's catalog,
// differs from the token's, or offers none of its categories.
func (s *Server) CompleteLink(link, integration string) (*LinkedAccount, error) {
	token, _, err := linkTokenOf(link, LinkPath)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	lt, err := s.openLink(token)
	if err != nil {
		return nil, err
	}
	in, category, err := lt.pick(integration)
	if err != nil {
		return nil, err
	}

	lt.used = true
	a := s.byIdentity[identity{lt.originID, category}]
	relink := a != nil
	if !relink {
		a = &account{
			id:          s.ids.id(),
			token:       s.ids.token(),
			originID:    lt.originID,
			category:    category,
			listenerURL: s.URL() + "/api/integrations/webhook-listener/" + s.ids.token(),
			test:        lt.test,
		}
		s.accounts = append(s.accounts, a)
		s.byIdentity[a.identity()] = a
	}
	a.integ = in
	a.org, a.email = lt.org, lt.email
	a.status, a.completedAt = StatusComplete, s.now().UTC()

	public := s.ids.token()
	s.publicTokens[public] = a
	s.hooks.linked(a, relink)
	la := a.linkedAccount()
	la.PublicToken, la.IsRelink = public, relink
	return &la, nil
}

// pick returns the integration the end user connects with lt and the
// category it links.
func (lt *linkToken) pick(chosen string) (integration, string, error) {
	slug := lt.integ
	switch {
	case slug == "" && chosen == "":
		return integration{}, "", errors.New("mergetest: pass the integration the end user picks, such as \"greenhouse\"")
	case slug == "":
		slug = chosen
	case chosen != "" && chosen != slug:
		return integration{}, "", fmt.Errorf("mergetest: the link token is for %q, not %q", slug, chosen)
	}
	in, ok := lookupIntegration(slug)
	if !ok {
		return integration{}, "", fmt.Errorf("mergetest: %s is not an integration of the server's catalog, such as \"greenhouse\" (see the package doc)", validate.Quote(slug))
	}
	category, ok := in.offers(lt.categories)
	if !ok {
		return integration{}, "", fmt.Errorf("mergetest: %s offers none of the link token's categories %v", in.name, lt.categories)
	}
	return in, category, nil
}

// CancelLink does what an end user does who leaves Merge Link without
// connecting, on the Magic Link page or in the embedded flow (its onExit),
// whether they closed it or declined the integration's consent screen:
// nothing is linked, no webhook is sent, and the link token stays usable
// until it expires, as Merge Link can be opened again. link is the link
// token or its Magic Link URL. It fails with ErrUnknownLink, ErrLinkUsed,
// ErrLinkExpired or ErrClosed.
func (s *Server) CancelLink(link string) error {
	token, _, err := linkTokenOf(link, LinkPath)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	_, err = s.openLink(token)
	return err
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

// accountByID returns the Linked Account with id. It runs with s.mu held.
func (s *Server) accountByID(id string) *account {
	for _, a := range s.accounts {
		if a.id == id {
			return a
		}
	}
	return nil
}

// control runs f on the Linked Account with id, with s.mu held.
func (s *Server) control(id string, f func(a *account) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	a := s.accountByID(id)
	if a == nil {
		return fmt.Errorf("%w: %s", ErrUnknownAccount, validate.Quote(id))
	}
	return f(a)
}

// SetLinkedAccountStatus sets the status of the Linked Account with id, as
// Merge does when the integration's credentials stop working
// (StatusRelinkNeeded) or a link was left unfinished (StatusIncomplete). A
// relink sets it back to StatusComplete. No webhook is sent. It fails with
// ErrUnknownAccount or ErrClosed, or when status is not one of the Status
// constants.
func (s *Server) SetLinkedAccountStatus(id, status string) error {
	if !slices.Contains(statuses, status) {
		return fmt.Errorf("mergetest: SetLinkedAccountStatus: status must be one of %s, not %s", strings.Join(statuses, ", "), validate.Quote(status))
	}
	return s.control(id, func(a *account) error {
		a.status = status
		return nil
	})
}

// SetTestAccount marks the Linked Account with id as a test account, or as
// a production one again. As at Merge, the linked-accounts list shows test
// accounts only when the is_test_account filter is given, and production
// accounts only when it is not; a test account's account_type is "TEST" and
// its is_duplicate null; its token answers the test-environment key
// (TestEnvironmentAPIKey) only, and the production key 404. It fails with
// ErrUnknownAccount or ErrClosed.
func (s *Server) SetTestAccount(id string, test bool) error {
	return s.control(id, func(a *account) error {
		a.test = test
		return nil
	})
}

// DeleteLinkedAccount deletes the Linked Account with id, as the dashboard
// or POST {category}/v1/delete-account does: the account leaves every
// list, its account token and public token stop working, and
// LinkedAccount.deleted is sent. Linking the same end user and category
// again makes a new account. It fails with ErrUnknownAccount or ErrClosed.
func (s *Server) DeleteLinkedAccount(id string) error {
	return s.control(id, func(a *account) error {
		s.deleteAccount(a)
		return nil
	})
}

// deleteAccount removes a and queues its LinkedAccount.deleted webhook.
// Every way of deleting a Linked Account goes through it. It runs with s.mu
// held.
func (s *Server) deleteAccount(a *account) {
	s.accounts = slices.DeleteFunc(s.accounts, func(b *account) bool { return b == a })
	delete(s.byIdentity, a.identity())
	for public, b := range s.publicTokens {
		if b == a {
			delete(s.publicTokens, public)
		}
	}
	s.hooks.queue(a, string(mergelink.EventLinkedAccountDeleted), map[string]any{})
}
