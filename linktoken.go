package mergelink

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// Category is a Merge Unified API category. It names the API a call goes
// to ("/api/{category}/v1/...") and what Merge Link offers the end user.
type Category string

// The categories of Merge's Unified API.
const (
	CategoryHRIS          Category = "hris"
	CategoryATS           Category = "ats"
	CategoryAccounting    Category = "accounting"
	CategoryTicketing     Category = "ticketing"
	CategoryCRM           Category = "crm"
	CategoryMarketing     Category = "mktg"
	CategoryFileStorage   Category = "filestorage"
	CategoryKnowledgeBase Category = "knowledgebase"
	CategoryChat          Category = "chat"
	CategoryCalendar      Category = "calendar"
	CategoryEmail         Category = "email"
)

// categories lists every known Category, in Merge's order.
var categories = []Category{
	CategoryHRIS, CategoryATS, CategoryAccounting, CategoryTicketing, CategoryCRM, CategoryMarketing,
	CategoryFileStorage, CategoryKnowledgeBase, CategoryChat, CategoryCalendar, CategoryEmail,
}

// Known reports whether c is one of the Category constants.
func (c Category) Known() bool { return slices.Contains(categories, c) }

// String returns the category's wire name, such as "hris".
func (c Category) String() string { return string(c) }

// categoryRule is the rule a problem states for an unknown category.
var categoryRule = func() string {
	names := make([]string, len(categories))
	for i, c := range categories {
		names[i] = string(c)
	}
	return "must be one of " + strings.Join(names, ", ")
}()

// checkCategory adds a problem when c is set and unknown, or is required and
// empty.
func checkCategory(ck *validate.Checker, field string, c Category, required bool) {
	switch {
	case c == "" && required:
		ck.Add(field, "required: a category such as CategoryHRIS", "")
	case c != "" && !c.Known():
		ck.Add(field, categoryRule, validate.Quote(string(c)))
	}
}

// Language is a language Merge Link can be shown in.
type Language string

// The languages Merge Link offers.
const (
	LanguageEN Language = "en"
	LanguageDE Language = "de"
)

// Action is an operation on a common model: reading it or writing it.
type Action string

// The actions of common model scopes.
const (
	ActionRead  Action = "READ"
	ActionWrite Action = "WRITE"
)

// InitialScreen is the first screen Merge Link shows for an already
// completed Linked Account.
type InitialScreen string

// InitialScreenSelectiveSync opens Merge Link on its selective sync screen.
const InitialScreenSelectiveSync InitialScreen = "SELECTIVE_SYNC"

// Link expiry bounds, in minutes, of LinkTokenParams.LinkExpiryMins.
const (
	// DefaultLinkExpiryMins is sent when LinkExpiryMins is 0, as Merge's
	// own default.
	DefaultLinkExpiryMins = 30
	// MinLinkExpiryMins is the shortest expiry Merge accepts.
	MinLinkExpiryMins = 30
	// MaxLinkExpiryMins is the longest expiry of a link token without a
	// Magic Link URL: 12 hours.
	MaxLinkExpiryMins = 720
	// MaxMagicLinkExpiryMins is the longest expiry of a link token with a
	// Magic Link URL: 7 days. It is CreateMagicLink's default, as Merge
	// recommends.
	MaxMagicLinkExpiryMins = 10080
)

// CommonModel scopes one common model for the Linked Account about to be
// made: which actions are enabled on it and which of its fields are not
// synced.
type CommonModel struct {
	// ModelID names the model, such as "hris.Employee". Required.
	ModelID string `json:"model_id"`
	// EnabledActions lists the actions allowed on the model; empty disables
	// the model. It is always sent, as an empty list when nil.
	EnabledActions []Action `json:"enabled_actions"`
	// DisabledFields lists the model's fields that are not synced. It is
	// always sent, as an empty list when nil.
	DisabledFields []string `json:"disabled_fields"`
}

