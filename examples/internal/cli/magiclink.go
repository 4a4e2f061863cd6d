package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mergelink/mergelink"
)

// MagicLinkFlags are the fields of the Merge Dashboard's "Send Link via
// URL" form, as command-line flags.
type MagicLinkFlags struct {
	Email       string
	Org         string
	OriginID    string
	Categories  string // comma-separated, such as "hris,ats"
	Integration string
	Language    string
	ExpiryMins  int
	Region      string
}

// MagicLinkFlagOf maps the fields of mergelink.MagicLinkParams to the flags
// that set them, for Report.
var MagicLinkFlagOf = map[string]string{
	"EndUserEmailAddress":     "-email",
	"EndUserOrganizationName": "-org",
	"EndUserOriginID":         "-origin-id",
	"Categories":              "-categories",
	"Integration":             "-integration",
	"Language":                "-language",
	"LinkExpiryMins":          "-expiry",
}

// Register defines the flags on fs.
func (f *MagicLinkFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Email, "email", "", "the end user's email address (required)")
	fs.StringVar(&f.Org, "org", "", "the end user's organization name (required)")
	fs.StringVar(&f.OriginID, "origin-id", "", "your id for the end user, unique per Linked Account; reusing the origin id of an end user who already linked relinks their account (required)")
	fs.StringVar(&f.Categories, "categories", "", "comma-separated categories offered, such as hris,ats (required)")
	fs.StringVar(&f.Integration, "integration", "", "an integration's slug, such as bamboohr, to skip the picker")
	fs.StringVar(&f.Language, "language", "", "the language of Merge Link: en or de")
	fs.IntVar(&f.ExpiryMins, "expiry", mergelink.DefaultMagicLinkExpiryMins, "minutes until the link expires, 30 to 10080")
	fs.StringVar(&f.Region, "region", string(mergelink.RegionUS), "the region of your Merge organization: us, eu or apac")
}

// Params returns the Magic Link request the flags describe; the SDK
// validates it.
func (f *MagicLinkFlags) Params() mergelink.MagicLinkParams {
	var cats []mergelink.Category
	for _, c := range strings.Split(f.Categories, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cats = append(cats, mergelink.Category(c))
		}
	}
	return mergelink.MagicLinkParams{
		EndUserEmailAddress:     f.Email,
		EndUserOrganizationName: f.Org,
		EndUserOriginID:         f.OriginID,
		Categories:              cats,
		Integration:             f.Integration,
		Language:                mergelink.Language(f.Language),
		LinkExpiryMins:          f.ExpiryMins,
	}
}

// PrintMagicLink prints a Magic Link's URL and expiry for people to read.
func PrintMagicLink(w io.Writer, ml *mergelink.MagicLink, p mergelink.MagicLinkParams) {
	fmt.Fprintf(w, "Magic Link URL: %s\n", ml.URL)
	if ml.IntegrationName != "" {
		fmt.Fprintf(w, "Integration:    %s\n", ml.IntegrationName)
	}
	fmt.Fprintf(w, "Expires about:  %s (in %s)\n", ml.ExpiresAt.UTC().Format(time.RFC3339), approx(time.Until(ml.ExpiresAt)))
	fmt.Fprintf(w, "Send it to %s only: until it expires, anyone who has it can link %s's accounts.\n", p.EndUserEmailAddress, p.EndUserOrganizationName)
}

// approx writes d, rounded to the minute, in days, hours or minutes.
func approx(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}
