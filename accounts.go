package mergelink

import (
	"context"
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
const hidden = "[hidden]"

// AccountToken is the answer to an account token exchange: the Linked
// Account's id, its integration, and the account token that authenticates
// Unified API calls for it. The token is a long-lived secret: String,
// GoString and LogValue hide it, so fmt's %v, %+v and %#v and slog show
// everything else. Store it as you store the API key.
type AccountToken struct {
	// AccountToken is the secret that authenticates Unified API calls for
	// the Linked Account, in the X-Account-Token header.
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
// category is unknown or publicToken is empty; with an *APIError when Merge
// refuses (ErrNotFound for an unknown or used token); and with a
// *DecodeError when a 2xx answer has no account token.
func (c *Client) ExchangeAccountToken(ctx context.Context, category Category, publicToken string) (*AccountToken, error) {
	ck := validate.New("ExchangeAccountToken")
	checkCategory(ck, "category", category, true)
	ck.Required("publicToken", strings.TrimSpace(publicToken))
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

// Validate reports every problem of p in a *ValidationError, or returns nil.
// ListLinkedAccounts calls it before sending anything.
func (p LinkedAccountsParams) Validate() error {
	ck := validate.New("LinkedAccountsParams")
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
// Only the cursor is read from a next link: every page is asked of the
// client's own base URL, so a next link naming another host sends nothing
// (nor the API key) there.
//
// On failure it yields one error, with a zero LinkedAccount, and stops: a
// *ValidationError, before any request, when p is invalid; an *APIError
// when Merge refuses a page; a *DecodeError when a page cannot be read or
// its next cursor is the one just asked for, which would loop forever.
func (c *Client) ListLinkedAccounts(ctx context.Context, p LinkedAccountsParams) iter.Seq2[LinkedAccount, error] {
	return func(yield func(LinkedAccount, error) bool) {
		if err := p.Validate(); err != nil {
			yield(LinkedAccount{}, err)
			return
		}
		q, err := query.Values(p)
		if err != nil {
			yield(LinkedAccount{}, fmt.Errorf("mergelink: encoding LinkedAccountsParams: %w", err))
			return
		}
		category := p.PathCategory
		if category == "" {
			category = CategoryHRIS
		}
		path := "/" + string(category) + "/v1/linked-accounts"
		for {
			var page struct {
				Next    *string         `json:"next"`
				Results []LinkedAccount `json:"results"`
			}
			status, err := c.s.Transport.Do(ctx, &transport.Request{
				Method: http.MethodGet,
				URL:    c.s.UnifiedBase + path + "?" + q.Encode(),
				Path:   path,
			}, &page)
			if err != nil {
				yield(LinkedAccount{}, err)
				return
			}
			for _, a := range page.Results {
				if !yield(a, nil) {
					return
				}
			}
			cursor, err := nextCursor(page.Next)
			if err == nil && cursor != "" && cursor == q.Get("cursor") {
				err = errors.New("the next cursor repeats the one just asked for")
			}
			if err != nil {
				yield(LinkedAccount{}, &DecodeError{Method: http.MethodGet, Path: path, StatusCode: status, Err: err})
				return
			}
			if cursor == "" {
				return
			}
			q.Set("cursor", cursor)
		}
	}
}

// nextCursor reads the cursor of a page's next link, which Merge gives as a
// URL ("https://api.merge.dev/api/hris/v1/linked-accounts?cursor=...") or as
// the bare cursor. It returns "" on the last page.
func nextCursor(next *string) (string, error) {
	if next == nil || *next == "" {
		return "", nil
	}
	if !strings.Contains(*next, "?") {
		return *next, nil
	}
	u, err := url.Parse(*next)
	if err != nil {
		return "", fmt.Errorf("the next link is not a URL: %w", err)
	}
	cursor := u.Query().Get("cursor")
	if cursor == "" {
		return "", errors.New("the next link has no cursor")
	}
	return cursor, nil
}
