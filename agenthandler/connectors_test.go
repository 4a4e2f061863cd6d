package agenthandler_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/internal/paging"
)

// connectorJSON is a connector as Merge's spec describes it, with a null
// source_url and a secret whose optional fields are null.
func connectorJSON(slug string) map[string]any {
	return map[string]any{
		"id":          "conn-" + slug,
		"name":        strings.ToUpper(slug[:1]) + slug[1:],
		"slug":        slug,
		"description": "Issues and projects in " + slug,
		"source_url":  nil,
		"logo_url":    "https://cdn.merge.dev/" + slug + ".png",
		"categories":  []string{"Ticketing", "Project Management"},
		"auth_options": []any{
			map[string]any{"type": "OAUTH", "secrets": []any{}},
			map[string]any{"type": "API_KEY", "secrets": []any{map[string]any{
				"name": "api_key", "human_readable_name": "API key", "prefix": "lin_", "suffix": nil,
				"field_type": "password", "options": nil,
			}, map[string]any{
				"name": "region", "human_readable_name": nil, "prefix": nil, "suffix": nil, "field_type": "select",
				"options": []any{map[string]any{"option_label": "US", "value": "us", "option_default": true}},
			}}},
		},
		"tools": []any{
			map[string]any{"name": "create_issue", "description": "Create an issue", "credit_type": "standard"},
			map[string]any{"name": "list_teams", "description": nil, "credit_type": "free"},
		},
	}
}

// wantConnector is connectorJSON(slug) decoded.
func wantConnector(slug string) agenthandler.Connector {
	return agenthandler.Connector{
		ID:          "conn-" + slug,
		Name:        strings.ToUpper(slug[:1]) + slug[1:],
		Slug:        slug,
		Description: "Issues and projects in " + slug,
		LogoURL:     "https://cdn.merge.dev/" + slug + ".png",
		Categories:  []string{"Ticketing", "Project Management"},
		AuthOptions: []agenthandler.AuthOption{
			{Type: "OAUTH", Secrets: []agenthandler.SecretSchema{}},
			{Type: "API_KEY", Secrets: []agenthandler.SecretSchema{
				{Name: "api_key", HumanReadableName: "API key", Prefix: "lin_", FieldType: "password"},
				{Name: "region", FieldType: "select", Options: []agenthandler.SecretOption{{OptionLabel: "US", Value: "us", OptionDefault: true}}},
			}},
		},
		Tools: []agenthandler.ConnectorTool{
			{Name: "create_issue", Description: "Create an issue", CreditType: "standard"},
			{Name: "list_teams", CreditType: "free"},
		},
	}
}

// checkNoBody asserts that a request carries no body.
func checkNoBody(t *testing.T, r *http.Request) {
	t.Helper()
	checkHeaders(t, r, false)
	assert.Empty(t, r.Header.Get("Content-Type"), "a request without a body has no Content-Type")
	assert.Zero(t, r.ContentLength, "no body")
}

// connectorPages answers GET /connectors/ with pages of two connectors
// (c1, c2, ... in order), linked by absolute next URLs as Merge's are.
func connectorPages(t *testing.T, f *fixture, pages int) {
	f.mux.HandleFunc("/api/v1/connectors/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/api/v1/connectors/", r.URL.Path, "the list path has its trailing slash")
		checkNoBody(t, r)
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			_, err := fmt.Sscan(p, &page)
			assert.NoError(t, err)
		}
		var next any
		if page < pages {
			q := r.URL.Query()
			q.Set("page", fmt.Sprint(page+1))
			next = f.url + "/base/api/v1/connectors/?" + q.Encode()
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"count":    2 * pages,
			"next":     next,
			"previous": nil,
			"results":  []any{connectorJSON(fmt.Sprintf("c%d", 2*page-1)), connectorJSON(fmt.Sprintf("c%d", 2*page))},
		})
	})
}

// collect runs a connector iterator to its end.
func collect(seq func(func(agenthandler.Connector, error) bool)) (slugs []string, errs []error) {
	for k, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		slugs = append(slugs, k.Slug)
	}
	return slugs, errs
}

func TestListConnectorsFollowsEveryPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	connectorPages(t, f, 3)
	var got []agenthandler.Connector
	for k, err := range f.ah.ListConnectors(context.Background(), agenthandler.ListConnectorsParams{}) {
		require.NoError(t, err)
		got = append(got, k)
	}
	require.Len(t, got, 6)
	for i, k := range got {
		assert.Equal(t, wantConnector(fmt.Sprintf("c%d", i+1)), k, "every field of the spec's connector is decoded")
	}
	assert.Equal(t, int64(3), f.requests())
}

func TestListConnectorsQuery(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p    agenthandler.ListConnectorsParams
		want string
	}{
		{agenthandler.ListConnectorsParams{}, ""},
		{agenthandler.ListConnectorsParams{Page: 2}, "page=2"},
		{agenthandler.ListConnectorsParams{Page: 3, PageSize: 50}, "page=3&page_size=50"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /api/v1/connectors/{$}", func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, tt.want, r.URL.RawQuery)
				writeJSON(w, http.StatusOK, map[string]any{"count": 1, "next": nil, "results": []any{connectorJSON("linear")}})
			})
			slugs, errs := collect(f.ah.ListConnectors(context.Background(), tt.p))
			assert.Empty(t, errs)
			assert.Equal(t, []string{"linear"}, slugs)
		})
	}
}

// A relative next link resolves against the base URL, on the same host.
func TestListConnectorsFollowsARelativeNext(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /api/v1/connectors/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": nil, "results": []any{connectorJSON("github")}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": "/base/api/v1/connectors/?page=2", "results": []any{connectorJSON("linear")}})
	})
	slugs, errs := collect(f.ah.ListConnectors(context.Background(), agenthandler.ListConnectorsParams{}))
	assert.Empty(t, errs)
	assert.Equal(t, []string{"linear", "github"}, slugs)
}

// A next link back to a page already read ends the listing through
// internal/paging, instead of looping with the API key forever.
func TestListConnectorsRefusesACycle(t *testing.T) {
	t.Parallel()
	for name, next := range map[string]string{
		"to itself":        "/base/api/v1/connectors/?page=2",
		"to the first one": "/base/api/v1/connectors/",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /api/v1/connectors/{$}", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": f.url + next, "results": []any{connectorJSON("linear")}})
			})
			slugs, errs := collect(f.ah.ListConnectors(context.Background(), agenthandler.ListConnectorsParams{}))
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], paging.ErrCycle)
			var de *mergelink.DecodeError
			require.ErrorAs(t, errs[0], &de, "a server that loops sent a 2xx Merge would not")
			assert.Equal(t, "/connectors/", de.Path)
			assert.Equal(t, http.StatusOK, de.StatusCode)
			assert.Contains(t, errs[0].Error(), "GET /connectors/")
			assert.LessOrEqual(t, len(slugs), 2)
			assert.Equal(t, int64(len(slugs)), f.requests(), "one request per page read")
		})
	}
}

// A page is known by its URL however the server spells it: relative to the
// page it came from, its query in another order, with a fragment.
func TestListConnectorsSeesACycleHoweverTheLinkIsSpelt(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /api/v1/connectors/{$}", func(w http.ResponseWriter, r *http.Request) {
		next := "?page=2&page_size=2" // relative to this page
		if r.URL.Query().Get("page") == "2" {
			next = f.url + "/base/api/v1/connectors/?page_size=2&page=2#again"
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": 9, "next": next, "results": []any{connectorJSON("c" + r.URL.Query().Get("page"))}})
	})
	slugs, errs := collect(f.ah.ListConnectors(context.Background(), agenthandler.ListConnectorsParams{PageSize: 2}))
	assert.Equal(t, []string{"c", "c2"}, slugs)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], paging.ErrCycle)
	assert.Equal(t, int64(2), f.requests())
}

func TestListConnectorsPageError(t *testing.T) {
	t.Parallel()
	f := setup(t, mergelink.WithMaxRetries(0))
	f.mux.HandleFunc("GET /api/v1/connectors/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			w.Header().Set("Retry-After", "7")
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"code": "throttled"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": f.url + "/base/api/v1/connectors/?page=2", "results": []any{connectorJSON("linear")}})
	})
	slugs, errs := collect(f.ah.ListConnectors(context.Background(), agenthandler.ListConnectorsParams{}))
	assert.Equal(t, []string{"linear"}, slugs)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], mergelink.ErrRateLimited)
	var ae *mergelink.APIError
	require.ErrorAs(t, errs[0], &ae)
	assert.Equal(t, "/connectors/", ae.Path, "the error names the list, not the next URL")
	assert.Equal(t, "throttled", ae.Code)
}