// MarshalJSON sends nil lists as empty ones, since Merge requires all three
// fields.
func (m CommonModel) MarshalJSON() ([]byte, error) {
	type plain CommonModel
	if m.EnabledActions == nil {
		m.EnabledActions = []Action{}
	}
	if m.DisabledFields == nil {
		m.DisabledFields = []string{}
	}
	return json.Marshal(plain(m))
}

// ModelScope sets the permissions of one common model of a category (a beta
// feature of Merge). Models and fields not named keep the organization's
// settings.
type ModelScope struct {
	// ModelName names the model, such as "Employee". Required.
	ModelName string `json:"model_name"`
	// ModelPermissions enables or disables reading and writing the model.
	ModelPermissions map[Action]ModelPermission `json:"model_permissions,omitempty"`
	// FieldPermissions enables or disables single fields of the model.
	FieldPermissions *FieldPermissions `json:"field_permissions,omitempty"`
}

// ModelPermission enables or disables one Action on a model. IsEnabled is
// always sent, false included.
type ModelPermission struct {
	IsEnabled bool `json:"is_enabled"`
}

// FieldPermissions lists the fields of a model that are enabled and those
// that are disabled.
type FieldPermissions struct {
	EnabledFields  []string `json:"enabled_fields,omitempty"`
	DisabledFields []string `json:"disabled_fields,omitempty"`
}

// LinkTokenParams is the body of a link token request. Zero fields are not
// sent, except LinkExpiryMins, which is sent as DefaultLinkExpiryMins. The
// booleans are plain bools because Merge's default for each is false: not
// sending one is the same as sending false.
type LinkTokenParams struct {
	// EndUserEmailAddress identifies the end user to you and Merge; no email
	// is sent to it. Required, 1 to 100 characters.
	EndUserEmailAddress string `json:"end_user_email_address"`
	// EndUserOrganizationName is the end user's organization. Required, 1
	// to 100 characters.
	EndUserOrganizationName string `json:"end_user_organization_name"`
	// EndUserOriginID is your id for the end user. Merge identifies a
	// Linked Account by this id together with the category the end user
	// links: the same id and category relink the existing Linked Account
	// (it keeps its id and account token), while the same id in another
	// category makes a second Linked Account. Two integrations of one
	// category therefore need two ids. Required, 1 to 100 characters.
	EndUserOriginID string `json:"end_user_origin_id"`
	// Categories are what Merge Link offers; the request goes to the first
	// one's API. Required, known, without duplicates.
	Categories []Category `json:"categories"`
	// Integration is the slug of one integration, such as "greenhouse" or
	// "bamboohr": Merge Link then skips its integration picker.
	Integration string `json:"integration,omitempty"`
	// LinkExpiryMins is how long the link token lives: 30 to 720 minutes,
	// or to 10080 with ShouldCreateMagicLinkURL. 0 sends the default of 30.
	LinkExpiryMins int `json:"link_expiry_mins,omitempty"`
	// ShouldCreateMagicLinkURL asks for a Magic Link URL as well; see
	// CreateMagicLink, which sets it for you.
	ShouldCreateMagicLinkURL bool `json:"should_create_magic_link_url,omitempty"`
	// HideAdminMagicLink hides the Magic Link URL on Merge Link's "admin
	// needed" screen.
	HideAdminMagicLink bool `json:"hide_admin_magic_link,omitempty"`
	// CommonModels scopes common models for the Linked Account.
	CommonModels []CommonModel `json:"common_models,omitempty"`
	// CategoryCommonModelScopes sets model and field permissions per
	// category (beta).
	CategoryCommonModelScopes map[Category][]ModelScope `json:"category_common_model_scopes,omitempty"`
	// Language is the language of Merge Link: LanguageEN or LanguageDE.
	Language Language `json:"language,omitempty"`
	// AreSyncsDisabled turns off the initial, periodic and forced syncs.
	AreSyncsDisabled bool `json:"are_syncs_disabled,omitempty"`
	// IntegrationSpecificConfig holds integration-specific options. It must
	// encode as JSON: no NaN or infinite number, channel or func in it.
	IntegrationSpecificConfig map[string]any `json:"integration_specific_config,omitempty"`
	// CompletedAccountInitialScreen is the first screen for an already
	// completed Linked Account: InitialScreenSelectiveSync.
	CompletedAccountInitialScreen InitialScreen `json:"completed_account_initial_screen,omitempty"`
	// LinkedDestinationID is the UUID of the linked destination to tie the
	// Linked Account to.
	LinkedDestinationID string `json:"linked_destination_id,omitempty"`
	// CredentialID is the UUID of the credential to tie the Linked Account
	// to.
	CredentialID string `json:"credential_id,omitempty"`
	// EKMEnabled turns on External Key Management for the Linked Account.
	EKMEnabled bool `json:"ekm_enabled,omitempty"`
}

