package mergelink_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// pagedEmployee is a user's own struct for Paginate.
type pagedEmployee struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
}

// cursorPages serves pages keyed by the cursor asked for ("" for the
// first), recording the queries; a missing page is a 404.
func cursorPages(t *testing.T, mux *http.ServeMux, pattern string, pages map[string]string) func() []url.Values {
	t.Helper()
	rec := make(chan url.Values, 100)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rec <- r.URL.Query()
		page, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			http.Error(w, `{"detail":"no such page"}`, http.StatusNotFound)
			return
		}
		fmt.Fprint(w, page)
	})
	return func() []url.Values {
		var qs []url.Values
		for {
			select {
			case q := <-rec:
				qs = append(qs, q)
			default:
				return qs
			}
		}
	}
}

func cursorPage(next string, ids ...string) string {
	var items []string
	for _, id := range ids {
		items = append(items, fmt.Sprintf(`{"id":%q,"first_name":"N-%s","extra":{"x":1}}`, id, id))
	}
	n := "null"
	if next != "" {
		n = fmt.Sprintf("%q", next)
	}
	return fmt.Sprintf(`{"next":%s,"previous":null,"results":[%s]}`, n, strings.Join(items, ","))
}

// Paginate follows bare cursors to the last page, keeping the query, and
// decodes each item into the caller's type.
func TestPaginateFollowsCursors(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	queries := cursorPages(t, mux, "/api/ats/v1/candidates", map[string]string{
		"":            cursorPage("cD0yMDIx+/=", "c1", "c2"),
		"cD0yMDIx+/=": cursorPage("cj0x", "c3"),
		"cj0x":        cursorPage("", "c4"),
	})
	a := c.Account(mergelink.CategoryATS, secretAccountToken)
	q := url.Values{"page_size": {"2"}, "modified_after": {"2026-01-01T00:00:00Z"}}
	got, err := readAll(mergelink.Paginate[pagedEmployee](context.Background(), a, "candidates", q))
	require.NoError(t, err)
	assert.Equal(t, []pagedEmployee{{"c1", "N-c1"}, {"c2", "N-c2"}, {"c3", "N-c3"}, {"c4", "N-c4"}}, got)
	qs := queries()
	require.Len(t, qs, 3)
	for i, cursor := range []string{"", "cD0yMDIx+/=", "cj0x"} {
		assert.Equal(t, cursor, qs[i].Get("cursor"), "page %d", i)
		assert.Equal(t, "2", qs[i].Get("page_size"), "page %d", i)
		assert.Equal(t, "2026-01-01T00:00:00Z", qs[i].Get("modified_after"), "page %d", i)
	}
	assert.Equal(t, url.Values{"page_size": {"2"}, "modified_after": {"2026-01-01T00:00:00Z"}}, q, "the caller's query is not changed")

	// A cursor in the query starts the listing there.
	got, err = readAll(mergelink.Paginate[pagedEmployee](context.Background(), a, "candidates", url.Values{"cursor": {"cj0x"}}))
	require.NoError(t, err)
	assert.Equal(t, []pagedEmployee{{"c4", "N-c4"}}, got)
}

// Breaking out of the loop reads no further page.
func TestPaginateStopsWhenTheLoopDoes(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	queries := cursorPages(t, mux, "/api/hris/v1/employees", map[string]string{"": cursorPage("next1", "e1", "e2"), "next1": cursorPage("", "e3")})
	for e, err := range mergelink.Paginate[pagedEmployee](context.Background(), c.Account(mergelink.CategoryHRIS, secretAccountToken), "employees", nil) {
		require.NoError(t, err)
		assert.Equal(t, "e1", e.ID)
		break
	}
	assert.Len(t, queries(), 1)
}

// A server whose pages cycle, even through empty pages that yield
// nothing the caller could break on, ends the listing with an error.
func TestPaginateStopsOnACycle(t *testing.T) {
	t.Parallel()
	for name, pages := range map[string]map[string]string{
		"same cursor":     {"": cursorPage("A", "e1"), "A": cursorPage("A")},
		"A B A":           {"": cursorPage("A"), "A": cursorPage("B"), "B": cursorPage("A")},
		"back to the top": {"": cursorPage("A", "e1"), "A": cursorPage("cursor-of-first")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			if _, ok := pages["cursor-of-first"]; !ok {
				pages["cursor-of-first"] = cursorPage("A")
			}
			queries := cursorPages(t, mux, "/api/hris/v1/employees", pages)
			_, err := readAll(mergelink.Paginate[pagedEmployee](context.Background(), c.Account(mergelink.CategoryHRIS, secretAccountToken), "employees", nil))
			var de *mergelink.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), "cycle")
			assert.LessOrEqual(t, len(queries()), 4)
		})
	}
}

