package mergelink

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// AccountTokenHeader is the header that carries a Linked Account's account
// token on the calls an Account makes.
const AccountTokenHeader = "X-Account-Token"

// Account is one Linked Account, seen through its account token: its
// details, its deletion, its token's rotation, its syncs, and any other
// Unified API call of its category (Do, Paginate). Every call goes through
// the Client's transport, with its retries, region and errors, and carries
// the token in the X-Account-Token header beside the API key.
//
// An Account is made by Client.Account, holds no state of its own but the
// category and token, and is safe for concurrent use. String, GoString,
// Format and LogValue hide the token, and encoding/json sees no field.
type Account struct {
	c        *Client
	category Category
	token    *string // behind a pointer that fmt does not follow
}

// Account returns the Linked Account of category whose account token is
// accountToken, for the calls after the link. No request is made: a wrong
// category or an empty token fails the first call with a
// *ValidationError, having sent nothing.
//
//	acct := c.Account(mergelink.CategoryHRIS, accountToken)
//	d, err := acct.Details(ctx)
func (c *Client) Account(category Category, accountToken string) *Account {
	return &Account{c: c, category: category, token: &accountToken}
}

// Category returns the category whose API the account's calls go to.
func (a *Account) Category() Category {
	if a == nil {
		return ""
	}
	return a.category
}

// String describes a with its account token hidden.
func (a *Account) String() string {
	if a == nil {
		return "mergelink.Account(nil)"
	}
	return fmt.Sprintf("mergelink.Account{Category: %s, AccountToken: %s}", a.category, hidden)
}

// GoString is String, so that %#v hides the account token too.
func (a *Account) GoString() string { return a.String() }

// Format prints String for every verb, so that no verb prints the token.
func (a *Account) Format(f fmt.State, verb rune) { secret.Format(f, verb, a.String(), a.GoString()) }

// LogValue shows a in slog output with its account token hidden.
func (a *Account) LogValue() slog.Value {
	return slog.GroupValue(slog.String("category", string(a.Category())), slog.String("account_token", hidden))
}

// check validates a before a call named op, reporting every problem.
func (a *Account) check(op string) error {
	if err := a.ready(op); err != nil {
		return err
	}
	ck := validate.New(op)
	a.validate(ck)
	return ck.Err()
}

// ready returns an error matching ErrNoClient when a is nil or its Client
// is (Client.ready).
func (a *Account) ready(op string) error {
	if a == nil {
		return fmt.Errorf("mergelink: %s: %w", op, ErrNoClient)
	}
	return a.c.ready(op)
}

// validate adds the problems of a, which ready accepted, to ck.
func (a *Account) validate(ck *validate.Checker) {
	checkCategory(ck, "category", a.category, true)
	ck.UTF8("category", string(a.category))
	checkAccountToken(ck, "accountToken", *a.token)
}

// checkAccountToken adds a problem when token is empty, is not valid
// UTF-8, or cannot be sent in a header or query as it is; its value is
// never shown.
func checkAccountToken(ck *validate.Checker, field, token string) {
	switch {
	case strings.TrimSpace(token) == "":
		ck.Add(field, "required: the account token of the Linked Account", "")
	case !utf8.ValidString(token):
		ck.UTF8(field, token)
	case token != strings.TrimSpace(token) || hasControl(token):
		ck.Add(field, "must have no spaces around it and no control characters", "")
	}
}

// base returns the URL of the account's category API, such as
// "https://api.merge.dev/api/hris/v1/", and the same for errors and logs.
func (a *Account) base() (url, path string) {
	path = "/" + string(a.category) + "/v1/"
	return a.c.s.UnifiedBase + path, path
}

// do sends one call of the account to rel, a path below its category API
// that was validated (with its query, if any), and decodes a 2xx into out.
func (a *Account) do(ctx context.Context, method, rel, shown string, body, out any) (int, error) {
	url, path := a.base()
	return a.c.s.Transport.Do(ctx, &transport.Request{
		Method:     method,
		URL:        url + rel,
		Path:       path + shown,
		Body:       body,
		Idempotent: method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions, // a write
		Header:     http.Header{AccountTokenHeader: {*a.token}},
	}, out)
}

