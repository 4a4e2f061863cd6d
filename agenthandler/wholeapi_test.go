package agenthandler_test

import (
	"context"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/mergetest"
)

// readAll reads a list to its end, failing the test on an error.
func readAll[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for it, err := range seq {
		require.NoError(t, err)
		out = append(out, it)
	}
	return out
}

// mergetestClient returns an Agent Handler client of a fresh mergetest
// server.
func mergetestClient(t *testing.T, opts ...mergetest.ServerOption) (*mergetest.Server, *agenthandler.Client) {
	t.Helper()
	srv := mergetest.NewTestServer(t, opts...)
	c, err := mergelink.NewClient(srv.APIKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	return srv, c.AgentHandler()
}

// reached returns the spec operations ("METHOD /path") the server
// received, matching the recorded paths against specCalls' templates.
func reached(srv *mergetest.Server) map[string]bool {
	got := map[string]bool{}
	for _, r := range srv.Requests() {
		path := strings.TrimSuffix(strings.TrimPrefix(r.Path, mergetest.AgentPath), "/") + "/"
		segs := strings.Split(path, "/")
		for op := range specCalls {
			method, tmpl, _ := strings.Cut(op, " ")
			want := strings.Split(tmpl, "/")
			if method != r.Method || len(want) != len(segs) {
				continue
			}
			match := true
			for i := range want {
				if !strings.HasPrefix(want[i], "{") && want[i] != segs[i] {
					match = false
				}
			}
			if match && !(strings.HasSuffix(tmpl, "{slug}/") && segs[len(segs)-2] == "tool-description-overrides") {
				got[op] = true
			}
		}
	}
	return got
}

// Every call of the client works against mergetest, which keeps the state
// they change: tool packs and their connectors, application credentials,
// access keys, rules, overrides and the audit log. The journey reaches
// every operation of the spec but the MCP endpoint (agentmcp's tests).
func TestEveryCallAgainstMergetest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, ah := mergetestClient(t)
	start := time.Now().Add(-time.Minute)

	// Callback origin.
	o, created, err := ah.RegisterCallbackOrigin(ctx, "https://app.example.com/settings?tab=1#x")
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, "https://app.example.com", o.Origin)

	// Tool packs and their connectors.
	tp, err := ah.CreateToolPack(ctx, agenthandler.ToolPackParams{Name: "Support", Description: "Tickets",
		Connectors: []agenthandler.ToolPackConnectorParams{{Slug: "linear", ToolNames: []string{"create_issue"}}, {Slug: "slack"}}})
	require.NoError(t, err)
	require.Len(t, tp.Connectors, 2)
	assert.Equal(t, []string{"create_issue"}, toolNames(tp.Connectors[0]))
	assert.Equal(t, agenthandler.AuthIndividual, tp.Connectors[0].AuthScope)
	assert.Len(t, tp.Connectors[1].Tools, 2, "no tool names: every tool")

	got, err := ah.GetToolPack(ctx, tp.ID)
	require.NoError(t, err)
	assert.Equal(t, tp, got)
	packs := readAll(t, ah.ListToolPacks(ctx, agenthandler.Paging{PageSize: 1}))
	require.Len(t, packs, 1)
	up, err := ah.UpdateToolPack(ctx, tp.ID, agenthandler.UpdateToolPackParams{Name: "Support desk"})
	require.NoError(t, err)
	assert.Equal(t, "Support desk", up.Name)
	assert.Len(t, up.Connectors, 2, "connectors not sent stay")

	ks, err := ah.UpdateToolPackConnectors(ctx, tp.ID, []agenthandler.ToolPackConnectorParams{
		{Slug: "jira", AuthScope: agenthandler.AuthShared}, {Slug: "slack", ToolNames: []string{}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"linear", "jira"}, slugs(ks), "PATCH adds jira, removes slack ([]), keeps linear")
	assert.Equal(t, agenthandler.AuthShared, ks[1].AuthScope)
	ks, err = ah.SetToolPackConnectors(ctx, tp.ID, []agenthandler.ToolPackConnectorParams{{Slug: "github", ToolNames: []string{"create_issue", "search_code"}}, {Slug: "linear"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"github", "linear"}, slugs(ks), "PUT replaces")
	assert.Len(t, ks[1].Tools, 3, "PUT without tool names: every tool")
	require.NoError(t, ah.RemoveToolPackConnector(ctx, tp.ID, "github"))
	ks, err = ah.ListToolPackConnectors(ctx, tp.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"linear"}, slugs(ks))
	assert.ErrorIs(t, ah.RemoveToolPackConnector(ctx, tp.ID, "github"), mergelink.ErrNotFound)

	// Tool search, for a registered user.
	user, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "u1", OriginUserName: "Ada"})
	require.NoError(t, err)
	found, err := ah.SearchTools(ctx, tp.ID, user.ID, agenthandler.SearchToolsParams{Intent: "create an issue", MaxResults: 1})
	require.NoError(t, err)
	require.Len(t, found.Tools, 1)
	assert.Equal(t, "linear_create_issue", found.Tools[0].Name)
	assert.Equal(t, 2, found.TotalResults, "create_issue and search_issues match; list_teams does not")

	// Tool description overrides: the pack's win over the connector's.
	ov, err := ah.UpdateToolDescriptionOverrides(ctx, []agenthandler.ToolDescriptionOverrideParams{{ConnectorSlug: "linear", ToolName: "create_issue", Description: "File a bug."}})
	require.NoError(t, err)
	require.Len(t, ov, 1)
	assert.Equal(t, "CONNECTOR", ov[0].DefinedAt)
	_, err = ah.UpdateToolPackToolDescriptionOverrides(ctx, tp.ID, []agenthandler.ToolDescriptionOverrideParams{{ConnectorSlug: "linear", ToolName: "list_teams", Description: "Teams."}})
	require.NoError(t, err)
	got, err = ah.GetToolPack(ctx, tp.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"create_issue": "File a bug.", "list_teams": "Teams.", "search_issues": "search_issues in Linear."}, descriptions(got.Connectors[0]))
	assert.Len(t, readAll(t, ah.ListToolDescriptionOverrides(ctx, agenthandler.ListToolDescriptionOverridesParams{Slug: "linear"})), 1)
	assert.Len(t, readAll(t, ah.ListToolPackToolDescriptionOverrides(ctx, tp.ID, agenthandler.ListToolDescriptionOverridesParams{})), 1)
	_, err = ah.UpdateToolDescriptionOverrides(ctx, []agenthandler.ToolDescriptionOverrideParams{{ConnectorSlug: "linear", ToolName: "create_issue", Delete: true}})
	require.NoError(t, err)
	assert.Empty(t, readAll(t, ah.ListToolDescriptionOverrides(ctx, agenthandler.ListToolDescriptionOverridesParams{})), "a null description deletes")

	// Application credentials.
	ac, err := ah.CreateApplicationCredential(ctx, agenthandler.ApplicationCredentialParams{ConnectorSlug: "linear", ClientID: "cid", ClientSecret: "csecret", ExternalID: "tenant-1"})
	require.NoError(t, err)
	assert.Equal(t, "tenant-1", ac.ExternalID)
	acs := readAll(t, ah.ListApplicationCredentials(ctx, agenthandler.ListApplicationCredentialsParams{Slug: "linear"}))
	assert.Len(t, acs, 1)
	ac, err = ah.UpdateApplicationCredential(ctx, ac.ID, agenthandler.UpdateApplicationCredentialParams{ClientID: "cid2", ClearExternalID: true})
	require.NoError(t, err)
	assert.Equal(t, "cid2", ac.ClientID)
	assert.Empty(t, ac.ExternalID)
	assert.True(t, ac.IsGlobalDefault)
	again, err := ah.GetApplicationCredential(ctx, ac.ID)
	require.NoError(t, err)
	assert.Equal(t, ac, again)
	require.NoError(t, ah.DeleteApplicationCredential(ctx, ac.ID))
	_, err = ah.GetApplicationCredential(ctx, ac.ID)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)

	// Access keys.
	k, err := ah.CreateAccessKey(ctx, agenthandler.CreateAccessKeyParams{Name: "agent", ToolPackIDs: []string{tp.ID}, Scopes: []string{agenthandler.ScopeRuntime}, ExpiresIn: time.Hour})
	require.NoError(t, err)
	require.NotEmpty(t, k.Key)
	assert.Equal(t, []string{tp.ID}, k.ToolPackIDs)
	require.NotNil(t, k.ExpiresAt)
	assert.WithinDuration(t, time.Now().Add(time.Hour), *k.ExpiresAt, time.Minute)
	listed := readAll(t, ah.ListAccessKeys(ctx, agenthandler.Paging{}))
	require.Len(t, listed, 1)
	assert.Equal(t, k.AccessKey, listed[0])
	k2, err := ah.RegenerateAccessKey(ctx, k.ID)
	require.NoError(t, err)
	assert.NotEqual(t, k.Key, k2.Key)
	gk, err := ah.GetAccessKey(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, k2.KeyMasked, gk.KeyMasked)
	require.NoError(t, ah.RevokeAccessKey(ctx, k.ID))
	_, err = ah.GetAccessKey(ctx, k.ID)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)

	// Standard entity rules, for the organization and overridden per pack.
	rules := readAll(t, ah.ListStandardEntityRules(ctx, agenthandler.Paging{PageSize: 2}))
	require.NotEmpty(t, rules)
	r, err := ah.UpdateStandardEntityRule(ctx, "EMAIL_ADDRESS", agenthandler.StandardEntityRuleParams{IsActive: true, InboundAction: agenthandler.ActionRedact, OutboundAction: agenthandler.ActionLog})
	require.NoError(t, err)
	assert.True(t, r.IsActive)
	r, err = ah.GetStandardEntityRule(ctx, "EMAIL_ADDRESS")
	require.NoError(t, err)
	assert.Equal(t, agenthandler.ActionLog, r.OutboundAction)
	pr, err := ah.SetToolPackStandardEntityRule(ctx, tp.ID, "EMAIL_ADDRESS", agenthandler.StandardEntityRuleParams{IsActive: false, InboundAction: agenthandler.ActionNone, OutboundAction: agenthandler.ActionBlock})
	require.NoError(t, err)
	assert.Equal(t, agenthandler.DefinedAtToolPack, pr.DefinedAt)
	assert.Equal(t, agenthandler.ActionBlock, pr.OutboundAction)
	require.NotNil(t, pr.OrgIsActive)
	assert.True(t, *pr.OrgIsActive)
	assert.Len(t, readAll(t, ah.ListToolPackStandardEntityRules(ctx, tp.ID, agenthandler.ListToolPackRulesParams{DefinedAt: agenthandler.DefinedAtToolPack})), 1)
	require.NoError(t, ah.DeleteToolPackStandardEntityRule(ctx, tp.ID, "EMAIL_ADDRESS"))
	pr, err = ah.GetToolPackStandardEntityRule(ctx, tp.ID, "EMAIL_ADDRESS")
	require.NoError(t, err)
	assert.Equal(t, agenthandler.DefinedAtOrganization, pr.DefinedAt, "the organization's rule applies again")

	// Custom regex rules, for the organization and per pack.
	score := 0.8
	cr, err := ah.CreateCustomRegexRule(ctx, agenthandler.CustomRegexRuleParams{Name: "ticket-id", Regex: `TCK-\d+`, Score: &score})
	require.NoError(t, err)
	assert.Equal(t, 0.8, cr.Score)
	assert.Len(t, readAll(t, ah.ListCustomRegexRules(ctx, agenthandler.Paging{})), 1)
	off := false
	cr, err = ah.UpdateCustomRegexRule(ctx, cr.ID, agenthandler.UpdateCustomRegexRuleParams{IsActive: &off})
	require.NoError(t, err)
	assert.False(t, cr.IsActive)
	again2, err := ah.GetCustomRegexRule(ctx, cr.ID)
	require.NoError(t, err)
	assert.False(t, again2.IsActive)
	own, err := ah.CreateToolPackCustomRegexRule(ctx, tp.ID, agenthandler.ToolPackCustomRegexRuleParams{Name: "order", Regex: `ORD-\d+`, Score: 0.5, IsActive: true, InboundAction: agenthandler.ActionRedact, OutboundAction: agenthandler.ActionRedact})
	require.NoError(t, err)
	assert.Equal(t, agenthandler.DefinedAtToolPack, own.DefinedAt)
	over, err := ah.UpdateToolPackCustomRegexRule(ctx, tp.ID, cr.ID, agenthandler.UpdateCustomRegexRuleParams{Regex: `TCK-\d{4}`})
	require.NoError(t, err)
	assert.Equal(t, cr.ID, over.ID, "an override keeps the organization rule's id")
	assert.Len(t, readAll(t, ah.ListToolPackCustomRegexRules(ctx, tp.ID, agenthandler.ListToolPackRulesParams{DefinedAt: agenthandler.DefinedAtToolPack})), 2)
	require.NoError(t, ah.DeleteToolPackCustomRegexRule(ctx, tp.ID, cr.ID))
	back, err := ah.GetToolPackCustomRegexRule(ctx, tp.ID, cr.ID)
	require.NoError(t, err)
	assert.Equal(t, `TCK-\d+`, back.Regex, "the organization's rule applies again")
	require.NoError(t, ah.DeleteCustomRegexRule(ctx, cr.ID))

	// The audit log recorded the calls, newest first, and filters.
	events := readAll(t, ah.ListAuditLogEvents(ctx, agenthandler.ListAuditLogEventsParams{EventType: "TOOL_PACK_CREATED", CreatedAfter: start, UserID: mergetest.AuditUserID}))
	require.Len(t, events, 1)
	assert.Contains(t, events[0].EventDescription, "Support")
	all := readAll(t, ah.ListAuditLogEvents(ctx, agenthandler.ListAuditLogEventsParams{}))
	assert.Greater(t, len(all), 10)
	assert.False(t, all[0].CreatedAt.Before(all[len(all)-1].CreatedAt), "newest first")
	assert.Empty(t, readAll(t, ah.ListAuditLogEvents(ctx, agenthandler.ListAuditLogEventsParams{CreatedBefore: start})))

	// The rest of the spec: users, link tokens, connectors, credentials.
	_, err = ah.GetRegisteredUser(ctx, user.ID)
	require.NoError(t, err)
	_, err = ah.UpdateRegisteredUser(ctx, user.ID, agenthandler.UpdateRegisteredUserParams{OriginUserName: "Ada L."})
	require.NoError(t, err)
	readAll(t, ah.ListRegisteredUsers(ctx, agenthandler.ListRegisteredUsersParams{}))
	lt, err := ah.CreateLinkToken(ctx, user.ID, agenthandler.LinkTokenParams{Connector: "linear", CallbackURL: "https://app.example.com/cb", State: "s"})
	require.NoError(t, err)
	_, err = srv.CompleteAgentLink(lt.MagicLinkURL)
	require.NoError(t, err)
	readAll(t, ah.ListConnectors(ctx, agenthandler.ListConnectorsParams{}))
	_, err = ah.GetConnector(ctx, "linear")
	require.NoError(t, err)
	require.NoError(t, ah.DeleteCredential(ctx, user.ID, "linear"))
	require.NoError(t, ah.DeleteToolPack(ctx, tp.ID))
	_, err = ah.GetToolPack(ctx, tp.ID)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
	require.NoError(t, ah.DeleteRegisteredUser(ctx, user.ID))

	done := reached(srv)
	for op, call := range specCalls {
		if call != "agentmcp.Connect" {
			assert.True(t, done[op], "the journey reaches %s (%s)", op, call)
		}
	}
}

func toolNames(k agenthandler.ToolPackConnector) []string {
	var out []string
	for _, t := range k.Tools {
		out = append(out, t.Name)
	}
	return out
}

func descriptions(k agenthandler.ToolPackConnector) map[string]string {
	out := map[string]string{}
	for _, t := range k.Tools {
		out[t.Name] = t.Description
	}
	return out
}

func slugs(ks []agenthandler.ToolPackConnector) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Slug)
	}
	return out
}
