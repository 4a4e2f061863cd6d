package mergelink

// RelinkParams returns the MagicLinkParams of a Magic Link that sends the
// end user of acct back through Merge Link to relink it, as Merge asks when
// acct.Status is LinkedAccountRelinkNeeded (expired or revoked credentials,
// say):
//
//	if acct.Status == mergelink.LinkedAccountRelinkNeeded {
//		ml, err := c.CreateMagicLink(ctx, mergelink.RelinkParams(acct))
//		...
//	}
//
// Merge identifies a Linked Account by the pair (end user origin id,
// category): a link token with the same origin id whose end user links the
// same category relinks the account, keeping its id and account token,
// while another origin id, or another category, makes a new Linked
// Account. So the params carry acct's EndUserOriginID, its category as the
// only category, and its integration's slug, which skips the integration
// picker so that the end user cannot link another integration instead; and
// its end user's email address and organization name. Change what you need
// (LinkExpiryMins, Language) before the call. A field acct lacks stays
// empty, and CreateMagicLink's validation then names it.
func RelinkParams(acct LinkedAccount) MagicLinkParams {
	return relinkParams(acct.EndUserOriginID, acct.EndUserEmailAddress, acct.EndUserOrganizationName, acct.Category, acct.Integration.Slug)
}

// RelinkParams returns the MagicLinkParams of a Magic Link that relinks the
// account d describes, as the function RelinkParams does for a
// LinkedAccount; d comes from Account.Details.
func (d AccountDetails) RelinkParams() MagicLinkParams {
	return relinkParams(d.EndUserOriginID, d.EndUserEmailAddress, d.EndUserOrganizationName, d.Category, d.IntegrationSlug)
}

func relinkParams(originID, email, org string, category Category, slug string) MagicLinkParams {
	p := MagicLinkParams{
		EndUserEmailAddress:     email,
		EndUserOrganizationName: org,
		EndUserOriginID:         originID,
		Integration:             slug,
	}
	if category != "" {
		p.Categories = []Category{category}
	}
	return p
}