func TestGetConnector(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/api/v1/connectors/linear/", r.URL.Path)
		assert.Empty(t, r.URL.RawQuery)
		checkNoBody(t, r)
		writeJSON(w, http.StatusOK, connectorJSON("linear"))
	})
	k, err := f.ah.GetConnector(context.Background(), "linear")
	require.NoError(t, err)
	assert.Equal(t, wantConnector("linear"), *k)
	assert.Equal(t, int64(1), f.requests())
}

func TestGetConnectorRefusesAnAnswerWithoutASlug(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /api/v1/connectors/{slug}/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"name": "Linear"})
	})
	k, err := f.ah.GetConnector(context.Background(), "linear")
	assert.Nil(t, k)
	var de *mergelink.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, http.StatusOK, de.StatusCode)
	assert.Contains(t, err.Error(), "no slug")
}

// errorStatuses are the answers every call is tested against: the
// sentinel each matches, and whether it is retried.
var errorStatuses = []struct {
	status   int
	sentinel error
	retried  bool
}{
	{http.StatusBadRequest, nil, false},
	{http.StatusUnauthorized, mergelink.ErrUnauthorized, false},
	{http.StatusForbidden, mergelink.ErrForbidden, false},
	{http.StatusNotFound, mergelink.ErrNotFound, false},
	{http.StatusMethodNotAllowed, nil, false},
	{http.StatusRequestTimeout, nil, true},
	{http.StatusConflict, nil, false},
	{http.StatusUnprocessableEntity, nil, false},
	{http.StatusTooManyRequests, mergelink.ErrRateLimited, true},
	{http.StatusInternalServerError, mergelink.ErrServer, true},
	{http.StatusNotImplemented, mergelink.ErrServer, false},
	{http.StatusBadGateway, mergelink.ErrServer, true},
	{http.StatusServiceUnavailable, mergelink.ErrServer, true},
	{http.StatusGatewayTimeout, mergelink.ErrServer, true},
}

// The calls of this file, each with the route Merge serves it at.
var lifeCalls = []struct {
	name, route, path string
	call              func(ah *agenthandler.Client) error
}{
	{"GetConnector", "GET /api/v1/connectors/{slug}/{$}", "/connectors/linear/", func(ah *agenthandler.Client) error {
		_, err := ah.GetConnector(context.Background(), "linear")
		return err
	}},
	{"ListConnectors", "GET /api/v1/connectors/{$}", "/connectors/", func(ah *agenthandler.Client) error {
		for _, err := range ah.ListConnectors(context.Background(), agenthandler.ListConnectorsParams{}) {
			return err
		}
		return errors.New("the iterator yielded nothing")
	}},
	{"DeleteCredential", "DELETE /api/v1/credentials/registered-users/{id}/connectors/{slug}/{$}", "/credentials/registered-users/" + userID + "/connectors/linear/",
		func(ah *agenthandler.Client) error {
			return ah.DeleteCredential(context.Background(), userID, "linear")
		}},
}

// Every error status comes back as an *APIError with Agent Handler's code,
// matching its sentinel; only the transient ones are retried.
func TestLifecycleCallErrors(t *testing.T) {
	t.Parallel()
	for _, c := range lifeCalls {
		for _, tt := range errorStatuses {
			t.Run(fmt.Sprintf("%s/%d", c.name, tt.status), func(t *testing.T) {
				t.Parallel()
				f := setup(t, mergelink.WithMaxRetries(2))
				var calls atomic.Int64
				f.mux.HandleFunc(c.route, func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					w.Header().Set("X-Request-Id", "req-7")
					writeJSON(w, tt.status, map[string]any{"error": map[string]string{
						"type": "some_error", "code": "code_" + fmt.Sprint(tt.status), "message": "it went wrong",
					}})
				})
				err := c.call(f.ah)
				var ae *mergelink.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.status, ae.StatusCode)
				assert.Equal(t, "code_"+fmt.Sprint(tt.status), ae.Code)
				assert.Equal(t, c.path, ae.Path)
				assert.Equal(t, "req-7", ae.RequestID)
				if tt.sentinel != nil {
					assert.ErrorIs(t, err, tt.sentinel)
				}
				for _, other := range []error{mergelink.ErrUnauthorized, mergelink.ErrForbidden, mergelink.ErrNotFound, mergelink.ErrRateLimited, mergelink.ErrServer} {
					if other != tt.sentinel {
						assert.NotErrorIs(t, err, other)
					}
				}
				want := int64(1)
				if tt.retried {
					want = 3
				}
				assert.Equal(t, want, calls.Load(), "attempts")
				assert.NotContains(t, err.Error(), testAPIKey)
			})
		}
	}
}

