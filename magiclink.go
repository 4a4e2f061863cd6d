package mergelink

import (
	"context"
	"time"
)

// DefaultMagicLinkExpiryMins is CreateMagicLink's expiry when
// MagicLinkParams.LinkExpiryMins is 0: 7 days, the longest Merge allows and
// the one it recommends for a Magic Link.
const DefaultMagicLinkExpiryMins = MaxMagicLinkExpiryMins

// MagicLinkParams describes the end user a Magic Link is for. It has the
// fields of LinkTokenParams, with the same rules, except that:
//
//   - ShouldCreateMagicLinkURL is ignored: CreateMagicLink always asks for a
//     Magic Link URL;
//   - LinkExpiryMins may be 30 to 10080 minutes, and 0 means
//     DefaultMagicLinkExpiryMins (7 days) instead of 30 minutes.
//
// To relink an end user's existing Linked Account (after its credentials
// expired, say), pass the EndUserOriginID it was created with: Merge keeps
// its id and account token. To skip the integration picker, name the
// integration's slug in Integration.
type MagicLinkParams LinkTokenParams

// Validate reports every problem of p in a *ValidationError, or returns nil.
// CreateMagicLink calls it before sending anything.
func (p MagicLinkParams) Validate() error { return p.linkToken().check("MagicLinkParams") }

// linkToken returns the link token request that p stands for.
func (p MagicLinkParams) linkToken() LinkTokenParams {
	lp := LinkTokenParams(p)
	lp.ShouldCreateMagicLinkURL = true
	if lp.LinkExpiryMins == 0 {
		lp.LinkExpiryMins = DefaultMagicLinkExpiryMins
	}
	return lp
}

// MagicLink is a Magic Link URL to send to an end user, who opens Merge Link
// with it in a browser: no frontend code is needed. A Magic Link has no
// public token to exchange: the new Linked Account's account token shows in
// the Merge Dashboard and arrives in Merge's LinkedAccount webhooks.
type MagicLink struct {
	// URL is the Magic Link URL. Send it to the end user only: anyone who
	// has it can link an account on their behalf until it expires.
	URL string
	// LinkToken is the link token behind the URL.
	LinkToken string
	// IntegrationName is the integration's name, when the request named
	// one.
	IntegrationName string
	// ExpiresAt is the client's estimate of when the URL expires: the time
	// the request was sent plus the expiry asked for. Merge starts its clock
	// when it gets the request, so the URL lives a little longer.
	ExpiresAt time.Time
}

// CreateMagicLink asks Merge for a Magic Link URL for the end user p
// describes, posting a link token request with should_create_magic_link_url
// set, to the API of p's first category, with an Idempotency-Key.
//
// A single-integration Magic Link that relinks an existing account:
//
//	ml, err := c.CreateMagicLink(ctx, mergelink.MagicLinkParams{
//		EndUserEmailAddress:     "jane@example.com",
//		EndUserOrganizationName: "Example Org",
//		EndUserOriginID:         "user-42", // the id the account was linked with: relinks it
//		Categories:              []mergelink.Category{mergelink.CategoryHRIS},
//		Integration:             "bamboohr", // no integration picker
//	})
//
// It fails with a *ValidationError, having sent nothing, when p is invalid;
// with an *APIError when Merge refuses; and with a *DecodeError when a 2xx
// answer has no link token or no Magic Link URL.
func (c *Client) CreateMagicLink(ctx context.Context, p MagicLinkParams) (*MagicLink, error) {
	if err := c.ready("CreateMagicLink"); err != nil {
		return nil, err
	}
	lp := p.linkToken()
	if err := lp.check("MagicLinkParams"); err != nil {
		return nil, err
	}
	sent := time.Now()
	lt, err := c.createLinkToken(ctx, lp)
	if err != nil {
		return nil, err
	}
	return &MagicLink{
		URL:             lt.MagicLinkURL,
		LinkToken:       lt.LinkToken,
		IntegrationName: lt.IntegrationName,
		ExpiresAt:       sent.Add(time.Duration(lp.LinkExpiryMins) * time.Minute).Round(0),
	}, nil
}