// Validate reports every problem of p in a *ValidationError, or returns nil:
// the rules each field states, and in every field a string that is not
// valid UTF-8. CreateLinkToken calls it before sending anything.
func (p LinkTokenParams) Validate() error { return p.check("LinkTokenParams") }

// check validates p, naming the params type in the error.
func (p LinkTokenParams) check(name string) error {
	ck := validate.New(name)
	ck.Strings("", p)
	if len(p.IntegrationSpecificConfig) > 0 && !ck.HasProblem("IntegrationSpecificConfig") {
		ck.JSON("IntegrationSpecificConfig", p.IntegrationSpecificConfig)
	}
	ck.Length("EndUserEmailAddress", p.EndUserEmailAddress, 1, 100)
	ck.Length("EndUserOrganizationName", p.EndUserOrganizationName, 1, 100)
	ck.Length("EndUserOriginID", p.EndUserOriginID, 1, 100)
	if len(p.Categories) == 0 {
		ck.Add("Categories", "required: at least one category, such as CategoryHRIS", "")
	}
	for i, c := range p.Categories {
		repeated := slices.Index(p.Categories, c) < i
		if c.Known() && !repeated {
			continue // the usual case: no name to build
		}
		field := fmt.Sprintf("Categories[%d]", i)
		checkCategory(ck, field, c, true)
		if repeated {
			ck.Add(field, "must not repeat a category", validate.Quote(string(c)))
		}
	}
	ck.Slug("Integration", p.Integration)
	if limit := p.maxExpiry(); p.LinkExpiryMins != 0 && (p.LinkExpiryMins < MinLinkExpiryMins || p.LinkExpiryMins > limit) {
		rule := fmt.Sprintf("must be %d to %d minutes", MinLinkExpiryMins, limit)
		if !p.ShouldCreateMagicLinkURL {
			rule += fmt.Sprintf(" (up to %d with a Magic Link URL)", MaxMagicLinkExpiryMins)
		}
		rule += ", or 0 for the default"
		ck.Add("LinkExpiryMins", rule, fmt.Sprint(p.LinkExpiryMins))
	}
	for i, m := range p.CommonModels {
		field := fmt.Sprintf("CommonModels[%d]", i)
		ck.Required(field+".ModelID", m.ModelID)
		for j, a := range m.EnabledActions {
			checkAction(ck, fmt.Sprintf("%s.EnabledActions[%d]", field, j), a)
		}
	}
	for _, c := range sortedKeys(p.CategoryCommonModelScopes) {
		field := fmt.Sprintf("CategoryCommonModelScopes[%q]", string(c))
		checkCategory(ck, field, c, true)
		for i, s := range p.CategoryCommonModelScopes[c] {
			f := fmt.Sprintf("%s[%d]", field, i)
			ck.Required(f+".ModelName", s.ModelName)
			for _, a := range sortedKeys(s.ModelPermissions) {
				checkAction(ck, fmt.Sprintf("%s.ModelPermissions[%q]", f, string(a)), a)
			}
		}
	}
	if p.Language != "" && p.Language != LanguageEN && p.Language != LanguageDE {
		ck.Add("Language", `must be LanguageEN ("en") or LanguageDE ("de")`, validate.Quote(string(p.Language)))
	}
	if s := p.CompletedAccountInitialScreen; s != "" && s != InitialScreenSelectiveSync {
		ck.Add("CompletedAccountInitialScreen", `must be InitialScreenSelectiveSync ("SELECTIVE_SYNC")`, validate.Quote(string(s)))
	}
	ck.UUID("LinkedDestinationID", p.LinkedDestinationID)
	ck.UUID("CredentialID", p.CredentialID)
	return ck.Err()
}

