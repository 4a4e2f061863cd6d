package mergelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// hidden stands in for a secret in String, GoString and log output.
const hidden = secret.Hidden

// AccountToken is the answer to an account token exchange: the Linked
// Account's id, its integration, and the account token that authenticates
// Unified API calls for it. The token is a long-lived secret: String,
// GoString, Format, LogValue and MarshalJSON hide it, so fmt (every verb),
// slog (text and JSON handlers, in slices, maps and structs too) and
// encoding/json show everything else.
//
// To store the token, take it out on purpose from the AccountToken field,
// and keep it as you keep the API key:
//
//	at, err := c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, publicToken)
//	...
//	err = store.Save(ctx, at.ID, at.AccountToken) // the secret itself
//
// json.Marshal of an AccountToken writes "[hidden]" in its place, so JSON
// made from it holds no token to store, and decoding such JSON fails.
type AccountToken struct {
	// AccountToken is the secret that authenticates Unified API calls for
	// the Linked Account, in the X-Account-Token header. Reading this field
	// is the way to take the token out.
	AccountToken string `json:"account_token"`
	// ID is the Linked Account's id.
	ID string `json:"id"`
	// Integration is the third-party platform the account was linked with.
	Integration Integration `json:"integration"`
}

// String describes at with its account token hidden.
func (at AccountToken) String() string {
	return fmt.Sprintf("{AccountToken:%s ID:%s Integration:%s}", hidden, at.ID, at.Integration.Slug)
}

// GoString is String, so that %#v hides the account token too.
func (at AccountToken) GoString() string { return "mergelink.AccountToken" + at.String() }

// Format prints String for every verb (GoString for %#v), so that no verb,
// %d or %t included, prints the account token.
func (at AccountToken) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, at.String(), at.GoString())
}

// LogValue shows at in slog output with its account token hidden.
func (at AccountToken) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("account_token", hidden),
		slog.String("id", at.ID),
		slog.String("integration", at.Integration.Slug),
	)
}

// MarshalJSON encodes at with "[hidden]" in place of its account token, so
// that a log or a JSON answer that holds at (alone or in a slice, map or
// struct) never shows it. Read the AccountToken field to store the token.
func (at AccountToken) MarshalJSON() ([]byte, error) {
	type plain AccountToken
	p := plain(at)
	if p.AccountToken != "" {
		p.AccountToken = hidden
	}
	return json.Marshal(p)
}

// errHiddenToken is the error of decoding JSON that MarshalJSON wrote.
var errHiddenToken = errors.New(`mergelink: this AccountToken JSON was written by json.Marshal, which writes "[hidden]" in place of the account token: store the AccountToken field itself`)

// UnmarshalJSON decodes Merge's account token answer. It fails for JSON
// that MarshalJSON wrote, whose token is "[hidden]", so that the mask is
// never sent as a token.
func (at *AccountToken) UnmarshalJSON(data []byte) error {
	type plain AccountToken
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	if p.AccountToken == hidden {
		return errHiddenToken
	}
	*at = AccountToken(p)
	return nil
}

// Integration describes a third-party platform, as account token and linked
// account answers give it; fields one answer lacks stay zero.
type Integration struct {
	// Name is the platform's name, such as "BambooHR".
	Name string `json:"name"`
	// AbbreviatedName is a shorter name for tight spaces, if any.
	AbbreviatedName string `json:"abbreviated_name,omitempty"`
	// Categories are the categories the platform belongs to.
	Categories []Category `json:"categories,omitempty"`
	// Image and SquareImage are the URLs of the platform's logo.
	Image       string `json:"image,omitempty"`
	SquareImage string `json:"square_image,omitempty"`
	// Color is the platform's brand color, such as "#1F2E4D".
	Color string `json:"color,omitempty"`
	// Slug is the platform's slug, such as "bamboohr": the value of
	// LinkTokenParams.Integration.
	Slug string `json:"slug,omitempty"`
	// APIEndpointsToDocumentationURLs maps API endpoints to documentation.
	APIEndpointsToDocumentationURLs map[string]any `json:"api_endpoints_to_documentation_urls,omitempty"`
	// WebhookSetupGuideURL is the guide to the platform's webhook setup.
	WebhookSetupGuideURL string `json:"webhook_setup_guide_url,omitempty"`
	// CategoryBetaStatus says for which categories the platform is in beta.
	CategoryBetaStatus map[string]any `json:"category_beta_status,omitempty"`
	// PassthroughAvailable reports whether passthrough requests work.
	PassthroughAvailable bool `json:"passthrough_available,omitempty"`
	// AvailableModelOperations lists what can be done with each model.
	AvailableModelOperations []ModelOperation `json:"available_model_operations,omitempty"`
}

// ModelOperation lists the operations an integration supports on a model.
type ModelOperation struct {
	ModelName              string   `json:"model_name"`
	AvailableOperations    []string `json:"available_operations"`
	RequiredPostParameters []string `json:"required_post_parameters"`
	SupportedFields        []string `json:"supported_fields"`
}