// A transient failure is retried to success.
func TestLifecycleCallsRetryToSuccess(t *testing.T) {
	t.Parallel()
	for _, c := range lifeCalls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, mergelink.WithMaxRetries(2))
			var calls atomic.Int64
			f.mux.HandleFunc(c.route, func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "unavailable"})
					return
				}
				if r.Method == http.MethodDelete {
					w.WriteHeader(http.StatusOK)
					return
				}
				if r.PathValue("slug") != "" {
					writeJSON(w, http.StatusOK, connectorJSON("linear"))
					return
				}
				writeJSON(w, http.StatusOK, map[string]any{"count": 1, "next": nil, "results": []any{connectorJSON("linear")}})
			})
			require.NoError(t, c.call(f.ah))
			assert.Equal(t, int64(2), calls.Load())
		})
	}
}

func TestConnectorValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func(ah *agenthandler.Client) error
		params string
		want   []string
	}{
		{"get no slug", func(ah *agenthandler.Client) error { _, err := ah.GetConnector(ctx, ""); return err }, "GetConnector", []string{"slug"}},
		{"get upper case", func(ah *agenthandler.Client) error { _, err := ah.GetConnector(ctx, "Linear"); return err }, "GetConnector", []string{"slug"}},
		{"get path", func(ah *agenthandler.Client) error { _, err := ah.GetConnector(ctx, "../registered-users"); return err }, "GetConnector", []string{"slug"}},
		{"get query", func(ah *agenthandler.Client) error { _, err := ah.GetConnector(ctx, "linear?x=1"); return err }, "GetConnector", []string{"slug"}},
		{"list negative page and size", func(ah *agenthandler.Client) error {
			for _, err := range ah.ListConnectors(ctx, agenthandler.ListConnectorsParams{Page: -1, PageSize: -2}) {
				return err
			}
			return nil
		}, "ListConnectorsParams", []string{"Page", "PageSize"}},
		{"delete nothing", func(ah *agenthandler.Client) error { return ah.DeleteCredential(ctx, "", "") }, "DeleteCredential", []string{"registeredUserID", "connector"}},
		{"delete bad user and slug", func(ah *agenthandler.Client) error { return ah.DeleteCredential(ctx, "u-1", "a/b") }, "DeleteCredential", []string{"registeredUserID", "connector"}},
		{"delete bad slug", func(ah *agenthandler.Client) error { return ah.DeleteCredential(ctx, userID, "-linear") }, "DeleteCredential", []string{"connector"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			err := tt.call(f.ah)
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.params, ve.Params)
			var fields []string
			for _, p := range ve.Problems {
				fields = append(fields, p.Field)
			}
			assert.ElementsMatch(t, tt.want, fields, "%v", err)
			assert.Zero(t, f.requests(), "nothing is sent")
		})
	}
}

func TestListConnectorsParamsValidate(t *testing.T) {
	t.Parallel()
	assert.NoError(t, agenthandler.ListConnectorsParams{}.Validate())
	assert.NoError(t, agenthandler.ListConnectorsParams{Page: 1, PageSize: 100}.Validate())
	var ve *mergelink.ValidationError
	require.ErrorAs(t, agenthandler.ListConnectorsParams{PageSize: -1}.Validate(), &ve)
	assert.True(t, ve.Has("PageSize"))
	assert.Len(t, ve.Problems, 1)
}
