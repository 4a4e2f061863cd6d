package agenthandler

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"time"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
)

// ApplicationCredential is an OAuth app of your own for a connector (bring
// your own OAuth app), without its client secret, which Merge never
// returns.
type ApplicationCredential struct {
	ID            string `json:"id"`
	ConnectorSlug string `json:"connector_slug"`
	ClientID      string `json:"client_id"`
	// ExternalID tells several OAuth apps of one connector apart (one per
	// customer tenant, say); LinkTokenParams.ExternalID picks one. "" for
	// none.
	ExternalID      string    `json:"external_id"`
	IsGlobalDefault bool      `json:"is_global_default"`
	CreatedAt       time.Time `json:"created_at"`
	ModifiedAt      time.Time `json:"modified_at"`
}

// ApplicationCredentialParams are the body of CreateApplicationCredential.
// Its client secret is hidden by fmt, slog and encoding/json's logs alike
// (String, Format, LogValue); the request itself carries it.
type ApplicationCredentialParams struct {
	// ConnectorSlug is the connector of the OAuth app, such as "linear".
	// Required.
	ConnectorSlug string `json:"connector_slug"`
	// ClientID is the OAuth app's client id. Required.
	ClientID string `json:"client_id"`
	// ClientSecret is the OAuth app's client secret.
	ClientSecret string `json:"client_secret,omitempty"`
	// ExternalID tells this app from the connector's other apps; leave it
	// "" unless you keep several.
	ExternalID string `json:"external_id,omitempty"`
}

// Validate reports every problem of p: ConnectorSlug missing or not a
// slug, ClientID missing, or a string that is not valid UTF-8. It returns
// nil or a *ValidationError, which never shows the client secret.
func (p ApplicationCredentialParams) Validate() error {
	v := newChecker("ApplicationCredentialParams", p)
	p.check(v)
	return v.Err()
}

func (p ApplicationCredentialParams) check(v *validate.Checker) {
	checkSlug(v, "ConnectorSlug", p.ConnectorSlug)
	v.Required("ClientID", p.ClientID)
}

// String describes p with its client secret hidden.
func (p ApplicationCredentialParams) String() string {
	return fmt.Sprintf("{ConnectorSlug:%s ClientID:%s ClientSecret:%s ExternalID:%s}", p.ConnectorSlug, p.ClientID, hideNonEmpty(p.ClientSecret), p.ExternalID)
}

// GoString is String, so that %#v hides the client secret too.
func (p ApplicationCredentialParams) GoString() string {
	return "agenthandler.ApplicationCredentialParams" + p.String()
}

// Format prints String for every verb, so that none shows the secret.
func (p ApplicationCredentialParams) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, p.String(), p.GoString())
}

// LogValue shows p in slog output with its client secret hidden.
func (p ApplicationCredentialParams) LogValue() slog.Value {
	return slog.GroupValue(slog.String("connector_slug", p.ConnectorSlug), slog.String("client_id", p.ClientID),
		slog.String("client_secret", hideNonEmpty(p.ClientSecret)), slog.String("external_id", p.ExternalID))
}

// hidden stands in for a secret in String, GoString, logs and JSON.
const hidden = secret.Hidden

func hideNonEmpty(s string) string {
	if s == "" {
		return ""
	}
	return hidden
}

// UpdateApplicationCredentialParams are the fields
// UpdateApplicationCredential changes; zero fields are not sent and stay
// as they are. Its client secret is hidden as in
// ApplicationCredentialParams.
type UpdateApplicationCredentialParams struct {
	ClientID     string
	ClientSecret string
	ExternalID   string
	// ClearClientSecret and ClearExternalID send null, which clears the
	// field; each excludes setting the same field.
	ClearClientSecret bool
	ClearExternalID   bool
}

// Validate reports every problem of p: nothing to update, a field both set
// and cleared, or a string that is not valid UTF-8. It returns nil or a
// *ValidationError.
func (p UpdateApplicationCredentialParams) Validate() error {
	v := newChecker("UpdateApplicationCredentialParams", p)
	p.check(v)
	return v.Err()
}

func (p UpdateApplicationCredentialParams) check(v *validate.Checker) {
	if p == (UpdateApplicationCredentialParams{}) {
		v.Add("UpdateApplicationCredentialParams", "has nothing to update: set at least one field", "")
	}
	if p.ClearClientSecret && p.ClientSecret != "" {
		v.Add("ClearClientSecret", "excludes ClientSecret: set one or the other", "")
	}
	if p.ClearExternalID && p.ExternalID != "" {
		v.Add("ClearExternalID", "excludes ExternalID: set one or the other", "")
	}
}

