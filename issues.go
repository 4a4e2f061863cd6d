package mergelink

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
)

// IssueStatus is the state of an Issue.
type IssueStatus string

// The states of an Issue.
const (
	IssueOngoing  IssueStatus = "ONGOING"
	IssueResolved IssueStatus = "RESOLVED"
)

// Issue is a problem Merge found with a Linked Account, such as missing
// permissions or expired credentials, as the issues list and the Issue.*
// webhooks give it.
type Issue struct {
	ID     string      `json:"id"`
	Status IssueStatus `json:"status"`
	// ErrorDescription says what went wrong, such as "Missing Permissions".
	ErrorDescription string `json:"error_description"`
	// EndUser describes the Linked Account's end user (its organization
	// name, email address, origin id), as Merge sends it.
	EndUser map[string]any `json:"end_user"`
	// FirstIncidentTime and LastIncidentTime bound the issue's incidents;
	// zero when Merge sends null.
	FirstIncidentTime time.Time `json:"first_incident_time"`
	LastIncidentTime  time.Time `json:"last_incident_time"`
	// IsMuted reports whether the issue was muted in the dashboard.
	IsMuted bool `json:"is_muted"`
	// ErrorDetails adds details, one a line.
	ErrorDetails []string `json:"error_details"`
}

// IssuesParams filters ListIssues; zero fields are not sent. Issues are
// the organization's: no account token is needed to list them.
type IssuesParams struct {
	// PathCategory picks the category API that serves the request (default
	// CategoryHRIS); the endpoint is the same in each and filters nothing.
	PathCategory Category `url:"-" json:"-"`
	// AccountToken keeps the issues of the Linked Account with this token.
	// It is sent in the query string, where proxies may log it: prefer
	// LinkedAccountID. String, Format and LogValue hide it, and
	// encoding/json leaves it out.
	AccountToken string `url:"account_token,omitempty" json:"-"`
	// LinkedAccountID keeps the issues of one Linked Account, by its id.
	LinkedAccountID string `url:"linked_account_id,omitempty"`
	// Cursor starts the listing at a page's cursor instead of the first.
	Cursor                  string `url:"cursor,omitempty"`
	EndUserOrganizationName string `url:"end_user_organization_name,omitempty"`
	// IntegrationName keeps the issues of one integration, by its name.
	IntegrationName string `url:"integration_name,omitempty"`
	// IncludeMuted, when set, says whether muted issues are listed.
	IncludeMuted *bool `url:"include_muted,omitempty"`
	// Status keeps the issues in one state.
	Status IssueStatus `url:"status,omitempty"`
	// FirstIncidentTimeAfter and the three fields below keep the issues
	// whose first or last incident was after or before a time.
	FirstIncidentTimeAfter  time.Time `url:"first_incident_time_after,omitempty"`
	FirstIncidentTimeBefore time.Time `url:"first_incident_time_before,omitempty"`
	LastIncidentTimeAfter   time.Time `url:"last_incident_time_after,omitempty"`
	LastIncidentTimeBefore  time.Time `url:"last_incident_time_before,omitempty"`
	// StartDate and EndDate keep the issues whose most recent action was
	// after StartDate and before EndDate.
	StartDate time.Time `url:"start_date,omitempty"`
	EndDate   time.Time `url:"end_date,omitempty"`
	// PageSize is the number of issues per request, 1 to 100; 0 leaves
	// Merge's default.
	PageSize int `url:"page_size,omitempty"`
}

// MaxIssuesPageSize is the largest IssuesParams.PageSize.
const MaxIssuesPageSize = 100

// Validate reports every problem of p in a *ValidationError, or returns nil:
// the rules each field states, and a string that is not valid UTF-8 in any
// field. ListIssues calls it before sending anything. The account token is
// never shown in it.
func (p IssuesParams) Validate() error {
	ck := validate.New("IssuesParams")
	if p.AccountToken != "" {
		checkAccountToken(ck, "AccountToken", p.AccountToken)
	}
	q := p
	q.AccountToken = "" // checked above
	ck.Strings("", q)
	checkCategory(ck, "PathCategory", p.PathCategory, false)
	ck.UUID("LinkedAccountID", p.LinkedAccountID)
	switch p.Status {
	case "", IssueOngoing, IssueResolved:
	default:
		ck.Add("Status", "must be ONGOING or RESOLVED", validate.Quote(string(p.Status)))
	}
	for _, f := range []struct {
		name     string
		from, to time.Time
	}{
		{"FirstIncidentTimeAfter", p.FirstIncidentTimeAfter, p.FirstIncidentTimeBefore},
		{"LastIncidentTimeAfter", p.LastIncidentTimeAfter, p.LastIncidentTimeBefore},
		{"StartDate", p.StartDate, p.EndDate},
	} {
		if !f.from.IsZero() && !f.to.IsZero() && !f.from.Before(f.to) {
			ck.Add(f.name, "must be before its upper bound, or no issue matches", f.from.Format(time.RFC3339))
		}
	}
	if p.PageSize < 0 || p.PageSize > MaxIssuesPageSize {
		ck.Add("PageSize", fmt.Sprintf("must be 1 to %d, or 0 for Merge's default", MaxIssuesPageSize), fmt.Sprint(p.PageSize))
	}
	return ck.Err()
}

// String describes p by the query it sends, with its account token hidden.
func (p IssuesParams) String() string {
	if p.AccountToken != "" {
		p.AccountToken = hidden
	}
	q, err := query.Values(p)
	if err != nil {
		return "mergelink.IssuesParams{?}"
	}
	var b strings.Builder
	b.WriteString("mergelink.IssuesParams{")
	if p.PathCategory != "" {
		b.WriteString("path category: " + string(p.PathCategory))
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if b.Len() > len("mergelink.IssuesParams{") {
			b.WriteString(", ")
		}
		b.WriteString(k + ": " + strings.Join(q[k], ","))
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v hides the account token too.
func (p IssuesParams) GoString() string { return p.String() }

// Format prints String for every verb, so that no verb prints the token.
func (p IssuesParams) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, p.String(), p.GoString())
}

// LogValue shows p in slog output with its account token hidden.
func (p IssuesParams) LogValue() slog.Value { return slog.StringValue(p.String()) }

// ListIssues lists the organization's issues that p selects, page after
// page, following Merge's next cursors until the last page or until the
// loop stops:
//
//	for is, err := range c.ListIssues(ctx, mergelink.IssuesParams{Status: mergelink.IssueOngoing}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(is.ID, is.ErrorDescription)
//	}
//
// Every page is asked of the client's own base URL: only bare next cursors
// are followed. On failure it yields one error, with a zero Issue, and
// stops: a *ValidationError, before any request, when p is invalid; an
// *APIError when Merge refuses a page; a *DecodeError when a page cannot
// be read, its next is not a bare cursor, or the pages cycle.
func (c *Client) ListIssues(ctx context.Context, p IssuesParams) iter.Seq2[Issue, error] {
	if err := c.ready("ListIssues"); err != nil {
		return failed[Issue](err)
	}
	if err := p.Validate(); err != nil {
		return failed[Issue](err)
	}
	q, err := query.Values(p)
	if err != nil {
		return failed[Issue](fmt.Errorf("mergelink: encoding IssuesParams: %w", err))
	}
	category := p.PathCategory
	if category == "" {
		category = CategoryHRIS
	}
	path := "/" + string(category) + "/v1/issues"
	return cursorList[Issue](ctx, c.s.Transport, c.s.UnifiedBase+path, path, q, nil)
}
