package agenthandler_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/validate/validatetest"
)

// agentParams lists every params type of agenthandler: a valid value of it
// with every string, slice, map and pointer set (so that the walk reaches
// each string), and the call that sends it.
var agentParams = map[string]struct {
	valid any
	call  func(ctx context.Context, ah *agenthandler.Client, p any) error
}{
	"LinkTokenParams": {agenthandler.LinkTokenParams{Connector: "linear", ExternalID: "app-2", CallbackURL: "https://myapp.com/cb", State: "s1"},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.CreateLinkToken(ctx, userID, p.(agenthandler.LinkTokenParams))
			return err
		}},
	"RegisteredUserParams": {agenthandler.RegisteredUserParams{OriginUserID: "u1", OriginUserName: "Ada",
		SharedCredentialGroup: &agenthandler.SharedCredentialGroup{OriginCompanyID: "c1", OriginCompanyName: "Acme",
			CustomGroupings: map[string]string{"team": "core"}},
		UserType: agenthandler.UserHuman},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, _, err := ah.CreateRegisteredUser(ctx, p.(agenthandler.RegisteredUserParams))
			return err
		}},
	"UpdateRegisteredUserParams": {agenthandler.UpdateRegisteredUserParams{OriginUserID: "u1", OriginUserName: "Ada",
		SharedCredentialGroup: &agenthandler.SharedCredentialGroup{OriginCompanyID: "c1", OriginCompanyName: "Acme",
			CustomGroupings: map[string]string{"team": "core"}},
		UserType: agenthandler.UserSystem},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.UpdateRegisteredUser(ctx, userID, p.(agenthandler.UpdateRegisteredUserParams))
			return err
		}},
	"ListRegisteredUsersParams": {agenthandler.ListRegisteredUsersParams{OriginUserID: "u1", Page: 2, PageSize: 10},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			for _, err := range ah.ListRegisteredUsers(ctx, p.(agenthandler.ListRegisteredUsersParams)) {
				return err
			}
			return nil
		}},
	"ToolPackParams": {agenthandler.ToolPackParams{Name: "p", Description: "d",
		Connectors: []agenthandler.ToolPackConnectorParams{{Slug: "linear", AuthScope: agenthandler.AuthShared, ToolNames: []string{"create_issue"}}}},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.CreateToolPack(ctx, p.(agenthandler.ToolPackParams))
			return err
		}},
	"UpdateToolPackParams": {agenthandler.UpdateToolPackParams{Name: "p", Description: "d",
		Connectors: []agenthandler.ToolPackConnectorParams{{Slug: "linear", AuthScope: agenthandler.AuthShared, ToolNames: []string{"create_issue"}}}},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.UpdateToolPack(ctx, userID, p.(agenthandler.UpdateToolPackParams))
			return err
		}},
	"SearchToolsParams": {agenthandler.SearchToolsParams{Intent: "file a bug", ConnectorSlugs: []string{"linear"}, MaxResults: 3},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.SearchTools(ctx, userID, userID, p.(agenthandler.SearchToolsParams))
			return err
		}},
	"ApplicationCredentialParams": {agenthandler.ApplicationCredentialParams{ConnectorSlug: "linear", ClientID: "c", ClientSecret: "s", ExternalID: "e"},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.CreateApplicationCredential(ctx, p.(agenthandler.ApplicationCredentialParams))
			return err
		}},
	"UpdateApplicationCredentialParams": {agenthandler.UpdateApplicationCredentialParams{ClientID: "c", ClientSecret: "s", ExternalID: "e"},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.UpdateApplicationCredential(ctx, userID, p.(agenthandler.UpdateApplicationCredentialParams))
			return err
		}},
	"ListApplicationCredentialsParams": {agenthandler.ListApplicationCredentialsParams{Slug: "linear", ExternalID: "e"},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			return first(ah.ListApplicationCredentials(ctx, p.(agenthandler.ListApplicationCredentialsParams)))
		}},
	"CreateAccessKeyParams": {agenthandler.CreateAccessKeyParams{Name: "k", ToolPackIDs: []string{userID}, RegisteredUserIDs: []string{userID}, Scopes: []string{agenthandler.ScopeRuntime}},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.CreateAccessKey(ctx, p.(agenthandler.CreateAccessKeyParams))
			return err
		}},
	"ListAuditLogEventsParams": {agenthandler.ListAuditLogEventsParams{EventType: "TOOL_PACK_CREATED", UserID: userID},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			return first(ah.ListAuditLogEvents(ctx, p.(agenthandler.ListAuditLogEventsParams)))
		}},
	"ListToolDescriptionOverridesParams": {agenthandler.ListToolDescriptionOverridesParams{Slug: "linear"},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			return first(ah.ListToolDescriptionOverrides(ctx, p.(agenthandler.ListToolDescriptionOverridesParams)))
		}},
	"StandardEntityRuleParams": {agenthandler.StandardEntityRuleParams{IsActive: true, InboundAction: agenthandler.ActionLog, OutboundAction: agenthandler.ActionBlock},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.UpdateStandardEntityRule(ctx, "EMAIL_ADDRESS", p.(agenthandler.StandardEntityRuleParams))
			return err
		}},
	"ListToolPackRulesParams": {agenthandler.ListToolPackRulesParams{DefinedAt: agenthandler.DefinedAtToolPack},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			return first(ah.ListToolPackCustomRegexRules(ctx, userID, p.(agenthandler.ListToolPackRulesParams)))
		}},
	"CustomRegexRuleParams": {agenthandler.CustomRegexRuleParams{Name: "n", Regex: "x+", InboundAction: agenthandler.ActionLog, OutboundAction: agenthandler.ActionLog, ContextKeywords: []string{"k"}},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.CreateCustomRegexRule(ctx, p.(agenthandler.CustomRegexRuleParams))
			return err
		}},
	"ToolPackCustomRegexRuleParams": {agenthandler.ToolPackCustomRegexRuleParams{Name: "n", Regex: "x+", InboundAction: agenthandler.ActionLog, OutboundAction: agenthandler.ActionLog, ContextKeywords: []string{"k"}},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.CreateToolPackCustomRegexRule(ctx, userID, p.(agenthandler.ToolPackCustomRegexRuleParams))
			return err
		}},
	"UpdateCustomRegexRuleParams": {agenthandler.UpdateCustomRegexRuleParams{Regex: "x+", InboundAction: agenthandler.ActionLog, OutboundAction: agenthandler.ActionLog, ContextKeywords: []string{"k"}},
		func(ctx context.Context, ah *agenthandler.Client, p any) error {
			_, err := ah.UpdateToolPackCustomRegexRule(ctx, userID, userID, p.(agenthandler.UpdateCustomRegexRuleParams))
			return err
		}},
}

