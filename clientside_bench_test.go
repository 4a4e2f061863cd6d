package mergelink_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// memTransport answers every request in memory with status and body,
// after reading the request's body as a server would: what a call costs
// with it is the client side's work alone, the SDK's or net/http's.
type memTransport struct {
	status int
	body   string
}

func (m memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode:    m.status,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(m.body)),
		ContentLength: int64(len(m.body)),
		Request:       r,
	}, nil
}

// memClients returns the SDK client and its bare twin, both on a
// memTransport answering status and body.
func memClients(tb testing.TB, status int, body string) (*mergelink.Client, *bare) {
	hc := &http.Client{Transport: memTransport{status: status, body: body}}
	c, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL("https://api.merge.dev/api"), mergelink.WithHTTPClient(hc))
	require.NoError(tb, err)
	return c, &bare{hc: hc, url: "https://api.merge.dev/api/hris/v1/link-token", apiKey: testAPIKey, userAgent: "mergelink-go/" + mergelink.Version + " " + runtime.Version()}
}

// BenchmarkCreateLinkTokenClientSide is CreateLinkToken against a transport
// that answers in memory: the client side's cost alone, validation,
// encoding, retries' bookkeeping and decoding, against a bare net/http and
// encoding/json POST of the same bytes.
func BenchmarkCreateLinkTokenClientSide(b *testing.B) {
	c, bc := memClients(b, http.StatusCreated, benchLinkTokenAnswer)
	ctx := context.Background()
	b.Run("impl=sdk", func(b *testing.B) {
		p := benchParams()
		b.ReportAllocs()
		for range b.N {
			if _, err := c.CreateLinkToken(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=baseline", func(b *testing.B) {
		p := bareRequest()
		b.ReportAllocs()
		for range b.N {
			if _, err := bc.createLinkToken(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkValidateLinkTokenParams is the validation CreateLinkToken runs
// before anything is sent.
func BenchmarkValidateLinkTokenParams(b *testing.B) {
	p := benchParams()
	b.ReportAllocs()
	for range b.N {
		if err := p.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
