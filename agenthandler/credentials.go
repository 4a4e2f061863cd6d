package agenthandler

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mergelink/mergelink/internal/validate"
)

// DeleteCredential disconnects one connector of one registered user: it
// deletes the credentials with which the user authenticated with
// connector (a slug such as "linear"), which then leaves the user's
// AuthenticatedConnectors, and Merge sends the credential.deleted webhook.
// It fails with a *ValidationError, sending nothing, when registeredUserID
// is not a UUID or connector is not a slug; with an error matching
// mergelink.ErrNoAgentHandlerHost in a region without an Agent Handler
// host; with an error matching mergelink.ErrNotFound when there is no such
// user or credential; and with an *APIError for any other non-2xx answer.
func (c *Client) DeleteCredential(ctx context.Context, registeredUserID, connector string) error {
	v := validate.New("DeleteCredential")
	checkUserID(v, registeredUserID)
	v.Required("connector", connector)
	v.Slug("connector", connector)
	if err := v.Err(); err != nil {
		return err
	}
	path := "/credentials/registered-users/" + url.PathEscape(registeredUserID) + "/connectors/" + url.PathEscape(connector) + "/"
	_, err := c.do(ctx, http.MethodDelete, path, "", nil, nil)
	return err
}
