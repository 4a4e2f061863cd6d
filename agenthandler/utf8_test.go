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
}

// agentParamsWithoutStrings lists the params types that hold no string (yet):
// the test checks that they still hold none.
var agentParamsWithoutStrings = map[string]any{
	"ListConnectorsParams": agenthandler.ListConnectorsParams{Page: 2, PageSize: 10},
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
