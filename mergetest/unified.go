package mergetest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mergelink/mergelink/internal/validate"
)

// linkToken is a Unified API link token and what it was made for.
type linkToken struct {
	token      string
	email      string
	org        string
	originID   string
	categories []string
	integ      string // slug, or "" to let the end user pick
	magic      bool
	test       bool // made with the test-environment key
	expires    time.Time
	used       bool
}

// linkTokenRequest is the body of POST {category}/v1/link-token. Pointers
// tell a missing or null field from a zero one.
type linkTokenRequest struct {
	email, org, originID        *string
	categories                  []string
	integration                 *string
	linkExpiryMins              *int
	magic, hideAdmin, syncsOff  *bool
	ekm                         *bool
	commonModels                []commonModelScope
	categoryScopes              map[string][]modelScope
	language, initialScreen     *string
	destinationID, credentialID *string
	integrationConfig           map[string]any
}

type commonModelScope struct {
	ModelID        *string   `json:"model_id"`
	EnabledActions *[]string `json:"enabled_actions"`
	DisabledFields *[]string `json:"disabled_fields"`
}

type modelScope struct {
	ModelName        *string `json:"model_name"`
	ModelPermissions map[string]struct {
		IsEnabled *bool `json:"is_enabled"`
	} `json:"model_permissions"`
	FieldPermissions *struct {
		EnabledFields  []any `json:"enabled_fields"`
		DisabledFields []any `json:"disabled_fields"`
	} `json:"field_permissions"`
}

// fields maps each body field to where it is decoded and what it must be.
func (q *linkTokenRequest) fields() map[string]field {
	return map[string]field{
		"end_user_email_address":           {&q.email, "a string"},
		"end_user_organization_name":       {&q.org, "a string"},
		"end_user_origin_id":               {&q.originID, "a string"},
		"categories":                       {&q.categories, "a list of strings"},
		"integration":                      {&q.integration, "a string"},
		"link_expiry_mins":                 {&q.linkExpiryMins, "an integer"},
		"should_create_magic_link_url":     {&q.magic, "a boolean"},
		"hide_admin_magic_link":            {&q.hideAdmin, "a boolean"},
		"common_models":                    {&q.commonModels, "a list of {model_id, enabled_actions, disabled_fields} objects"},
		"category_common_model_scopes":     {&q.categoryScopes, "an object of lists of {model_name, model_permissions, field_permissions} objects"},
		"language":                         {&q.language, "a string"},
		"are_syncs_disabled":               {&q.syncsOff, "a boolean"},
		"integration_specific_config":      {&q.integrationConfig, "an object"},
		"completed_account_initial_screen": {&q.initialScreen, "a string"},
		"linked_destination_id":            {&q.destinationID, "a string"},
		"credential_id":                    {&q.credentialID, "a string"},
		"ekm_enabled":                      {&q.ekm, "a boolean"},
	}
}

// field is where a body field is decoded, and the JSON type it must have.
type field struct {
	into any
	want string
}

// decodeFields decodes a JSON object body field by field, so that each
// problem points at its field. Unlike Merge, which ignores them, it refuses
// unknown top-level fields, so that a misspelt field fails a test.
func decodeFields(body []byte, fields map[string]field, c *checker) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		c.add(newProblem("MALFORMED_REQUEST", "Malformed request", "", "The request body must be a JSON object."))
		return
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, ok := fields[name]
		if !ok {
			c.invalid("/"+name, fmt.Sprintf("Unknown field %q.", name))
			continue
		}
		if err := json.Unmarshal(raw[name], f.into); err != nil {
			c.invalid("/"+name, "Must be "+f.want+".")
		}
	}
}

// checker collects the problems of a Unified request.
type checker struct{ problems []problem }

func (c *checker) add(p problem) { c.problems = append(c.problems, p) }

func (c *checker) missing(pointer string) {
	c.add(newProblem("MISSING_REQUIRED_FIELD", "Missing Required Field", pointer, "This field is required."))
}

func (c *checker) invalid(pointer, detail string) {
	c.add(newProblem("INVALID_FIELD", "Invalid Field", pointer, detail))
}

// text checks a required string of 1 to 100 characters.
func (c *checker) text(pointer string, s *string) {
	switch n := utf8.RuneCountInString(deref(s)); {
	case s == nil:
		c.missing(pointer)
	case n < 1 || n > 100:
		c.invalid(pointer, fmt.Sprintf("Must be 1 to 100 characters long, not %d.", n))
	}
}