// A next that is a URL, on any host, is not followed: the listing ends,
// after the items of its page, with a *DecodeError naming the bare-cursor
// rule, and nothing (nor the API key or account token) goes to the other
// host. A next that is not even JSON text fails its page.
func TestPaginateNeverLeavesTheBaseHost(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fmt.Fprint(w, cursorPage("", "stolen"))
	}))
	t.Cleanup(other.Close)
	page := []pagedEmployee{{"e1", "N-e1"}}
	for next, want := range map[string][]pagedEmployee{
		other.URL + "/api/hris/v1/employees?cursor=abc":                                       page,
		"//" + strings.TrimPrefix(other.URL, "http://") + "/api/hris/v1/employees?cursor=abc": page,
		"/api/hris/v1/employees?cursor=abc":                                                   page,
		"?cursor=abc":                                                                         page,
		"https://api.merge.dev/api/hris/v1/employees?cursor=abc":                              page,
		"abc def": page,
		"abc\n":   page,
		"abc\xff": nil, // %q writes \xff, which JSON has not
	} {
		c, mux := setup(t)
		queries := cursorPages(t, mux, "/api/hris/v1/employees", map[string]string{"": strings.Replace(cursorPage("PLACEHOLDER", "e1"), `"PLACEHOLDER"`, fmt.Sprintf("%q", next), 1)})
		got, err := readAll(mergelink.Paginate[pagedEmployee](context.Background(), c.Account(mergelink.CategoryHRIS, secretAccountToken), "employees", nil))
		var de *mergelink.DecodeError
		assert.ErrorAs(t, err, &de, "next %q", next)
		assert.Equal(t, want, got, "next %q", next)
		if want != nil {
			assert.Contains(t, err.Error(), "not a bare cursor", "next %q", next)
		}
		assert.Len(t, queries(), 1, "next %q", next)
	}
	assert.Zero(t, elsewhere.Load(), "requests to another host")
}

// Every iterator of an account reads its pages through the same loop.
func TestSyncStatusPages(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	status := func(model string) string {
		return fmt.Sprintf(`{"model_name":%q,"model_id":"hris.%s","status":"DONE","is_initial_sync":false}`, model, model)
	}
	queries := cursorPages(t, mux, "/api/hris/v1/sync-status", map[string]string{
		"":   `{"next":"p2","previous":null,"results":[` + status("Employee") + `]}`,
		"p2": `{"next":"p2","previous":"p1","results":[` + status("Team") + `]}`,
	})
	var models []string
	var last error
	for st, err := range c.Account(mergelink.CategoryHRIS, secretAccountToken).SyncStatus(context.Background()) {
		if err != nil {
			last = err
			break
		}
		models = append(models, st.ModelName)
	}
	assert.Equal(t, []string{"Employee", "Team"}, models)
	var de *mergelink.DecodeError
	assert.ErrorAs(t, last, &de, "a repeated cursor")
	assert.Len(t, queries(), 2)
}

