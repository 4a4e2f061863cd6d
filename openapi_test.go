package mergelink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// specType is a field's type in Merge's OpenAPI document.
type specType struct {
	Type     string   `json:"type"`
	Format   string   `json:"format"`
	Nullable bool     `json:"nullable"`
	Enum     []string `json:"enum"`
	Items    string   `json:"items"`
}

// afterTheLinkSpec is testdata/openapi/after-the-link.json: the fields of
// the schemas, query parameters and headers of the "after the link"
// endpoints, as Merge's exported HRIS OpenAPI has them.
type afterTheLinkSpec struct {
	Schemas map[string]map[string]specType `json:"schemas"`
	Query   map[string]map[string]specType `json:"query"`
	Headers map[string][]string            `json:"headers"`
}

func loadAfterTheLinkSpec(t *testing.T) afterTheLinkSpec {
	t.Helper()
	b, err := os.ReadFile("testdata/openapi/after-the-link.json")
	require.NoError(t, err)
	var s afterTheLinkSpec
	require.NoError(t, json.Unmarshal(b, &s))
	require.NotEmpty(t, s.Schemas)
	return s
}

var timeType = reflect.TypeFor[time.Time]()

// tagged returns the fields of struct type t by the name in their tag key.
func tagged(t reflect.Type, key string) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get(key), ",")
		if f.IsExported() && name != "" && name != "-" {
			fields[name] = f
		}
	}
	return fields
}

// goTypeFits reports whether a Go field of type gt holds every value of
// the spec's type st, null included when st is nullable and null and zero
// mean different things.
func goTypeFits(st specType, gt reflect.Type) bool {
	switch st.Type {
	case "string":
		if st.Format == "date-time" {
			return gt == timeType // null decodes to the zero time
		}
		return gt.Kind() == reflect.String
	case "boolean":
		if st.Nullable {
			return gt.Kind() == reflect.Pointer && gt.Elem().Kind() == reflect.Bool
		}
		return gt.Kind() == reflect.Bool
	case "integer":
		return gt.Kind() == reflect.Int
	case "object":
		return gt.Kind() == reflect.Map || gt.Kind() == reflect.Struct
	case "array":
		return gt.Kind() == reflect.Slice && (st.Items != "string" || gt.Elem().Kind() == reflect.String)
	}
	return false
}

// sample returns a JSON value of the spec's type that no zero Go value
// equals.
func sample(name string, st specType) any {
	switch {
	case len(st.Enum) > 0:
		return st.Enum[len(st.Enum)-1]
	case st.Type == "string" && st.Format == "date-time":
		return "2026-01-02T03:04:05Z"
	case st.Type == "string" && st.Format == "uuid":
		return "0496d4c2-42e6-4072-80b3-7b69bfdc76fd"
	case st.Type == "string":
		return "value of " + name
	case st.Type == "boolean":
		return true
	case st.Type == "integer":
		return 7
	case st.Type == "object":
		return map[string]any{"k": "v"}
	case st.Type == "array":
		return []any{"item"}
	}
	return nil
}

// Every field of Merge's AccountDetails, SyncStatus and Issue schemas has
// a Go field of the same JSON name and a type that holds it, and no Go
// field is missing from the spec; a sample with every field set decodes
// into a value with every field set.
func TestOpenAPIResponseTypes(t *testing.T) {
	t.Parallel()
	spec := loadAfterTheLinkSpec(t)
	for name, goType := range map[string]reflect.Type{
		"AccountDetails": reflect.TypeFor[mergelink.AccountDetails](),
		"SyncStatus":     reflect.TypeFor[mergelink.SyncStatus](),
		"Issue":          reflect.TypeFor[mergelink.Issue](),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fields := spec.Schemas[name]
			require.NotEmpty(t, fields)
			goFields := tagged(goType, "json")
			assert.ElementsMatch(t, slices.Collect(maps.Keys(fields)), slices.Collect(maps.Keys(goFields)), "JSON field names")
			obj := map[string]any{}
			for f, st := range fields {
				obj[f] = sample(f, st)
				if gf, ok := goFields[f]; ok {
					assert.True(t, goTypeFits(st, gf.Type), "%s.%s: spec %+v, Go %s", name, f, st, gf.Type)
				}
			}
			b, err := json.Marshal(obj)
			require.NoError(t, err)
			v := reflect.New(goType)
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(v.Interface()))
			for f, gf := range goFields {
				assert.False(t, v.Elem().FieldByIndex(gf.Index).IsZero(), "%s.%s stays zero", name, f)
			}
		})
	}
}

