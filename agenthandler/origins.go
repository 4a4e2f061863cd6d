package agenthandler

import (
	"context"
	"net/http"

	"github.com/mergelink/mergelink/internal/validate"
)

// RegisterCallbackOrigin adds origin to the organization's allowed callback
// origins, without which Merge silently skips a redirect to a callback URL.
// origin is cut to its scheme and host (and port) first, as OriginOf does,
// so a whole callback URL may be given. Registering an origin twice is not
// an error. It fails before sending anything with a *ValidationError when
// origin is not https, a custom scheme, or http on localhost, and with an
// error matching mergelink.ErrNoAgentHandlerHost in a region without an
// Agent Handler host.
func (c *Client) RegisterCallbackOrigin(ctx context.Context, origin string) error {
	o, err := validate.Origin(origin)
	if err != nil {
		v := validate.New("RegisterCallbackOrigin")
		v.Add("origin", err.Error(), validate.QuoteURL(origin))
		return v.Err()
	}
	body := struct {
		Origin string `json:"origin"`
	}{o}
	_, err = c.do(ctx, http.MethodPost, "/allowed-callback-origins/", "", body, nil)
	return err
}