// MarshalJSON writes p as the PATCH body: set fields, and null for the
// cleared ones. It is the request body, so it holds the client secret.
func (p UpdateApplicationCredentialParams) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if p.ClientID != "" {
		m["client_id"] = p.ClientID
	}
	for _, f := range []struct {
		name, value string
		clear       bool
	}{{"client_secret", p.ClientSecret, p.ClearClientSecret}, {"external_id", p.ExternalID, p.ClearExternalID}} {
		switch {
		case f.clear:
			m[f.name] = nil
		case f.value != "":
			m[f.name] = f.value
		}
	}
	return json.Marshal(m)
}

// String describes p with its client secret hidden.
func (p UpdateApplicationCredentialParams) String() string {
	return fmt.Sprintf("{ClientID:%s ClientSecret:%s ExternalID:%s ClearClientSecret:%t ClearExternalID:%t}",
		p.ClientID, hideNonEmpty(p.ClientSecret), p.ExternalID, p.ClearClientSecret, p.ClearExternalID)
}

// GoString is String, so that %#v hides the client secret too.
func (p UpdateApplicationCredentialParams) GoString() string {
	return "agenthandler.UpdateApplicationCredentialParams" + p.String()
}

// Format prints String for every verb, so that none shows the secret.
func (p UpdateApplicationCredentialParams) Format(f fmt.State, verb rune) {
	secret.Format(f, verb, p.String(), p.GoString())
}

// LogValue shows p in slog output with its client secret hidden.
func (p UpdateApplicationCredentialParams) LogValue() slog.Value { return slog.StringValue(p.String()) }

// ListApplicationCredentialsParams filter and page
// ListApplicationCredentials. Zero fields are not sent.
type ListApplicationCredentialsParams struct {
	// Slug keeps the OAuth apps of one connector.
	Slug       string `url:"slug,omitempty"`
	ExternalID string `url:"external_id,omitempty"`
	Paging
}

// Validate reports every problem of p: a Slug that is not a slug, a
// negative Page or PageSize, or a string that is not valid UTF-8. It
// returns nil or a *ValidationError.
func (p ListApplicationCredentialsParams) Validate() error {
	v := newChecker("ListApplicationCredentialsParams", p)
	p.check(v)
	return v.Err()
}

func (p ListApplicationCredentialsParams) check(v *validate.Checker) {
	v.Slug("Slug", p.Slug)
	v.Page(p.Page, p.PageSize)
}

func appCredentialPath(id string) string { return "/application-credentials/" + escape(id) + "/" }

// CreateApplicationCredential registers an OAuth app of your own for a
// connector. It fails with a *ValidationError, sending nothing, when p is
// invalid, and with an *APIError when Merge refuses it.
func (c *Client) CreateApplicationCredential(ctx context.Context, p ApplicationCredentialParams) (*ApplicationCredential, error) {
	v := newChecker("ApplicationCredentialParams", p)
	p.check(v)
	return fetch[ApplicationCredential](ctx, c, v, http.MethodPost, "/application-credentials/", p)
}

// ListApplicationCredentials returns an iterator over the organization's
// OAuth apps that match p, page after page. A failure ends the loop with
// its error, as for ListRegisteredUsers.
func (c *Client) ListApplicationCredentials(ctx context.Context, p ListApplicationCredentialsParams) iter.Seq2[ApplicationCredential, error] {
	v := newChecker("ListApplicationCredentialsParams", p)
	p.check(v)
	return list[ApplicationCredential](ctx, c, v, "/application-credentials/", p)
}

// GetApplicationCredential returns the OAuth app whose id is id. It fails
// with a *ValidationError, sending nothing, when id is not a UUID, and
// with an error matching mergelink.ErrNotFound when there is none.
func (c *Client) GetApplicationCredential(ctx context.Context, id string) (*ApplicationCredential, error) {
	v := validate.New("GetApplicationCredential")
	checkID(v, "id", id)
	return fetch[ApplicationCredential](ctx, c, v, http.MethodGet, appCredentialPath(id), nil)
}

// UpdateApplicationCredential changes the fields set in p (PATCH) and
// returns the OAuth app as it now is. It fails with a *ValidationError,
// sending nothing, when id is not a UUID or p is invalid.
func (c *Client) UpdateApplicationCredential(ctx context.Context, id string, p UpdateApplicationCredentialParams) (*ApplicationCredential, error) {
	v := newChecker("UpdateApplicationCredentialParams", p)
	checkID(v, "id", id)
	p.check(v)
	return fetch[ApplicationCredential](ctx, c, v, http.MethodPatch, appCredentialPath(id), p)
}

// DeleteApplicationCredential deletes an OAuth app and, Merge warns, every
// user credential made with it. It fails with a *ValidationError, sending
// nothing, when id is not a UUID.
func (c *Client) DeleteApplicationCredential(ctx context.Context, id string) error {
	v := validate.New("DeleteApplicationCredential")
	checkID(v, "id", id)
	return exec(ctx, c, v, http.MethodDelete, appCredentialPath(id), nil)
}