// The enums of the spec are the SDK's constants.
func TestOpenAPIEnums(t *testing.T) {
	t.Parallel()
	spec := loadAfterTheLinkSpec(t)
	states := []string{string(mergelink.SyncDisabled), string(mergelink.SyncDone), string(mergelink.SyncFailed),
		string(mergelink.SyncPartiallySynced), string(mergelink.SyncPaused), string(mergelink.SyncSyncing)}
	assert.ElementsMatch(t, spec.Schemas["SyncStatus"]["status"].Enum, states)
	assert.ElementsMatch(t, spec.Schemas["SyncStatus"]["last_sync_result"].Enum, states)
	assert.ElementsMatch(t, spec.Schemas["Issue"]["status"].Enum, []string{string(mergelink.IssueOngoing), string(mergelink.IssueResolved)})
	assert.ElementsMatch(t, spec.Query["GET /hris/v1/issues"]["status"].Enum, []string{string(mergelink.IssueOngoing), string(mergelink.IssueResolved)})
	for _, c := range spec.Schemas["AccountDetails"]["category"].Enum {
		assert.True(t, mergelink.Category(c).Known(), c)
	}
}

// The lists are {next, previous, results}, next a string or null: the
// cursor that the SDK sends back as ?cursor=.
func TestOpenAPIPaginatedLists(t *testing.T) {
	t.Parallel()
	spec := loadAfterTheLinkSpec(t)
	for _, name := range []string{"PaginatedSyncStatusList", "PaginatedIssueList"} {
		fields := spec.Schemas[name]
		assert.ElementsMatch(t, []string{"next", "previous", "results"}, slices.Collect(maps.Keys(fields)), name)
		assert.Equal(t, specType{Type: "string", Nullable: true}, fields["next"], name)
		assert.Equal(t, "array", fields["results"].Type, name)
	}
	for _, endpoint := range []string{"GET /hris/v1/issues", "GET /hris/v1/sync-status"} {
		assert.Contains(t, spec.Query[endpoint], "cursor", endpoint)
	}
}

// IssuesParams sends every query parameter of GET issues, under its name,
// with a Go type that holds the spec's.
func TestOpenAPIIssuesQuery(t *testing.T) {
	t.Parallel()
	spec := loadAfterTheLinkSpec(t)
	params := spec.Query["GET /hris/v1/issues"]
	goFields := tagged(reflect.TypeFor[mergelink.IssuesParams](), "url")
	assert.ElementsMatch(t, slices.Collect(maps.Keys(params)), slices.Collect(maps.Keys(goFields)))
	for name, st := range params {
		gf, ok := goFields[name]
		if !ok {
			continue
		}
		switch {
		case name == "include_muted": // a string in the spec that holds "true" or "false"
			assert.Equal(t, reflect.TypeFor[*bool](), gf.Type, name)
		case name == "start_date" || name == "end_date": // strings the spec describes as times
			assert.Equal(t, timeType, gf.Type, name)
		default:
			assert.True(t, goTypeFits(st, gf.Type), "%s: spec %+v, Go %s", name, st, gf.Type)
		}
	}
}

// RegenerateToken reads both fields of RegenerateAccountToken, and each
// call sends X-Account-Token exactly where the spec asks for it.
func TestOpenAPIRegenerateAndHeaders(t *testing.T) {
	t.Parallel()
	spec := loadAfterTheLinkSpec(t)
	fields := spec.Schemas["RegenerateAccountToken"]
	assert.ElementsMatch(t, []string{"linked_account_id", "account_token"}, slices.Collect(maps.Keys(fields)))
	obj := map[string]any{}
	for f, st := range fields {
		obj[f] = sample(f, st)
	}
	b, err := json.Marshal(obj)
	require.NoError(t, err)

	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{200, string(b)})
	mux.Handle("/api/", rec)
	ctx := context.Background()
	a := c.Account(mergelink.CategoryHRIS, secretAccountToken)
	nt, err := a.RegenerateToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, obj["account_token"], nt.AccountToken)
	assert.Equal(t, obj["linked_account_id"], nt.ID)

	calls := map[string]func() error{
		"GET /hris/v1/account-details": func() error { _, err := a.Details(ctx); return err },
		"POST /hris/v1/delete-account": func() error { return a.Delete(ctx) },
		"POST /hris/v1/account-token/regenerate": func() error {
			_, err := a.RegenerateToken(ctx)
			return err
		},
		"GET /hris/v1/sync-status":         func() error { _, err := readAll(a.SyncStatus(ctx)); return err },
		"POST /hris/v1/sync-status/resync": func() error { _, err := a.Resync(ctx); return err },
		"GET /hris/v1/issues":              func() error { _, err := readAll(c.ListIssues(ctx, mergelink.IssuesParams{})); return err },
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(spec.Headers)), slices.Collect(maps.Keys(calls)))
	for endpoint, headers := range spec.Headers {
		call, ok := calls[endpoint]
		if !ok {
			continue
		}
		n := len(rec.requests())
		_ = call() // the canned answer fits one call only: the request is what counts
		reqs := rec.requests()
		require.Greater(t, len(reqs), n, endpoint)
		r := reqs[n]
		assert.Equal(t, endpoint, fmt.Sprintf("%s %s", r.Method, strings.TrimPrefix(r.Path, "/api")), endpoint)
		for _, h := range []string{"Authorization", mergelink.AccountTokenHeader} {
			assert.Equal(t, slices.Contains(headers, h), r.Header.Get(h) != "", "%s: %s", endpoint, h)
		}
	}
}
