package mergetest

import "slices"

// Categories are the Unified API categories the server serves, in the
// order Merge lists them.
var categories = []string{"hris", "ats", "accounting", "ticketing", "crm", "mktg", "filestorage", "knowledgebase", "chat", "calendar", "email"}

func isCategory(c string) bool { return slices.Contains(categories, c) }

// integration is an integration the hosted page offers.
type integration struct {
	slug       string
	name       string
	abbrev     string
	color      string
	categories []string
}

// catalog holds a few real integrations, at least one per category. It is
// read-only.
var catalog = []integration{
	{"bamboohr", "BambooHR", "BambooHR", "#73C41D", []string{"hris"}},
	{"workday", "Workday", "Workday", "#F38B00", []string{"hris"}},
	{"gusto", "Gusto", "Gusto", "#F45D48", []string{"hris"}},
	{"hibob", "HiBob", "HiBob", "#E5276E", []string{"hris"}},
	{"rippling", "Rippling", "Rippling", "#502D3C", []string{"hris"}},
	{"greenhouse", "Greenhouse", "Greenhouse", "#24A47F", []string{"ats"}},
	{"lever", "Lever", "Lever", "#3B4856", []string{"ats"}},
	{"ashby", "Ashby", "Ashby", "#5D4AF0", []string{"ats"}},
	{"workable", "Workable", "Workable", "#1EAAE7", []string{"ats"}},
	{"quickbooks-online", "QuickBooks Online", "QuickBooks", "#2CA01C", []string{"accounting"}},
	{"xero", "Xero", "Xero", "#13B5EA", []string{"accounting"}},
	{"netsuite", "NetSuite", "NetSuite", "#125580", []string{"accounting"}},
	{"jira", "Jira", "Jira", "#0052CC", []string{"ticketing"}},
	{"zendesk", "Zendesk", "Zendesk", "#03363D", []string{"ticketing"}},
	{"asana", "Asana", "Asana", "#F06A6A", []string{"ticketing"}},
	{"salesforce", "Salesforce", "Salesforce", "#00A1E0", []string{"crm"}},
	{"pipedrive", "Pipedrive", "Pipedrive", "#017737", []string{"crm"}},
	{"hubspot", "HubSpot", "HubSpot", "#FF7A59", []string{"crm", "mktg"}},
	{"mailchimp", "Mailchimp", "Mailchimp", "#241C15", []string{"mktg"}},
	{"google-drive", "Google Drive", "Drive", "#1FA463", []string{"filestorage"}},
	{"dropbox", "Dropbox", "Dropbox", "#0061FF", []string{"filestorage"}},
	{"box", "Box", "Box", "#0061D5", []string{"filestorage"}},
	{"notion", "Notion", "Notion", "#000000", []string{"knowledgebase"}},
	{"confluence", "Confluence", "Confluence", "#1868DB", []string{"knowledgebase"}},
	{"slack", "Slack", "Slack", "#4A154B", []string{"chat"}},
	{"microsoft-teams", "Microsoft Teams", "Teams", "#5059C9", []string{"chat"}},
	{"google-calendar", "Google Calendar", "Calendar", "#4285F4", []string{"calendar"}},
	{"gmail", "Gmail", "Gmail", "#EA4335", []string{"email"}},
	{"outlook", "Outlook", "Outlook", "#0078D4", []string{"email", "calendar"}},
}

// isConnector reports whether the connector catalog (connectorCatalog)
// has slug.
func isConnector(slug string) bool {
	_, ok := lookupConnector(slug)
	return ok
}

// syncedModel names a model the first sync of each category reports, as in
// "ats.Candidate".
var syncedModel = map[string]string{
	"hris": "Employee", "ats": "Candidate", "accounting": "Invoice", "ticketing": "Ticket",
	"crm": "Contact", "mktg": "Campaign", "filestorage": "File", "knowledgebase": "Article",
	"chat": "Message", "calendar": "Event", "email": "Message",
}

// lookupIntegration returns the catalog's integration with slug.
func lookupIntegration(slug string) (integration, bool) {
	for _, in := range catalog {
		if in.slug == slug {
			return in, true
		}
	}
	return integration{}, false
}

// offers returns the first of cats that in belongs to, if any.
func (in integration) offers(cats []string) (string, bool) {
	for _, c := range cats {
		if slices.Contains(in.categories, c) {
			return c, true
		}
	}
	return "", false
}

// integrationsFor lists the catalog's integrations in any of cats, for the
// hosted page's picker.
func integrationsFor(cats []string) []integration {
	var out []integration
	for _, in := range catalog {
		if _, ok := in.offers(cats); ok {
			out = append(out, in)
		}
	}
	return out
}

// integrationJSON is the integration object of the account-token exchange
// and the linked-accounts list.
type integrationJSON struct {
	Name            string   `json:"name"`
	AbbreviatedName string   `json:"abbreviated_name,omitempty"`
	Categories      []string `json:"categories"`
	Image           *string  `json:"image"`
	SquareImage     *string  `json:"square_image"`
	Color           string   `json:"color"`
	Slug            string   `json:"slug"`
}

func (in integration) json() integrationJSON {
	return integrationJSON{
		Name:            in.name,
		AbbreviatedName: in.abbrev,
		Categories:      slices.Clone(in.categories),
		Color:           in.color,
		Slug:            in.slug,
	}
}

// accountIntegrationJSON is the integration object of the linked-accounts
// list, whose OpenAPI schema has no abbreviated_name and no null images.
type accountIntegrationJSON struct {
	Name                 string   `json:"name"`
	Categories           []string `json:"categories"`
	Color                string   `json:"color"`
	Slug                 string   `json:"slug"`
	PassthroughAvailable bool     `json:"passthrough_available"`
}

func (in integration) accountJSON() accountIntegrationJSON {
	return accountIntegrationJSON{
		Name:                 in.name,
		Categories:           slices.Clone(in.categories),
		Color:                in.color,
		Slug:                 in.slug,
		PassthroughAvailable: true,
	}
}
