package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mergelink/mergelink/internal/secret"
	"github.com/mergelink/mergelink/internal/validate"
)

// Fetch does what a browser does in an offline run: it sends a GET, or a
// POST of form when form is not nil, follows redirects and returns the body
// of a 200 answer (at most 1 MiB). Any other status is an error that names
// the method, the URL as QuoteURL shows it, the status and the body.
func Fetch(ctx context.Context, hc *http.Client, method, rawURL string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return "", secret.URLError(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", secret.URLError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s answered %s: %s", method, QuoteURL(resp.Request.URL.String()), resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// QuoteURL quotes a URL as the SDK shows every URL: its user info, query
// and fragment, where passwords and tokens go, masked as "***".
func QuoteURL(raw string) string { return validate.QuoteURL(raw) }