// ExchangeAccountToken swaps the public token that Merge Link's onSuccess
// callback hands an embedded flow for the Linked Account's account token,
// calling the API of category. (A Magic Link flow has no public token: its
// account token arrives in Merge's webhooks.)
//
// The public token is escaped in the request path and never shown in errors
// or logs. It fails with a *ValidationError, having sent nothing, when
// category is unknown, or publicToken is empty, "." or "..", or not valid
// UTF-8; with an *APIError when Merge
// refuses (ErrNotFound for an unknown or used token); and with a
// *DecodeError when a 2xx answer has no account token.
func (c *Client) ExchangeAccountToken(ctx context.Context, category Category, publicToken string) (*AccountToken, error) {
	if err := c.ready("ExchangeAccountToken"); err != nil {
		return nil, err
	}
	ck := validate.New("ExchangeAccountToken")
	checkCategory(ck, "category", category, true)
	ck.UTF8("category", string(category))
	ck.Required("publicToken", strings.TrimSpace(publicToken))
	ck.UTF8("publicToken", publicToken)
	if publicToken == "." || publicToken == ".." {
		// url.PathEscape keeps dots: the path would climb out of
		// account-token/ to another endpoint.
		ck.Add("publicToken", `must not be "." or "..", which a URL path reads as a directory`, "")
	}
	if err := ck.Err(); err != nil {
		return nil, err
	}
	prefix := "/" + string(category) + "/v1/account-token/"
	path := prefix + "{public_token}"
	var at AccountToken
	status, err := c.s.Transport.Do(ctx, &transport.Request{
		Method: http.MethodGet,
		URL:    c.s.UnifiedBase + prefix + url.PathEscape(publicToken),
		Path:   path,
	}, &at)
	if err != nil {
		return nil, err
	}
	if at.AccountToken == "" {
		return nil, missingField(http.MethodGet, path, status, "account_token")
	}
	return &at, nil
}

// LinkedAccountStatus is the state of a Linked Account.
type LinkedAccountStatus string

// The states of a Linked Account.
const (
	LinkedAccountComplete     LinkedAccountStatus = "COMPLETE"
	LinkedAccountIncomplete   LinkedAccountStatus = "INCOMPLETE"
	LinkedAccountRelinkNeeded LinkedAccountStatus = "RELINK_NEEDED"
	LinkedAccountIdle         LinkedAccountStatus = "IDLE"
)

// LinkedAccount is an end user's link with one integration. It holds no
// account token.
type LinkedAccount struct {
	ID                      string              `json:"id"`
	Category                Category            `json:"category"`
	Status                  LinkedAccountStatus `json:"status"`
	StatusDetail            string              `json:"status_detail"`
	EndUserOriginID         string              `json:"end_user_origin_id"`
	EndUserOrganizationName string              `json:"end_user_organization_name"`
	EndUserEmailAddress     string              `json:"end_user_email_address"`
	// Subdomain is the tenant or domain the end user gave access to.
	Subdomain          string `json:"subdomain"`
	WebhookListenerURL string `json:"webhook_listener_url"`
	// IsDuplicate reports whether a production account's credentials match
	// another's; nil for test, incomplete and ignored duplicate accounts.
	IsDuplicate *bool       `json:"is_duplicate"`
	Integration Integration `json:"integration"`
	// AccountType is "PRODUCTION" or "TEST".
	AccountType string `json:"account_type"`
	// CompletedAt is when the end user finished linking; zero if not yet.
	CompletedAt               time.Time      `json:"completed_at"`
	IntegrationSpecificFields map[string]any `json:"integration_specific_fields,omitempty"`
}

// LinkedAccountsParams filters ListLinkedAccounts; zero fields are not sent.
type LinkedAccountsParams struct {
	// PathCategory picks the category API that serves the request (default
	// CategoryHRIS); the endpoint is the same in each. It filters nothing:
	// Category does.
	PathCategory Category `url:"-"`
	// Category keeps the accounts of one category.
	Category Category `url:"category,omitempty"`
	// Cursor starts the listing at a page's cursor instead of the first.
	Cursor                  string `url:"cursor,omitempty"`
	EndUserEmailAddress     string `url:"end_user_email_address,omitempty"`
	EndUserOrganizationName string `url:"end_user_organization_name,omitempty"`
	EndUserOriginID         string `url:"end_user_origin_id,omitempty"`
	// EndUserOriginIDs keeps the accounts of several end users; sent
	// comma-separated, so an id must not hold a comma.
	EndUserOriginIDs []string `url:"end_user_origin_ids,comma,omitempty"`
	// ID keeps one account, by its UUID.
	ID string `url:"id,omitempty"`
	// IDs keeps several accounts, by their UUIDs.
	IDs []string `url:"ids,comma,omitempty"`
	// IncludeDuplicates, with ID naming a complete production account,
	// adds its complete production duplicates.
	IncludeDuplicates *bool `url:"include_duplicates,omitempty"`
	// IntegrationName keeps the accounts of one integration, by its name.
	IntegrationName string `url:"integration_name,omitempty"`
	// IsTestAccount lists test accounts only. Merge reads the parameter's
	// presence, not its value, and lists production accounts only without
	// it, so it is sent only when true.
	IsTestAccount bool `url:"is_test_account,omitempty"`
	// PageSize is the number of accounts per request, 1 to 100; 0 leaves
	// Merge's default.
	PageSize int `url:"page_size,omitempty"`
	// Status keeps the accounts in one state.
	Status LinkedAccountStatus `url:"status,omitempty"`
}

