package mergetest

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
)

// connector is an Agent Handler connector of the catalog.
type connector struct {
	slug, name, description, site string
	categories                    []string
	// auth is "OAUTH" or "API_KEY".
	auth  string
	tools []string
}

// connectorCatalog holds a few real connectors, in slug order. It is
// read-only.
var connectorCatalog = []connector{
	{"asana", "Asana", "Tasks and projects in Asana.", "https://asana.com", []string{"Project Management"}, "OAUTH", []string{"create_task", "list_projects"}},
	{"confluence", "Confluence", "Pages and spaces in Confluence.", "https://www.atlassian.com/software/confluence", []string{"Knowledge Base"}, "OAUTH", []string{"search_pages", "create_page"}},
	{"github", "GitHub", "Repositories, issues and pull requests on GitHub.", "https://github.com", []string{"Engineering"}, "OAUTH", []string{"create_issue", "list_pull_requests", "search_code"}},
	{"gitlab", "GitLab", "Projects, issues and merge requests on GitLab.", "https://gitlab.com", []string{"Engineering"}, "API_KEY", []string{"create_issue", "list_merge_requests"}},
	{"gmail", "Gmail", "Mail in Gmail.", "https://mail.google.com", []string{"Email"}, "OAUTH", []string{"send_email", "search_emails"}},
	{"google-calendar", "Google Calendar", "Events in Google Calendar.", "https://calendar.google.com", []string{"Calendar"}, "OAUTH", []string{"create_event", "list_events"}},
	{"google-drive", "Google Drive", "Files in Google Drive.", "https://drive.google.com", []string{"File Storage"}, "OAUTH", []string{"search_files", "read_file"}},
	{"hubspot", "HubSpot", "Contacts, companies and deals in HubSpot.", "https://www.hubspot.com", []string{"CRM", "Marketing"}, "OAUTH", []string{"create_contact", "search_deals"}},
	{"jira", "Jira", "Issues and projects in Jira.", "https://www.atlassian.com/software/jira", []string{"Ticketing"}, "OAUTH", []string{"create_issue", "search_issues", "transition_issue"}},
	{"linear", "Linear", "Issues, projects and cycles in Linear.", "https://linear.app", []string{"Ticketing", "Project Management"}, "OAUTH", []string{"create_issue", "list_teams", "search_issues"}},
	{"microsoft-teams", "Microsoft Teams", "Chats and channels in Microsoft Teams.", "https://www.microsoft.com/microsoft-teams", []string{"Chat"}, "OAUTH", []string{"send_message", "list_channels"}},
	{"notion", "Notion", "Pages and databases in Notion.", "https://www.notion.so", []string{"Knowledge Base"}, "OAUTH", []string{"search_pages", "create_page"}},
	{"outlook", "Outlook", "Mail and calendar in Outlook.", "https://outlook.office.com", []string{"Email", "Calendar"}, "OAUTH", []string{"send_email", "list_events"}},
	{"salesforce", "Salesforce", "Accounts, contacts and opportunities in Salesforce.", "https://www.salesforce.com", []string{"CRM"}, "OAUTH", []string{"create_lead", "search_opportunities"}},
	{"slack", "Slack", "Messages and channels in Slack.", "https://slack.com", []string{"Chat"}, "OAUTH", []string{"send_message", "search_messages"}},
	{"zendesk", "Zendesk", "Tickets in Zendesk.", "https://www.zendesk.com", []string{"Ticketing"}, "API_KEY", []string{"create_ticket", "search_tickets"}},
}

// lookupConnector returns the catalog's connector with slug.
func lookupConnector(slug string) (connector, bool) {
	i, ok := slices.BinarySearchFunc(connectorCatalog, slug, func(k connector, slug string) int {
		switch {
		case k.slug < slug:
			return -1
		case k.slug > slug:
			return 1
		}
		return 0
	})
	if !ok {
		return connector{}, false
	}
	return connectorCatalog[i], true
}