func TestListIssuesQuery(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	queries := cursorPages(t, mux, "/api/crm/v1/issues", map[string]string{
		"":   `{"next":"n2","previous":null,"results":[{"id":"i1","status":"ONGOING","error_description":"Missing Permissions","is_muted":false,"error_details":[]}]}`,
		"n2": `{"next":null,"previous":"p","results":[{"id":"i2","status":"RESOLVED","error_description":"Bad Credentials","first_incident_time":null,"is_muted":true}]}`,
	})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	yes := false
	p := mergelink.IssuesParams{
		PathCategory:            mergelink.CategoryCRM,
		AccountToken:            secretAccountToken,
		LinkedAccountID:         "0496d4c2-42e6-4072-80b3-7b69bfdc76fd",
		EndUserOrganizationName: "Example Org",
		IntegrationName:         "BambooHR",
		IncludeMuted:            &yes,
		Status:                  mergelink.IssueOngoing,
		FirstIncidentTimeAfter:  at,
		FirstIncidentTimeBefore: at.Add(time.Hour),
		LastIncidentTimeAfter:   at.Add(2 * time.Hour),
		LastIncidentTimeBefore:  at.Add(3 * time.Hour),
		StartDate:               at.Add(4 * time.Hour),
		EndDate:                 at.Add(5 * time.Hour),
		PageSize:                50,
	}
	issues, err := readAll(c.ListIssues(context.Background(), p))
	require.NoError(t, err)
	require.Len(t, issues, 2)
	assert.Equal(t, "i1", issues[0].ID)
	assert.Equal(t, mergelink.IssueResolved, issues[1].Status)
	assert.True(t, issues[1].IsMuted)
	qs := queries()
	require.Len(t, qs, 2)
	want := url.Values{
		"account_token":              {secretAccountToken},
		"linked_account_id":          {"0496d4c2-42e6-4072-80b3-7b69bfdc76fd"},
		"end_user_organization_name": {"Example Org"},
		"integration_name":           {"BambooHR"},
		"include_muted":              {"false"},
		"status":                     {"ONGOING"},
		"first_incident_time_after":  {"2026-01-02T03:04:05Z"},
		"first_incident_time_before": {"2026-01-02T04:04:05Z"},
		"last_incident_time_after":   {"2026-01-02T05:04:05Z"},
		"last_incident_time_before":  {"2026-01-02T06:04:05Z"},
		"start_date":                 {"2026-01-02T07:04:05Z"},
		"end_date":                   {"2026-01-02T08:04:05Z"},
		"page_size":                  {"50"},
	}
	assert.Equal(t, want, qs[0])
	want.Set("cursor", "n2")
	assert.Equal(t, want, qs[1])

	// The zero params send nothing but the path, to HRIS by default.
	c2, mux2 := setup(t)
	q2 := cursorPages(t, mux2, "/api/hris/v1/issues", map[string]string{"": `{"next":null,"results":[]}`})
	_, err = readAll(c2.ListIssues(context.Background(), mergelink.IssuesParams{}))
	require.NoError(t, err)
	assert.Equal(t, []url.Values{{}}, q2())

	// The params print and log without the token.
	lc := newLeakCheck(t, secretAccountToken)
	lc.value("IssuesParams", p)
	lc.value("IssuesParams pointer", &p)
	lc.logs()
	assert.Contains(t, p.String(), "status: ONGOING")
	assert.Contains(t, p.String(), "account_token: [hidden]")
}

func TestIssuesParamsValidate(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		p     mergelink.IssuesParams
		field string
	}{
		{"unknown path category", mergelink.IssuesParams{PathCategory: "payroll"}, "PathCategory"},
		{"token of two lines", mergelink.IssuesParams{AccountToken: secretAccountToken + "\n"}, "AccountToken"},
		{"token not UTF-8", mergelink.IssuesParams{AccountToken: "\xff" + secretAccountToken}, "AccountToken"},
		{"linked account id not a UUID", mergelink.IssuesParams{LinkedAccountID: "acct-1"}, "LinkedAccountID"},
		{"unknown status", mergelink.IssuesParams{Status: "OPEN"}, "Status"},
		{"first incident bounds crossed", mergelink.IssuesParams{FirstIncidentTimeAfter: at, FirstIncidentTimeBefore: at}, "FirstIncidentTimeAfter"},
		{"last incident bounds crossed", mergelink.IssuesParams{LastIncidentTimeAfter: at.Add(time.Hour), LastIncidentTimeBefore: at}, "LastIncidentTimeAfter"},
		{"dates crossed", mergelink.IssuesParams{StartDate: at.Add(time.Hour), EndDate: at}, "StartDate"},
		{"page size negative", mergelink.IssuesParams{PageSize: -1}, "PageSize"},
		{"page size too large", mergelink.IssuesParams{PageSize: mergelink.MaxIssuesPageSize + 1}, "PageSize"},
	} {
		_, err := readAll(c.ListIssues(context.Background(), tc.p))
		var ve *mergelink.ValidationError
		if assert.ErrorAs(t, err, &ve, tc.name) {
			assert.True(t, ve.Has(tc.field), "%s: %v", tc.name, err)
			assert.NotContains(t, err.Error(), secretAccountToken, tc.name)
		}
	}
	assert.NoError(t, mergelink.IssuesParams{PageSize: mergelink.MaxIssuesPageSize, Status: mergelink.IssueResolved}.Validate())
	var zero mergelink.Client
	_, err := readAll(zero.ListIssues(context.Background(), mergelink.IssuesParams{}))
	assert.ErrorIs(t, err, mergelink.ErrNoClient)
}