// linkTokenPath is the link token endpoint of c below the base URL.
func linkTokenPath(c Category) string { return "/" + string(c) + "/v1/link-token" }

// sortedKeys returns m's keys in order, so that problems are listed in a
// stable order; nil, with nothing allocated, for an empty map.
func sortedKeys[K ~string, V any](m map[K]V) []K {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// maxExpiry is the longest LinkExpiryMins that p allows.
func (p LinkTokenParams) maxExpiry() int {
	if p.ShouldCreateMagicLinkURL {
		return MaxMagicLinkExpiryMins
	}
	return MaxLinkExpiryMins
}

func checkAction(ck *validate.Checker, field string, a Action) {
	if a != ActionRead && a != ActionWrite {
		ck.Add(field, `must be ActionRead ("READ") or ActionWrite ("WRITE")`, validate.Quote(string(a)))
	}
}

// LinkToken is Merge's answer to a link token request.
type LinkToken struct {
	// LinkToken opens Merge Link for the end user. It is single-use and
	// short-lived; the SDK never logs it.
	LinkToken string `json:"link_token"`
	// IntegrationName is the integration's name, such as "Lever", when the
	// request named one.
	IntegrationName string `json:"integration_name,omitempty"`
	// MagicLinkURL is the Magic Link URL, when one was asked for.
	MagicLinkURL string `json:"magic_link_url,omitempty"`
}

// CreateLinkToken asks Merge for a link token that opens Merge Link for the
// end user p describes, posting to the API of p's first category. The
// request carries an Idempotency-Key, so its retries cannot create a second
// token.
//
// It fails with a *ValidationError, having sent nothing, when p is invalid;
// with an *APIError when Merge refuses; and with a *DecodeError when a 2xx
// answer has no link token, or no Magic Link URL although p asked for one.
func (c *Client) CreateLinkToken(ctx context.Context, p LinkTokenParams) (*LinkToken, error) {
	if err := c.ready("CreateLinkToken"); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return c.createLinkToken(ctx, p)
}

// createLinkToken posts a validated p, with the default expiry filled in.
func (c *Client) createLinkToken(ctx context.Context, p LinkTokenParams) (*LinkToken, error) {
	if p.LinkExpiryMins == 0 {
		p.LinkExpiryMins = DefaultLinkExpiryMins
	}
	u := c.linkTokenURLs[p.Categories[0]] // Validate accepted the category
	path := u[len(c.s.UnifiedBase):]
	var lt LinkToken
	status, err := c.s.Transport.Do(ctx, &transport.Request{
		Method:     http.MethodPost,
		URL:        u,
		Path:       path,
		Body:       p,
		Idempotent: true,
	}, &lt)
	if err != nil {
		return nil, err
	}
	switch {
	case lt.LinkToken == "":
		return nil, missingField(http.MethodPost, path, status, "link_token")
	case p.ShouldCreateMagicLinkURL && lt.MagicLinkURL == "":
		return nil, missingField(http.MethodPost, path, status, "magic_link_url")
	}
	return &lt, nil
}

// missingField is the error for a 2xx answer that lacks a field the call
// needs.
func missingField(method, path string, status int, field string) error {
	return &DecodeError{Method: method, Path: path, StatusCode: status,
		Err: fmt.Errorf("the response has no %s", field)}
}