// oneOf checks that s, when given, is one of choices.
func (c *checker) oneOf(pointer string, s *string, choices ...string) {
	if s != nil && !slices.Contains(choices, *s) {
		c.invalid(pointer, fmt.Sprintf("%q is not a valid choice: use %s.", *s, strings.Join(choices, ", ")))
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// validate checks q, posted to the link-token path of pathCategory, as
// Merge does. The path's category may be any of the body's, as in Merge's
// own examples (categories ["hris", "ats"] posted to /ats/v1/link-token).
func (q *linkTokenRequest) validate(c *checker, pathCategory string) {
	c.text("/end_user_email_address", q.email)
	c.text("/end_user_organization_name", q.org)
	c.text("/end_user_origin_id", q.originID)
	if len(q.categories) == 0 {
		c.missing("/categories")
	}
	for i, cat := range q.categories {
		c.oneOf(fmt.Sprintf("/categories/%d", i), &cat, categories...)
	}
	if len(q.categories) > 0 && !slices.Contains(q.categories, pathCategory) {
		c.invalid("/categories", fmt.Sprintf("The path's category %q is not among the categories %s: post to the link-token path of one of them.",
			pathCategory, strings.Join(q.categories, ", ")))
	}
	if slug := deref(q.integration); slug != "" {
		in, known := lookupIntegration(slug)
		switch {
		case !known:
			c.add(newProblem("INVALID_INTEGRATION", "Invalid Integration", "/integration",
				fmt.Sprintf("%s is not a valid integration: use the slug of an integration, such as \"greenhouse\".", validate.Quote(slug))))
		case len(q.categories) > 0:
			if _, ok := in.offers(q.categories); !ok {
				c.invalid("/integration", fmt.Sprintf("%s offers none of the categories %s.", in.name, strings.Join(q.categories, ", ")))
			}
		}
	}
	if q.linkExpiryMins != nil {
		max := 720
		if deref(q.magic) {
			max = 10080
		}
		if m := *q.linkExpiryMins; m < 30 || m > max {
			c.invalid("/link_expiry_mins", fmt.Sprintf("Must be between 30 and %d, not %d.", max, m))
		}
	}
	c.oneOf("/language", q.language, "en", "de")
	c.oneOf("/completed_account_initial_screen", q.initialScreen, "SELECTIVE_SYNC")
	if id := q.destinationID; id != nil && !validate.IsUUID(*id) {
		c.invalid("/linked_destination_id", "Must be a UUID.")
	}
	if id := q.credentialID; id != nil && !validate.IsUUID(*id) {
		c.invalid("/credential_id", "Must be a UUID.")
	}
	for i, m := range q.commonModels {
		at := fmt.Sprintf("/common_models/%d", i)
		if deref(m.ModelID) == "" {
			c.missing(at + "/model_id")
		}
		if m.EnabledActions == nil {
			c.missing(at + "/enabled_actions")
		}
		for j, a := range deref(m.EnabledActions) {
			c.oneOf(fmt.Sprintf("%s/enabled_actions/%d", at, j), &a, "READ", "WRITE")
		}
		if m.DisabledFields == nil {
			c.missing(at + "/disabled_fields")
		}
	}
	for _, cat := range sortedKeys(q.categoryScopes) {
		at := "/category_common_model_scopes/" + cat
		c.oneOf(at, &cat, categories...)
		for i, sc := range q.categoryScopes[cat] {
			if deref(sc.ModelName) == "" {
				c.missing(fmt.Sprintf("%s/%d/model_name", at, i))
			}
			for _, action := range sortedKeys(sc.ModelPermissions) {
				c.oneOf(fmt.Sprintf("%s/%d/model_permissions/%s", at, i, action), &action, "READ", "WRITE")
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// createLinkToken serves POST {category}/v1/link-token, answering 200.
func (s *Server) createLinkToken(r *http.Request, body []byte) reply {
	if !isCategory(r.PathValue("category")) {
		return notFound(r, body)
	}
	var q linkTokenRequest
	var c checker
	decodeFields(body, q.fields(), &c)
	if len(c.problems) == 0 {
		q.validate(&c, r.PathValue("category"))
	}
	if len(c.problems) > 0 {
		return problems(c.problems...)
	}
	mins := 30
	if q.linkExpiryMins != nil {
		mins = *q.linkExpiryMins
	}
	lt := &linkToken{
		token:      s.ids.token(),
		email:      *q.email,
		org:        *q.org,
		originID:   *q.originID,
		categories: q.categories,
		integ:      deref(q.integration),
		magic:      deref(q.magic),
		test:       testKeyUsed(r),
		expires:    s.now().Add(time.Duration(mins) * time.Minute),
	}
	s.linkTokens[lt.token] = lt
	out := map[string]string{"link_token": lt.token}
	if in, ok := lookupIntegration(lt.integ); ok {
		out["integration_name"] = in.name
	}
	if lt.magic {
		out["magic_link_url"] = s.URL() + LinkPath + lt.token
	}
	// 200, as the OpenAPI lists it; the SDK accepts 200 and 201.
	return reply{http.StatusOK, out}
}

// exchangeAccountToken serves GET {category}/v1/account-token/{public_token}.
// A public token works once.
func (s *Server) exchangeAccountToken(r *http.Request, body []byte) reply {
	a, ok := s.publicTokens[r.PathValue("public_token")]
	if !isCategory(r.PathValue("category")) || !ok {
		return notFound(r, body)
	}
	delete(s.publicTokens, r.PathValue("public_token"))
	return reply{http.StatusOK, map[string]any{
		"account_token": a.token,
		"id":            a.id,
		"integration":   a.integ.json(),
	}}
}

// accountJSON is a Linked Account as the linked-accounts list shows it.
type accountJSON struct {
	ID                      string                 `json:"id"`
	Category                string                 `json:"category"`
	Status                  string                 `json:"status"`
	StatusDetail            string                 `json:"status_detail"`
	EndUserOriginID         string                 `json:"end_user_origin_id"`
	EndUserOrganizationName string                 `json:"end_user_organization_name"`
	EndUserEmailAddress     string                 `json:"end_user_email_address"`
	WebhookListenerURL      string                 `json:"webhook_listener_url"`
	IsDuplicate             *bool                  `json:"is_duplicate"`
	Integration             accountIntegrationJSON `json:"integration"`
	AccountType             string                 `json:"account_type"`
	CompletedAt             time.Time              `json:"completed_at"`
}

// Page sizes of the cursor lists, as Merge's: 30 without page_size, at most
// 100.
const (
	defaultPageSize = 30
	maxPageSize     = 100
)

// listLinkedAccounts serves GET {category}/v1/linked-accounts with Merge's
// filters and cursor pagination.
func (s *Server) listLinkedAccounts(r *http.Request, body []byte) reply {
	if !isCategory(r.PathValue("category")) {
		return notFound(r, body)
	}
	q := r.URL.Query()
	var c checker
	if cat := q.Get("category"); q.Has("category") && !isCategory(cat) {
		c.invalid("", fmt.Sprintf("The category filter %q is not a valid choice: use %s.", cat, strings.Join(categories, ", ")))
	}
	if id := q.Get("id"); q.Has("id") && !validate.IsUUID(id) {
		c.invalid("", fmt.Sprintf("The id filter must be a UUID, not %q.", id))
	}
	if len(c.problems) > 0 {
		return problems(c.problems...)
	}
	var found []accountJSON
	for _, a := range s.accounts {
		if a.matches(q) {
			found = append(found, a.json())
		}
	}
	// next and previous are bare cursors, as Merge sends them: Merge's
	// official clients pass next straight back as ?cursor=.
	return cursorReply(r, found)
}

// matches reports whether a passes the linked-accounts filters in q. As
// Merge's OpenAPI says of is_test_account, "If included, will only include
// test linked accounts. If not included, will only include non-test linked
// accounts."
func (a *account) matches(q url.Values) bool {
	in := func(param, v string) bool {
		return !q.Has(param) || slices.Contains(strings.Split(q.Get(param), ","), v)
	}
	is := func(param, v string) bool { return !q.Has(param) || q.Get(param) == v }
	return is("category", a.category) &&
		is("end_user_email_address", a.email) &&
		is("end_user_organization_name", a.org) &&
		is("end_user_origin_id", a.originID) &&
		in("end_user_origin_ids", a.originID) &&
		is("id", a.id) &&
		in("ids", a.id) &&
		(!q.Has("integration_name") || strings.EqualFold(q.Get("integration_name"), a.integ.name)) &&
		is("status", a.status) &&
		q.Has("is_test_account") == a.test
}

// urlWith returns the full URL of r with the query parameter param set to
// value, or removed when value is "": the URL of another page of a list.
func (s *Server) urlWith(r *http.Request, param, value string) *string {
	q := r.URL.Query()
	q.Del(param)
	if value != "" {
		q.Set(param, value)
	}
	u := s.URL() + r.URL.Path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return &u
}

// newCursor returns the opaque cursor of the list page starting at offset.
// The first page has one too, for the second page's previous; no cursor
// also means the first page.
func newCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(offset)))
}

// parseCursor returns the offset a cursor stands for; "" is the start.
func parseCursor(cursor string) (int, bool) {
	if cursor == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[1:]))
	return n, err == nil && n >= 0
}

// cursorReply answers the page of items that r's cursor and page_size ask
// for, as {next, previous, results} with bare cursors; an unknown cursor,
// or one past the list, is answered 404, as Merge does.
func cursorReply[T any](r *http.Request, items []T) reply {
	q := r.URL.Query()
	offset, ok := parseCursor(q.Get("cursor"))
	if !ok || offset > len(items) {
		return detail(http.StatusNotFound, "Invalid cursor")
	}
	size := defaultPageSize
	if n, err := strconv.Atoi(q.Get("page_size")); err == nil && n > 0 {
		size = min(n, maxPageSize)
	}
	out := struct {
		Next     *string `json:"next"`
		Previous *string `json:"previous"`
		Results  []T     `json:"results"`
	}{Results: items[offset:min(offset+size, len(items))]}
	if out.Results == nil {
		out.Results = []T{}
	}
	if offset+size < len(items) {
		next := newCursor(offset + size)
		out.Next = &next
	}
	if offset > 0 {
		prev := newCursor(max(offset-size, 0))
		out.Previous = &prev
	}
	return reply{http.StatusOK, out}
}
