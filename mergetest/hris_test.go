package mergetest_test

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/mergetest"
)

// openAPIEmployeesParamsJSON holds the query parameters of GET
// /hris/v1/employees in Merge's exported OpenAPI, extracted by
// conformance/openapi/employee_filters.py.
//
//go:embed testdata/openapi-employees-params.json
var openAPIEmployeesParamsJSON []byte

// employeesOf lists the employees an HRIS account's token reaches with
// query q, in one page of 100, as raw JSON objects.
func employeesOf(t *testing.T, srv *mergetest.Server, token string, q url.Values) []map[string]any {
	t.Helper()
	q = cloneQuery(q)
	q.Set("page_size", "100")
	a := send(t, srv, http.MethodGet, "/api/hris/v1/employees?"+q.Encode(), "", mergetest.AccountTokenHeader, token)
	require.Equal(t, http.StatusOK, a.status, "%s: %s", q.Encode(), a.body)
	var page struct{ Results []map[string]any }
	require.NoError(t, json.Unmarshal(a.body, &page))
	return page.Results
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// shapingParams are the parameters of the employees list that shape each
// employee rather than choose them.
var shapingParams = []string{"cursor", "page_size", "expand", "include_sensitive_fields", "include_shell_data",
	"remote_fields", "show_enum_origins", "include_remote_data", "include_deleted_data"}

// Every filter Merge's OpenAPI lists for GET hris/v1/employees takes
// effect: each keeps exactly the employees it names, a proper subset of
// them all, so that an incremental sync on modified_after or a lookup by
// work_email behaves here as on Merge. A parameter the OpenAPI adds fails
// the test until mergetest gives it an effect (or the test names it as one
// that shapes the answer).
func TestEmployeesFiltersAsTheOpenAPI(t *testing.T) {
	t.Parallel()
	var spec struct {
		Parameters []struct {
			Name, Type, Format string
			Enum               []string
		}
	}
	require.NoError(t, json.Unmarshal(openAPIEmployeesParamsJSON, &spec))
	require.NotEmpty(t, spec.Parameters)

	clk := &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	srv, _, acct := linked(t, "hris", "bamboohr", mergetest.WithClock(clk.Now))
	employeesOf(t, srv, acct.AccountToken, nil) // the first five, made now
	clk.Advance(time.Hour)
	require.NoError(t, srv.SetEmployeeCount(acct.ID, 8)) // three more, an hour later
	all := employeesOf(t, srv, acct.AccountToken, nil)
	require.Len(t, all, 8)

	// timeFields maps a date-time filter's prefix to the field it reads.
	timeFields := map[string]string{"created": "created_at", "modified": "modified_at", "started": "start_date", "terminated": "termination_date"}
	ids := func(es []map[string]any) []string {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e["id"].(string)
		}
		return out
	}
	for _, p := range spec.Parameters {
		if slices.Contains(shapingParams, p.Name) {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			var value string
			var keep func(e map[string]any) bool
			switch prefix, side, _ := strings.Cut(p.Name, "_"); {
			case p.Format == "date-time":
				field := timeFields[prefix]
				require.NotEmpty(t, field, "the OpenAPI lists the date-time filter %s, which the test does not know", p.Name)
				value = all[3][field].(string) // an inactive employee's, so every field has a value
				pivot, err := time.Parse(time.RFC3339, value)
				require.NoError(t, err)
				keep = func(e map[string]any) bool {
					s, _ := e[field].(string)
					at, err := time.Parse(time.RFC3339, s)
					return err == nil && (side == "after" && at.After(pivot) || side == "before" && at.Before(pivot))
				}
			case all[0][p.Name] != nil:
				value = all[6][p.Name].(string)
				keep = func(e map[string]any) bool { return e[p.Name] == value }
			case len(p.Enum) > 0:
				value = "INACTIVE"
				keep = func(e map[string]any) bool { return e[p.Name] == value }
			case strings.HasSuffix(p.Name, "_id") || slices.Contains([]string{"groups", "employment_type", "job_title"}, p.Name):
				// A relation mergetest keeps none of: no employee has it.
				value = "c0ffee00-0000-4000-8000-000000000001"
				keep = func(map[string]any) bool { return false }
			default:
				t.Fatalf("the OpenAPI lists the filter %s, which the test does not know: give it an effect in mergetest", p.Name)
			}
			var want []map[string]any
			for _, e := range all {
				if keep(e) {
					want = append(want, e)
				}
			}
			got := employeesOf(t, srv, acct.AccountToken, url.Values{p.Name: {value}})
			assert.Equal(t, ids(want), ids(got), "%s=%s", p.Name, value)
			assert.Less(t, len(got), len(all), "%s=%s keeps every employee", p.Name, value)
		})
	}
}

// An incremental sync on modified_after finds only the employees added
// since, and a lookup by work_email finds only that employee; remote_data
// comes only when asked for; a filter of the wrong form is refused.
func TestEmployeesIncrementalSyncAndLookup(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	srv, _, acct := linked(t, "hris", "bamboohr", mergetest.WithClock(clk.Now))
	first := employeesOf(t, srv, acct.AccountToken, nil)
	require.Len(t, first, mergetest.EmployeesPerAccount)
	synced := clk.Now()
	clk.Advance(time.Minute)
	require.NoError(t, srv.SetEmployeeCount(acct.ID, mergetest.EmployeesPerAccount+2))

	changed := employeesOf(t, srv, acct.AccountToken, url.Values{"modified_after": {synced.Format(time.RFC3339)}})
	assert.Len(t, changed, 2, "only the employees added after the last sync")

	byEmail := employeesOf(t, srv, acct.AccountToken, url.Values{"work_email": {first[2]["work_email"].(string)}})
	require.Len(t, byEmail, 1)
	assert.Equal(t, first[2]["id"], byEmail[0]["id"])

	assert.Nil(t, first[0]["remote_data"])
	raw := employeesOf(t, srv, acct.AccountToken, url.Values{"include_remote_data": {"true"}})
	assert.NotEmpty(t, raw[0]["remote_data"])

	for _, q := range []string{"modified_after=yesterday", "employment_status=RETIRED", "include_remote_data=yes"} {
		a := send(t, srv, http.MethodGet, "/api/hris/v1/employees?"+q, "", mergetest.AccountTokenHeader, acct.AccountToken)
		assert.Equal(t, http.StatusBadRequest, a.status, q)
		require.NotEmpty(t, a.problems(t), q)
		assert.Contains(t, a.problems(t)[0].Detail, strings.SplitN(q, "=", 2)[0], q)
	}
}
