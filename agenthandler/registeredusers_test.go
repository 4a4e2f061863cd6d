package agenthandler_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// userJSON is a registered user as Merge sends it.
func userJSON(id, originID string) map[string]any {
	return map[string]any{
		"id":                       id,
		"origin_user_id":           originID,
		"origin_user_name":         "Ada " + originID,
		"shared_credential_group":  map[string]any{"origin_company_id": "co-1", "origin_company_name": nil, "custom_groupings": map[string]string{"team": "eng"}},
		"user_type":                "HUMAN",
		"authenticated_connectors": []string{"linear", "github"},
		"is_test":                  true,
	}
}

func TestCreateRegisteredUser(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status  int
		created bool
	}{{http.StatusCreated, true}, {http.StatusOK, false}} {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "/api/v1/registered-users/", r.URL.Path)
				checkHeaders(t, r, true)
				assert.Equal(t, map[string]any{
					"origin_user_id":          "u-1",
					"origin_user_name":        "Ada",
					"shared_credential_group": map[string]any{"origin_company_id": "co-1", "custom_groupings": map[string]any{"team": "eng"}},
					"user_type":               "SYSTEM",
				}, jsonBody(t, r))
				writeJSON(w, tt.status, userJSON(userID, "u-1"))
			})
			u, created, err := f.ah.CreateRegisteredUser(context.Background(), agenthandler.RegisteredUserParams{
				OriginUserID:          "u-1",
				OriginUserName:        "Ada",
				SharedCredentialGroup: &agenthandler.SharedCredentialGroup{OriginCompanyID: "co-1", CustomGroupings: map[string]string{"team": "eng"}},
				UserType:              agenthandler.UserSystem,
			})
			require.NoError(t, err)
			assert.Equal(t, tt.created, created)
			assert.Equal(t, &agenthandler.RegisteredUser{
				ID:                      userID,
				OriginUserID:            "u-1",
				OriginUserName:          "Ada u-1",
				SharedCredentialGroup:   &agenthandler.SharedCredentialGroup{OriginCompanyID: "co-1", CustomGroupings: map[string]string{"team": "eng"}},
				UserType:                agenthandler.UserHuman,
				AuthenticatedConnectors: []string{"linear", "github"},
				IsTest:                  true,
			}, u)
		})
	}
}

func TestCreateRegisteredUserMinimalBody(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("POST /api/v1/registered-users/{$}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, map[string]any{"origin_user_id": "u-1", "origin_user_name": "Ada"}, jsonBody(t, r))
		writeJSON(w, http.StatusCreated, map[string]any{"id": userID, "origin_user_id": "u-1", "shared_credential_group": nil, "authenticated_connectors": []string{}})
	})
	u, created, err := f.ah.CreateRegisteredUser(context.Background(), agenthandler.RegisteredUserParams{OriginUserID: "u-1", OriginUserName: "Ada"})
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, userID, u.ID)
	assert.Nil(t, u.SharedCredentialGroup)
}

func TestGetRegisteredUser(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/api/v1/registered-users/"+userID+"/", r.URL.Path)
		checkHeaders(t, r, false)
		assert.Empty(t, r.Header.Get("Content-Type"), "a GET has no body")
		writeJSON(w, http.StatusOK, userJSON(userID, "u-7"))
	})
	u, err := f.ah.GetRegisteredUser(context.Background(), userID)
	require.NoError(t, err)
	assert.Equal(t, "u-7", u.OriginUserID)
	assert.Equal(t, []string{"linear", "github"}, u.AuthenticatedConnectors)
	assert.Equal(t, "co-1", u.SharedCredentialGroup.OriginCompanyID)
}

func TestGetRegisteredUserNotFound(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /api/v1/registered-users/{id}/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "not_found", "detail": "No RegisteredUser matches the given query."})
	})
	_, err := f.ah.GetRegisteredUser(context.Background(), userID)
	assert.ErrorIs(t, err, mergelink.ErrNotFound)
	assert.Contains(t, err.Error(), "not_found")
}

func TestUpdateRegisteredUserSendsOnlySetFields(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/registered-users/"+userID+"/", r.URL.Path)
		checkHeaders(t, r, true)
		assert.Equal(t, map[string]any{"origin_user_name": "Ada L."}, jsonBody(t, r))
		u := userJSON(userID, "u-1")
		u["origin_user_name"] = "Ada L."
		writeJSON(w, http.StatusOK, u)
	})
	u, err := f.ah.UpdateRegisteredUser(context.Background(), userID, agenthandler.UpdateRegisteredUserParams{OriginUserName: "Ada L."})
	require.NoError(t, err)
	assert.Equal(t, "Ada L.", u.OriginUserName)
}

func TestDeleteRegisteredUser(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodDelete, r.Method)
		assert.Equal(t, "/api/v1/registered-users/"+userID+"/", r.URL.Path)
		checkHeaders(t, r, false)
		w.WriteHeader(http.StatusNoContent)
	})
	require.NoError(t, f.ah.DeleteRegisteredUser(context.Background(), userID))
	assert.Equal(t, int64(1), f.requests())
}

func TestRegisteredUserValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func(ah *agenthandler.Client) error
		params string
		want   []string
	}{
		{"create empty", func(ah *agenthandler.Client) error {
			_, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{})
			return err
		}, "RegisteredUserParams", []string{"OriginUserID", "OriginUserName"}},
		{"create bad user type", func(ah *agenthandler.Client) error {
			_, _, err := ah.CreateRegisteredUser(ctx, agenthandler.RegisteredUserParams{OriginUserID: "u", OriginUserName: "n", UserType: "human"})
			return err
		}, "RegisteredUserParams", []string{"UserType"}},
		{"get no id", func(ah *agenthandler.Client) error { _, err := ah.GetRegisteredUser(ctx, ""); return err }, "GetRegisteredUser", []string{"registeredUserID"}},
		{"get id not a UUID", func(ah *agenthandler.Client) error { _, err := ah.GetRegisteredUser(ctx, "../tool-packs"); return err }, "GetRegisteredUser", []string{"registeredUserID"}},
		{"update nothing and bad id", func(ah *agenthandler.Client) error {
			_, err := ah.UpdateRegisteredUser(ctx, "x", agenthandler.UpdateRegisteredUserParams{})
			return err
		}, "UpdateRegisteredUserParams", []string{"registeredUserID", "UpdateRegisteredUserParams"}},
		{"update bad user type", func(ah *agenthandler.Client) error {
			_, err := ah.UpdateRegisteredUser(ctx, userID, agenthandler.UpdateRegisteredUserParams{UserType: "ROBOT"})
			return err
		}, "UpdateRegisteredUserParams", []string{"UserType"}},
		{"delete id not a UUID", func(ah *agenthandler.Client) error { return ah.DeleteRegisteredUser(ctx, "u-1") }, "DeleteRegisteredUser", []string{"registeredUserID"}},
		{"list negative page and size", func(ah *agenthandler.Client) error {
			for _, err := range ah.ListRegisteredUsers(ctx, agenthandler.ListRegisteredUsersParams{Page: -1, PageSize: -5}) {
				return err
			}
			return nil
		}, "ListRegisteredUsersParams", []string{"Page", "PageSize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			err := tt.call(f.ah)
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.params, ve.Params)
			require.Len(t, ve.Problems, len(tt.want), "%v", err)
			for _, field := range tt.want {
				assert.True(t, ve.Has(field), "no problem for %s in %v", field, err)
			}
			assert.Zero(t, f.requests(), "nothing is sent")
		})
	}
}

// listServer answers GET /registered-users/ with pages of two users each,
// linked by absolute next URLs as Merge's are.
func listServer(t *testing.T, f *fixture, pages int) {
	f.mux.HandleFunc("/api/v1/registered-users/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/api/v1/registered-users/", r.URL.Path)
		checkHeaders(t, r, false)
		var page int
		fmt.Sscan(r.URL.Query().Get("page"), &page)
		if page == 0 {
			page = 1
		}
		var next any
		if page < pages {
			q := r.URL.Query()
			q.Set("page", fmt.Sprint(page+1))
			next = f.url + "/base/api/v1/registered-users/?" + q.Encode()
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"count":    2 * pages,
			"next":     next,
			"previous": nil,
			"results":  []any{userJSON(fmt.Sprintf("00000000-0000-4000-8000-%012d", 2*page-1), "u"), userJSON(fmt.Sprintf("00000000-0000-4000-8000-%012d", 2*page), "u")},
		})
	})
}

func TestListRegisteredUsersFollowsEveryPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	listServer(t, f, 3)
	var ids []string
	for u, err := range f.ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{}) {
		require.NoError(t, err)
		ids = append(ids, u.ID[len(u.ID)-2:])
	}
	assert.Equal(t, []string{"01", "02", "03", "04", "05", "06"}, ids)
	assert.Equal(t, int64(3), f.requests())
}

func TestListRegisteredUsersQuery(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /api/v1/registered-users/{$}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "origin_user_id=a%26b+c&page=2&page_size=50", r.URL.RawQuery)
		writeJSON(w, http.StatusOK, map[string]any{"count": 1, "next": nil, "results": []any{userJSON(userID, "a&b c")}})
	})
	var got []agenthandler.RegisteredUser
	for u, err := range f.ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{OriginUserID: "a&b c", Page: 2, PageSize: 50}) {
		require.NoError(t, err)
		got = append(got, u)
	}
	require.Len(t, got, 1)
	assert.Equal(t, "a&b c", got[0].OriginUserID)
}

func TestListRegisteredUsersRefusesALoop(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /api/v1/registered-users/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": f.url + "/base/api/v1/registered-users/?page=2", "results": []any{userJSON(userID, "u")}})
	})
	var last error
	for _, err := range f.ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{}) {
		last = err
	}
	require.Error(t, last)
	assert.Contains(t, last.Error(), "already read")
	assert.Equal(t, int64(2), f.requests())
}

func TestListRegisteredUsersRefusesALinkBackToTheFirstPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /api/v1/registered-users/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": f.url + "/base/api/v1/registered-users/?origin_user_id=u", "results": []any{userJSON(userID, "u")}})
	})
	users := 0
	var last error
	for u, err := range f.ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{OriginUserID: "u"}) {
		if err != nil {
			last = err
			continue
		}
		assert.Equal(t, userID, u.ID)
		users++
	}
	require.Error(t, last)
	assert.Contains(t, last.Error(), "already read")
	assert.Equal(t, 1, users, "the first page's users are yielded once")
	assert.Equal(t, int64(1), f.requests())
}

func TestListRegisteredUsersPageError(t *testing.T) {
	t.Parallel()
	f := setup(t, mergelink.WithMaxRetries(0))
	f.mux.HandleFunc("GET /api/v1/registered-users/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"code": "throttled"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": 2, "next": f.url + "/base/api/v1/registered-users/?page=2", "results": []any{userJSON(userID, "u")}})
	})
	var users int
	var last error
	for _, err := range f.ah.ListRegisteredUsers(context.Background(), agenthandler.ListRegisteredUsersParams{}) {
		if err != nil {
			last = err
			continue
		}
		users++
	}
	assert.Equal(t, 1, users)
	assert.ErrorIs(t, last, mergelink.ErrRateLimited)
}
