package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mergelink/mergelink"
)

func TestReport(t *testing.T) {
	t.Parallel()
	invalid := mergelink.MagicLinkParams{Categories: []mergelink.Category{"hris", "nope"}}.Validate()
	for _, tc := range []struct {
		name string
		err  error
		code int
		want string
	}{
		{"validation", invalid, ExitUsage, "cmd: nothing was sent; fix these and run again:\n" +
			"  -email: required\n  -org: required\n  -origin-id: required\n" +
			"  -categories: must be one of hris, ats, accounting, ticketing, crm, mktg, filestorage, knowledgebase, chat, calendar, email (got \"nope\")\n"},
		{"joined", errors.Join(fmt.Errorf("wrapped: %w", invalid), errors.New("other")), ExitUsage, "  -categories: must be one of"},
		{"usage", Usage(errors.New("bad flag")), ExitUsage, "cmd: bad flag\n"},
		{"missing key", func() error { _, err := APIKey(func(string) string { return " " }); return err }(), ExitUsage, "cmd: MERGE_API_KEY is not set"},
		{"failure", errors.New("mergelink: 401 Unauthorized"), ExitError, "cmd: mergelink: 401 Unauthorized\n"},
	} {
		var b strings.Builder
		assert.Equal(t, tc.code, Report(&b, "cmd", tc.err, MagicLinkFlagOf), tc.name)
		assert.Contains(t, b.String(), tc.want, tc.name)
	}
}

func TestFieldName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "-categories", fieldName("Categories[2]", MagicLinkFlagOf))
	assert.Equal(t, "CommonModels[0].ModelID", fieldName("CommonModels[0].ModelID", MagicLinkFlagOf), "a field without a flag keeps its name")
}

func TestParams(t *testing.T) {
	t.Parallel()
	f := MagicLinkFlags{Email: "e", Org: "o", OriginID: "i", Categories: " hris,, ats ", Integration: "bamboohr", Language: "de", ExpiryMins: 60}
	assert.Equal(t, mergelink.MagicLinkParams{
		EndUserEmailAddress: "e", EndUserOrganizationName: "o", EndUserOriginID: "i",
		Categories:  []mergelink.Category{mergelink.CategoryHRIS, mergelink.CategoryATS},
		Integration: "bamboohr", Language: mergelink.LanguageDE, LinkExpiryMins: 60,
	}, f.Params())
}

func TestApprox(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		7*24*time.Hour - 20*time.Millisecond: "7 days",
		12 * time.Hour:                       "12 hours",
		30 * time.Minute:                     "30 minutes",
		90 * time.Minute:                     "90 minutes",
		25 * time.Hour:                       "25 hours",
		150 * time.Minute:                    "150 minutes",
	} {
		assert.Equal(t, want, approx(d), d.String())
	}
}

func TestOriginIDHelpSaysHowRelinkingWorks(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("magiclink", flag.ContinueOnError)
	new(MagicLinkFlags).Register(fs)
	usage := fs.Lookup("origin-id").Usage
	assert.Contains(t, usage, "reusing the origin id of an end user who already linked relinks", "relinking reuses the end user's origin id")
	assert.NotContains(t, usage, "Linked Account's id", "a Linked Account's id is not an origin id")
}