// first returns the first error of a list, nil when it yields none.
func first[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		return err
	}
	return nil
}

// agentParamsWithoutStrings lists the params types that hold no string (yet):
// the test checks that they still hold none.
var agentParamsWithoutStrings = map[string]any{
	"ListConnectorsParams": agenthandler.ListConnectorsParams{Page: 2, PageSize: 10},
	"Paging":               agenthandler.Paging{Page: 2, PageSize: 10},
}

// TestEveryStringParamRefusesInvalidUTF8 walks every string of every params
// type (fields added later included) and sets each, in turn, to invalid
// UTF-8: Validate and the call both fail with a *ValidationError naming that
// string, and nothing is sent.
func TestEveryStringParamRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	types, err := validatetest.ValidatedTypes(".")
	require.NoError(t, err)
	var listed []string
	for name := range agentParams {
		listed = append(listed, name)
	}
	for name, valid := range agentParamsWithoutStrings {
		listed = append(listed, name)
		assert.Empty(t, validatetest.Corrupt(valid, validatetest.InvalidUTF8[0]), "%s holds a string now: move it to agentParams", name)
	}
	assert.ElementsMatch(t, types, listed, "every type with a Validate method is in agentParams")
	f := setup(t)
	ctx := context.Background()
	for name, pc := range agentParams {
		require.NoError(t, pc.valid.(interface{ Validate() error }).Validate(), "%s: the valid value", name)
		for _, bad := range validatetest.InvalidUTF8 {
			variants := validatetest.Corrupt(pc.valid, bad)
			require.NotEmpty(t, variants, name)
			for _, v := range variants {
				err := v.Value.(interface{ Validate() error }).Validate()
				assert.True(t, validatetest.HasProblem(err, v.Field, "UTF-8"), "%s.Validate with invalid UTF-8 in %s: %v", name, v.Field, err)
				err = pc.call(ctx, f.ah, v.Value)
				assert.True(t, validatetest.HasProblem(err, v.Field, "UTF-8"), "%s call with invalid UTF-8 in %s: %v", name, v.Field, err)
			}
		}
	}
	// The id arguments of the calls that put them in the path.
	for _, bad := range validatetest.InvalidUTF8 {
		calls := map[string]error{}
		_, calls["GetRegisteredUser"] = f.ah.GetRegisteredUser(ctx, bad)
		_, calls["UpdateRegisteredUser"] = f.ah.UpdateRegisteredUser(ctx, bad, agenthandler.UpdateRegisteredUserParams{OriginUserName: "Ada"})
		calls["DeleteRegisteredUser"] = f.ah.DeleteRegisteredUser(ctx, bad)
		_, calls["CreateLinkToken"] = f.ah.CreateLinkToken(ctx, bad, agenthandler.LinkTokenParams{Connector: "linear"})
		for name, err := range calls {
			assert.True(t, validatetest.HasProblem(err, "registeredUserID", "UTF-8"), "%s(%q): %v", name, bad, err)
		}
	}
	assert.Zero(t, f.requests(), "requests sent")
}