// AccountDetails describes a Linked Account, as GET account-details answers
// for the account token's account.
type AccountDetails struct {
	// ID is the Linked Account's id.
	ID string `json:"id"`
	// Integration is the integration's name, such as "BambooHR".
	Integration string `json:"integration"`
	// IntegrationSlug is its slug, such as "bamboohr".
	IntegrationSlug string `json:"integration_slug"`
	// Category is the account's category; empty when Merge sends null.
	Category                Category `json:"category"`
	EndUserOriginID         string   `json:"end_user_origin_id"`
	EndUserOrganizationName string   `json:"end_user_organization_name"`
	EndUserEmailAddress     string   `json:"end_user_email_address"`
	// Status is the account's state, such as LinkedAccountRelinkNeeded.
	Status             LinkedAccountStatus `json:"status"`
	WebhookListenerURL string              `json:"webhook_listener_url"`
	// IsDuplicate reports whether a production account's credentials match
	// another's; nil for test, incomplete and ignored duplicate accounts.
	IsDuplicate *bool `json:"is_duplicate"`
	// AccountType is "PRODUCTION" or "TEST".
	AccountType string `json:"account_type"`
	// CompletedAt is when the end user finished linking; zero if not yet.
	CompletedAt time.Time `json:"completed_at"`
	// InstanceID and InstanceDisplayValue name the third-party instance
	// (tenant) linked, where the integration has one.
	InstanceID           string `json:"instance_id"`
	InstanceDisplayValue string `json:"instance_display_value"`
}

// Details returns the Linked Account's details (GET account-details).
//
// It fails with a *ValidationError, having sent nothing, when the account's
// category or token is wrong; with an *APIError when Merge refuses
// (ErrUnauthorized for a token that was deleted or regenerated); and with a
// *DecodeError when a 2xx answer cannot be read or has no id.
func (a *Account) Details(ctx context.Context) (*AccountDetails, error) {
	if err := a.check("Account.Details"); err != nil {
		return nil, err
	}
	var d AccountDetails
	status, err := a.do(ctx, http.MethodGet, "account-details", "account-details", nil, &d)
	if err != nil {
		return nil, err
	}
	if d.ID == "" {
		_, path := a.base()
		return nil, missingField(http.MethodGet, path+"account-details", status, "id")
	}
	return &d, nil
}

// Delete disconnects and deletes the Linked Account (POST delete-account,
// with no body). Its account token stops working, and Merge sends a
// LinkedAccount.deleted webhook. Linking the same end user again in the
// same category then makes a new Linked Account, with a new token.
//
// The POST carries an Idempotency-Key, so that a retry after a lost answer
// is not refused for the token it has just revoked. It fails with a
// *ValidationError, having sent nothing, when the account's category or
// token is wrong, and with an *APIError when Merge refuses
// (ErrUnauthorized for a token already deleted).
func (a *Account) Delete(ctx context.Context) error {
	if err := a.check("Account.Delete"); err != nil {
		return err
	}
	_, err := a.do(ctx, http.MethodPost, "delete-account", "delete-account", nil, nil)
	return err
}

// RegenerateToken rotates the Linked Account's account token (POST
// account-token/regenerate) and returns the new one, with the account's id
// in ID (Integration stays zero: Merge does not send it). Store the new
// token at once and treat the old one as revoked: this Account keeps the
// old token, so make a new one with Client.Account. Like every
// AccountToken, the result hides its token from fmt and slog.
//
// The POST carries an Idempotency-Key, so that a retry after a lost answer
// gets the same new token instead of rotating it twice. It fails with a
// *ValidationError, having sent nothing, when the account's category or
// token is wrong; with an *APIError when Merge refuses; and with a
// *DecodeError when a 2xx answer has no account token.
func (a *Account) RegenerateToken(ctx context.Context) (*AccountToken, error) {
	if err := a.check("Account.RegenerateToken"); err != nil {
		return nil, err
	}
	var wire struct {
		LinkedAccountID string `json:"linked_account_id"`
		AccountToken    string `json:"account_token"`
	}
	const rel = "account-token/regenerate"
	status, err := a.do(ctx, http.MethodPost, rel, rel, nil, &wire)
	if err != nil {
		return nil, err
	}
	if wire.AccountToken == "" {
		_, path := a.base()
		return nil, missingField(http.MethodPost, path+rel, status, "account_token")
	}
	return &AccountToken{AccountToken: wire.AccountToken, ID: wire.LinkedAccountID}, nil
}