// MaxLinkedAccountsPageSize is the largest LinkedAccountsParams.PageSize.
const MaxLinkedAccountsPageSize = 100

// Validate reports every problem of p in a *ValidationError, or returns nil:
// the rules each field states, and a string that is not valid UTF-8 in any
// field. ListLinkedAccounts calls it before sending anything.
func (p LinkedAccountsParams) Validate() error {
	ck := validate.New("LinkedAccountsParams")
	ck.Strings("", p)
	checkCategory(ck, "PathCategory", p.PathCategory, false)
	checkCategory(ck, "Category", p.Category, false)
	for i, id := range p.EndUserOriginIDs {
		if id == "" || strings.Contains(id, ",") {
			ck.Add(fmt.Sprintf("EndUserOriginIDs[%d]", i), "must be non-empty and hold no comma", validate.Quote(id))
		}
	}
	ck.UUID("ID", p.ID)
	for i, id := range p.IDs {
		if !validate.IsUUID(id) {
			ck.Add(fmt.Sprintf("IDs[%d]", i), "must be a UUID such as 41f11808-5387-4be5-9af2-852a372d61e3", validate.Quote(id))
		}
	}
	if p.PageSize < 0 || p.PageSize > MaxLinkedAccountsPageSize {
		ck.Add("PageSize", fmt.Sprintf("must be 1 to %d, or 0 for Merge's default", MaxLinkedAccountsPageSize), fmt.Sprint(p.PageSize))
	}
	switch p.Status {
	case "", LinkedAccountComplete, LinkedAccountIncomplete, LinkedAccountRelinkNeeded, LinkedAccountIdle:
	default:
		ck.Add("Status", "must be COMPLETE, INCOMPLETE, RELINK_NEEDED or IDLE", validate.Quote(string(p.Status)))
	}
	return ck.Err()
}

// ListLinkedAccounts lists the organization's Linked Accounts that p
// selects, page after page, following Merge's next cursors until the last
// page or until the loop stops:
//
//	for acct, err := range c.ListLinkedAccounts(ctx, mergelink.LinkedAccountsParams{EndUserOriginID: "user-42"}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(acct.ID, acct.Integration.Name, acct.Status)
//	}
//
// Merge gives each page's next as a bare cursor, which goes back to the
// client's own base URL as ?cursor=; nothing else is followed. A next that
// is not a bare cursor (a URL, say) is the server's mistake and ends the
// listing, so that no request, nor the API key, goes anywhere a server
// points.
//
// On failure it yields one error, with a zero LinkedAccount, and stops: a
// *ValidationError, before any request, when p is invalid; an *APIError
// when Merge refuses a page; a *DecodeError when a page cannot be read, its
// next is not a bare cursor, it names a page already read (a cycle, which
// would loop forever) or the list goes past a page count no real list
// reaches.
func (c *Client) ListLinkedAccounts(ctx context.Context, p LinkedAccountsParams) iter.Seq2[LinkedAccount, error] {
	if err := c.ready("ListLinkedAccounts"); err != nil {
		return failed[LinkedAccount](err)
	}
	if err := p.Validate(); err != nil {
		return failed[LinkedAccount](err)
	}
	q, err := query.Values(p)
	if err != nil {
		return failed[LinkedAccount](fmt.Errorf("mergelink: encoding LinkedAccountsParams: %w", err))
	}
	category := p.PathCategory
	if category == "" {
		category = CategoryHRIS
	}
	path := "/" + string(category) + "/v1/linked-accounts"
	return cursorList[LinkedAccount](ctx, c.s.Transport, c.s.UnifiedBase+path, path, q, nil)
}

// maxCursorLen bounds a next cursor; Merge's are a few dozen characters.
const maxCursorLen = 4096

// isBareCursor reports whether s has the form of Merge's cursors: base64
// text ("cD0yMDIx..."), of the standard or the URL alphabet, with '='
// padding and '%' escapes, and nothing else: no '.', ':', '?', '#', '&',
// space or control character, so that a URL or a host is never one.
func isBareCursor(s string) bool {
	if s == "" || len(s) > maxCursorLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("/+=%-_", c) >= 0:
		default:
			return false
		}
	}
	return true
}
