package mergelink_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

func minimalMagicLinkParams() mergelink.MagicLinkParams {
	return mergelink.MagicLinkParams(minimalLinkTokenParams())
}

func TestCreateMagicLinkWire(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{201, `{"link_token":"lt-ml","integration_name":"BambooHR","magic_link_url":"https://app.merge.dev/link/m4g1c"}`})
	mux.Handle("/api/", rec)

	p := minimalMagicLinkParams()
	p.Integration = "bamboohr"
	before := time.Now()
	ml, err := c.CreateMagicLink(context.Background(), p)
	after := time.Now()
	require.NoError(t, err)
	assert.Equal(t, "https://app.merge.dev/link/m4g1c", ml.URL)
	assert.Equal(t, "lt-ml", ml.LinkToken)
	assert.Equal(t, "BambooHR", ml.IntegrationName)
	week := 7 * 24 * time.Hour
	assert.False(t, ml.ExpiresAt.Before(before.Add(week)), "ExpiresAt %v is before the request", ml.ExpiresAt)
	assert.False(t, ml.ExpiresAt.After(after.Add(week)), "ExpiresAt %v is after the answer", ml.ExpiresAt)

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/hris/v1/link-token", r.Path)
	assertUnifiedHeaders(t, r, true)
	assert.Regexp(t, uuidV4, r.Header.Get("Idempotency-Key"))
	assert.Equal(t, jsonObject(t, `{
		"end_user_email_address": "jane@example.com",
		"end_user_organization_name": "Example Org",
		"end_user_origin_id": "user-42",
		"categories": ["hris"],
		"integration": "bamboohr",
		"link_expiry_mins": 10080,
		"should_create_magic_link_url": true
	}`), r.jsonBody(t))
}

func TestCreateMagicLinkAlwaysAsksForTheURL(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	rec := newWireRecorder(t, wireAnswer{201, `{"link_token":"lt","magic_link_url":"https://app.merge.dev/link/x"}`})
	mux.Handle("POST /api/mktg/v1/link-token", rec)

	p := minimalMagicLinkParams()
	p.Categories = []mergelink.Category{mergelink.CategoryMarketing, mergelink.CategoryCRM}
	p.ShouldCreateMagicLinkURL = false
	p.HideAdminMagicLink = true
	p.LinkExpiryMins = 60
	before := time.Now()
	ml, err := c.CreateMagicLink(context.Background(), p)
	after := time.Now()
	require.NoError(t, err)
	assert.WithinRange(t, ml.ExpiresAt, before.Add(time.Hour).Round(0), after.Add(time.Hour).Round(0))

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	body := reqs[0].jsonBody(t)
	assert.Equal(t, true, body["should_create_magic_link_url"])
	assert.Equal(t, true, body["hide_admin_magic_link"])
	assert.Equal(t, float64(60), body["link_expiry_mins"])
	assert.Equal(t, []any{"mktg", "crm"}, body["categories"])
}

func TestCreateMagicLinkWithoutURLIsAnError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.Handle("POST /api/hris/v1/link-token", newWireRecorder(t, wireAnswer{201, `{"link_token":"lt","magic_link_url":""}`}))

	ml, err := c.CreateMagicLink(context.Background(), minimalMagicLinkParams())
	assert.Nil(t, ml)
	var de *mergelink.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, http.StatusCreated, de.StatusCode)
	assert.Contains(t, err.Error(), "magic_link_url")

	// CreateLinkToken holds Merge to the same promise when asked for a URL.
	p := minimalLinkTokenParams()
	p.ShouldCreateMagicLinkURL = true
	lt, err := c.CreateLinkToken(context.Background(), p)
	assert.Nil(t, lt)
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "magic_link_url")
}

func TestMagicLinkExpiryBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mins, sent int // sent 0: invalid, nothing sent
	}{
		{0, 10080}, {29, 0}, {30, 30}, {720, 720}, {721, 721}, {10080, 10080}, {10081, 0}, {-1, 0},
	} {
		c, mux := setup(t)
		rec := newWireRecorder(t, wireAnswer{201, `{"link_token":"lt","magic_link_url":"https://app.merge.dev/link/x"}`})
		mux.Handle("POST /api/hris/v1/link-token", rec)
		p := minimalMagicLinkParams()
		p.LinkExpiryMins = tc.mins
		before := time.Now()
		ml, err := c.CreateMagicLink(context.Background(), p)
		after := time.Now()
		reqs := rec.requests()
		if tc.sent == 0 {
			var ve *mergelink.ValidationError
			require.ErrorAs(t, err, &ve, "%+v", tc)
			assert.Equal(t, "MagicLinkParams", ve.Params)
			assert.True(t, ve.Has("LinkExpiryMins"))
			assert.Contains(t, err.Error(), "must be 30 to 10080 minutes")
			assert.Empty(t, reqs, "%+v sent a request", tc)
			assert.Equal(t, err, p.Validate())
			continue
		}
		require.NoError(t, err, "%+v", tc)
		require.NoError(t, p.Validate())
		require.Len(t, reqs, 1)
		assert.Equal(t, float64(tc.sent), reqs[0].jsonBody(t)["link_expiry_mins"], "%+v", tc)
		d := time.Duration(tc.sent) * time.Minute
		assert.WithinRange(t, ml.ExpiresAt, before.Add(d).Round(0), after.Add(d).Round(0))
	}
}

func TestMagicLinkParamsValidateSharesTheRules(t *testing.T) {
	t.Parallel()
	c := noRequestClient(t)
	p := mergelink.MagicLinkParams{Categories: []mergelink.Category{"hris", "hris"}, Language: "fr", CredentialID: "nope"}
	_, err := c.CreateMagicLink(context.Background(), p)
	var ve *mergelink.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "MagicLinkParams", ve.Params)
	var fields []string
	for _, pr := range ve.Problems {
		fields = append(fields, pr.Field)
	}
	assert.Equal(t, []string{"EndUserEmailAddress", "EndUserOrganizationName", "EndUserOriginID", "Categories[1]", "Language", "CredentialID"}, fields)
}