// Wire forms of a connector, as the exported OpenAPI's
// ConnectorDetailPublicResponse has them.
type (
	connectorJSON struct {
		ID          string           `json:"id"`
		Name        string           `json:"name"`
		Slug        string           `json:"slug"`
		Description string           `json:"description"`
		SourceURL   *string          `json:"source_url"`
		LogoURL     string           `json:"logo_url"`
		Categories  []string         `json:"categories"`
		AuthOptions []authOptionJSON `json:"auth_options"`
		Tools       []toolJSON       `json:"tools"`
	}
	authOptionJSON struct {
		Type    string       `json:"type"`
		Secrets []secretJSON `json:"secrets"`
	}
	secretJSON struct {
		Name              string    `json:"name"`
		HumanReadableName *string   `json:"human_readable_name"`
		Prefix            *string   `json:"prefix"`
		Suffix            *string   `json:"suffix"`
		FieldType         string    `json:"field_type"`
		Options           []optJSON `json:"options"`
	}
	optJSON struct {
		OptionLabel   string `json:"option_label"`
		Value         string `json:"value"`
		OptionDefault bool   `json:"option_default"`
	}
	toolJSON struct {
		Name        string  `json:"name"`
		Description *string `json:"description"`
		CreditType  string  `json:"credit_type"`
	}
)

// json returns k's wire form. Its id is a UUID derived from the slug, so
// that it is the same on every server.
func (k connector) json() connectorJSON {
	sum := sha256.Sum256([]byte("mergetest connector " + k.slug))
	sum[6], sum[8] = sum[6]&0x0f|0x50, sum[8]&0x3f|0x80 // a name-based UUID's version and variant
	site := k.site
	out := connectorJSON{
		ID:          fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]),
		Name:        k.name,
		Slug:        k.slug,
		Description: k.description,
		SourceURL:   &site,
		LogoURL:     "https://merge-agent-handler.s3.amazonaws.com/connectors/" + k.slug + ".png",
		Categories:  slices.Clone(k.categories),
		AuthOptions: []authOptionJSON{{Type: k.auth, Secrets: []secretJSON{}}},
	}
	if k.auth == "API_KEY" {
		label := k.name + " API key"
		out.AuthOptions[0].Secrets = []secretJSON{{Name: "api_key", HumanReadableName: &label, FieldType: "password"}}
	}
	for _, t := range k.tools {
		d := fmt.Sprintf("%s in %s.", t, k.name)
		out.Tools = append(out.Tools, toolJSON{Name: t, Description: &d, CreditType: "standard"})
	}
	return out
}

// Connector page sizes.
const (
	defaultConnectorPageSize = 100
	maxConnectorPageSize     = 100
)

// listConnectors serves GET /connectors/ with page-number pagination.
func (s *Server) listConnectors(r *http.Request, _ []byte) reply {
	all := make([]connectorJSON, len(connectorCatalog))
	for i, k := range connectorCatalog {
		all[i] = k.json()
	}
	return numberedPage(s, r, all, defaultConnectorPageSize, maxConnectorPageSize)
}

// getConnector serves GET /connectors/{slug}/.
func (s *Server) getConnector(r *http.Request, _ []byte) reply {
	k, ok := lookupConnector(r.PathValue("slug"))
	if !ok {
		return agentError(http.StatusNotFound, "connector_not_found", "No Connector has this slug.")
	}
	return reply{http.StatusOK, k.json()}
}

// deleteCredential serves
// DELETE /credentials/registered-users/{id}/connectors/{slug}/: it
// disconnects the connector, answering 200 with no body as the OpenAPI
// lists it, and queues the credential.deleted webhook. It answers 404
// when the user, the connector or the user's credential for it is
// unknown.
func (s *Server) deleteCredential(r *http.Request, _ []byte) reply {
	u, rep := s.userOf(r)
	if u == nil {
		return rep
	}
	slug := r.PathValue("slug")
	k, ok := lookupConnector(slug)
	switch {
	case !ok:
		return agentError(http.StatusNotFound, "connector_not_found", "No Connector has this slug.")
	case !slices.Contains(u.AuthenticatedConnectors, slug):
		return agentError(http.StatusNotFound, "credential_not_found", fmt.Sprintf("The Registered User has no credential for %s.", k.name))
	}
	u.AuthenticatedConnectors = slices.DeleteFunc(u.AuthenticatedConnectors, func(c string) bool { return c == slug })
	s.agentEvent(agentCredentialDeleted, u, k)
	return reply{status: http.StatusOK}
}
