package mergelink_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/internal/validate/validatetest"
)

// paramsCall is one params type of a package, a valid value of it with
// every string field, slice, map and pointer set (so that the walk reaches
// each string), and the call that sends it.
type paramsCall struct {
	valid any
	call  func(ctx context.Context, c *mergelink.Client, p any) error
}

// fullLinkTokenParams sets every field of LinkTokenParams, a string in
// each list and map.
func fullLinkTokenParams() mergelink.LinkTokenParams {
	return mergelink.LinkTokenParams{
		EndUserEmailAddress: "jane@example.com", EndUserOrganizationName: "Example", EndUserOriginID: "user-1",
		Categories:     []mergelink.Category{mergelink.CategoryHRIS},
		Integration:    "bamboohr",
		LinkExpiryMins: 60,
		CommonModels: []mergelink.CommonModel{{ModelID: "hris.Employee",
			EnabledActions: []mergelink.Action{mergelink.ActionRead}, DisabledFields: []string{"ssn"}}},
		CategoryCommonModelScopes: map[mergelink.Category][]mergelink.ModelScope{
			mergelink.CategoryHRIS: {{ModelName: "Employee",
				ModelPermissions: map[mergelink.Action]mergelink.ModelPermission{mergelink.ActionRead: {IsEnabled: true}},
				FieldPermissions: &mergelink.FieldPermissions{EnabledFields: []string{"name"}, DisabledFields: []string{"ssn"}}}},
		},
		Language:                      mergelink.LanguageEN,
		IntegrationSpecificConfig:     map[string]any{"k": "v", "nested": map[string]any{"list": []any{"x", 1.5}}},
		CompletedAccountInitialScreen: mergelink.InitialScreenSelectiveSync,
		LinkedDestinationID:           "41f11808-5387-4be5-9af2-852a372d61e3",
		CredentialID:                  "41f11808-5387-4be5-9af2-852a372d61e3",
	}
}

// rootParams lists every params type of the root package.
var rootParams = map[string]paramsCall{
	"LinkTokenParams": {fullLinkTokenParams(), func(ctx context.Context, c *mergelink.Client, p any) error {
		_, err := c.CreateLinkToken(ctx, p.(mergelink.LinkTokenParams))
		return err
	}},
	"MagicLinkParams": {mergelink.MagicLinkParams(fullLinkTokenParams()), func(ctx context.Context, c *mergelink.Client, p any) error {
		_, err := c.CreateMagicLink(ctx, p.(mergelink.MagicLinkParams))
		return err
	}},
	"LinkedAccountsParams": {mergelink.LinkedAccountsParams{
		PathCategory: mergelink.CategoryHRIS, Category: mergelink.CategoryHRIS, Cursor: "cD0y",
		EndUserEmailAddress: "jane@example.com", EndUserOrganizationName: "Example", EndUserOriginID: "user-1",
		EndUserOriginIDs: []string{"user-1", "user-2"},
		ID:               "41f11808-5387-4be5-9af2-852a372d61e3", IDs: []string{"41f11808-5387-4be5-9af2-852a372d61e3"},
		IntegrationName: "BambooHR", Status: mergelink.LinkedAccountComplete,
	}, func(ctx context.Context, c *mergelink.Client, p any) error {
		for _, err := range c.ListLinkedAccounts(ctx, p.(mergelink.LinkedAccountsParams)) {
			return err
		}
		return nil
	}},
	"IssuesParams": {mergelink.IssuesParams{
		PathCategory: mergelink.CategoryHRIS, AccountToken: "tok-1", LinkedAccountID: "41f11808-5387-4be5-9af2-852a372d61e3",
		Cursor: "cD0y", EndUserOrganizationName: "Example", IntegrationName: "BambooHR", Status: mergelink.IssueOngoing,
	}, func(ctx context.Context, c *mergelink.Client, p any) error {
		for _, err := range c.ListIssues(ctx, p.(mergelink.IssuesParams)) {
			return err
		}
		return nil
	}},
}

// TestEveryStringParamRefusesInvalidUTF8 walks every string of every params
// type (fields added later included) and sets each, in turn, to invalid
// UTF-8: Validate and the call both fail with a *ValidationError naming that
// string, and nothing is sent.
func TestEveryStringParamRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	types, err := validatetest.ValidatedTypes(".")
	require.NoError(t, err)
	assert.ElementsMatch(t, types, keysOf(rootParams), "every type with a Validate method is in rootParams")
	c := noRequestClient(t) // fails the test on any request
	ctx := context.Background()
	for name, pc := range rootParams {
		require.NoError(t, pc.valid.(interface{ Validate() error }).Validate(), "%s: the valid value", name)
		variants := validatetest.Corrupt(pc.valid, "")
		require.Greater(t, len(variants), 5, "%s: strings found", name) // IssuesParams has 7
		for _, bad := range validatetest.InvalidUTF8 {
			for _, v := range validatetest.Corrupt(pc.valid, bad) {
				checkUTF8Problem(t, name, v.Field, v.Value.(interface{ Validate() error }).Validate())
				checkUTF8Problem(t, name+" call", v.Field, pc.call(ctx, c, v.Value))
			}
		}
	}
}

// TestEveryStringArgumentRefusesInvalidUTF8: the strings a call takes
// beside its params (a public token, a category) are checked too.
func TestEveryStringArgumentRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	ctx := context.Background()
	for _, bad := range validatetest.InvalidUTF8 {
		_, err := c.ExchangeAccountToken(ctx, mergelink.CategoryHRIS, bad)
		checkUTF8Problem(t, "ExchangeAccountToken", "publicToken", err)
		_, err = c.ExchangeAccountToken(ctx, mergelink.Category(bad), "pub-1")
		checkUTF8Problem(t, "ExchangeAccountToken", "category", err)
	}
}

// checkUTF8Problem asserts that err is a *ValidationError with a problem
// that names field and says UTF-8.
func checkUTF8Problem(t *testing.T, what, field string, err error) {
	t.Helper()
	assert.True(t, validatetest.HasProblem(err, field, "UTF-8"), "%s with invalid UTF-8 in %s: want a UTF-8 problem naming it, got %v", what, field, err)
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
