package mergelink_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
)

// The link token benchmark compares CreateLinkToken with the same request
// made by hand with net/http and encoding/json: same JSON, same headers,
// same server, same kind of http.Client, same decoding of the answer. The
// goal is at most 1.15x the time and 20 more allocations per call.
//
//	go test -run '^$' -bench CreateLinkToken -benchmem -count 6 .
//
// BenchmarkCreateLinkTokenDefaultClient compares the same call made with
// the SDK's default http.Client (no WithHTTPClient) with the bare program
// using &http.Client{Timeout: 60 * time.Second}, the same settings: a
// client with a Timeout keeps net/http's fast cancellation path only when
// its transport is one net/http knows, which the SDK's wrapper is not.

// benchLinkTokenAnswer is the server's answer to every link token request.
const benchLinkTokenAnswer = `{"link_token":"lt-9fXbench","integration_name":"Lever","magic_link_url":""}`

// benchServer answers link token requests on loopback; record, when set,
// sees each request and its body.
func benchServer(tb testing.TB, record func(r *http.Request, body []byte)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			tb.Errorf("reading the request body: %v", err)
		}
		if record != nil {
			record(r, body)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, benchLinkTokenAnswer)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// benchHTTPClient is the client both sides use: net/http's default
// transport settings, in a pool of their own.
func benchHTTPClient(tb testing.TB) *http.Client {
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	tb.Cleanup(hc.CloseIdleConnections)
	return hc
}

// benchParams is the link token request of the benchmark.
func benchParams() mergelink.LinkTokenParams { return minimalLinkTokenParams() }

// bare is CreateLinkToken as a program without the SDK would write it.
type bare struct {
	hc        *http.Client
	url       string // the link token endpoint
	apiKey    string
	userAgent string
}

type bareLinkTokenRequest struct {
	EndUserEmailAddress     string   `json:"end_user_email_address"`
	EndUserOrganizationName string   `json:"end_user_organization_name"`
	EndUserOriginID         string   `json:"end_user_origin_id"`
	Categories              []string `json:"categories"`
	LinkExpiryMins          int      `json:"link_expiry_mins"`
}

type bareLinkToken struct {
	LinkToken       string `json:"link_token"`
	IntegrationName string `json:"integration_name"`
	MagicLinkURL    string `json:"magic_link_url"`
}

// bareRequest is benchParams as the bare program sends it.
func bareRequest() bareLinkTokenRequest {
	p := benchParams()
	return bareLinkTokenRequest{
		EndUserEmailAddress:     p.EndUserEmailAddress,
		EndUserOrganizationName: p.EndUserOrganizationName,
		EndUserOriginID:         p.EndUserOriginID,
		Categories:              []string{string(p.Categories[0])},
		LinkExpiryMins:          mergelink.DefaultLinkExpiryMins,
	}
}

func (b *bare) createLinkToken(ctx context.Context, p bareLinkTokenRequest) (*bareLinkToken, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", b.userAgent)
	req.Header.Set("Idempotency-Key", bareUUID())
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("link token: %s: %s", resp.Status, data)
	}
	var lt bareLinkToken
	if err := json.Unmarshal(data, &lt); err != nil {
		return nil, err
	}
	return &lt, nil
}

// bareUUID is a random UUID, made as cheaply as the SDK makes its own.
func bareUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[:], b[:4])
	s[8] = '-'
	hex.Encode(s[9:], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// benchClients returns the SDK client and its bare twin for srv.
func benchClients(tb testing.TB, srv *httptest.Server) (*mergelink.Client, *bare) {
	c, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL(srv.URL+"/api"), mergelink.WithHTTPClient(benchHTTPClient(tb)))
	require.NoError(tb, err)
	b := &bare{
		hc:        benchHTTPClient(tb),
		url:       srv.URL + "/api/hris/v1/link-token",
		apiKey:    testAPIKey,
		userAgent: "mergelink-go/" + mergelink.Version + " " + runtime.Version(),
	}
	return c, b
}

// The baseline is a fair one: it sends the very bytes and headers the SDK
// sends, and reads the same answer.
func TestBenchmarkBaselineMatchesTheSDK(t *testing.T) {
	t.Parallel()
	type seen struct {
		path   string
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var got []seen
	srv := benchServer(t, func(r *http.Request, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{r.URL.Path, r.Header.Clone(), body})
	})
	c, b := benchClients(t, srv)

	lt, err := c.CreateLinkToken(context.Background(), benchParams())
	require.NoError(t, err)
	blt, err := b.createLinkToken(context.Background(), bareRequest())
	require.NoError(t, err)
	assert.Equal(t, lt.LinkToken, blt.LinkToken)
	assert.Equal(t, lt.IntegrationName, blt.IntegrationName)

	require.Len(t, got, 2)
	sdk, base := got[0], got[1]
	assert.Equal(t, sdk.path, base.path)
	assert.Equal(t, string(sdk.body), string(base.body))
	for _, h := range []string{"Authorization", "Accept", "Content-Type", "User-Agent", "Content-Length", "Accept-Encoding"} {
		assert.Equal(t, sdk.header.Get(h), base.header.Get(h), h)
	}
	assert.Regexp(t, uuidV4, sdk.header.Get("Idempotency-Key"))
	assert.Regexp(t, uuidV4, base.header.Get("Idempotency-Key"))
	sdk.header.Del("Idempotency-Key")
	base.header.Del("Idempotency-Key")
	assert.Equal(t, sdk.header, base.header, "no other header differs")
}

func BenchmarkCreateLinkToken(b *testing.B) {
	srv := benchServer(b, nil)
	c, bc := benchClients(b, srv)
	ctx := context.Background()

	b.Run("impl=sdk", func(b *testing.B) {
		p := benchParams()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := c.CreateLinkToken(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=baseline", func(b *testing.B) {
		p := bareRequest()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := bc.createLinkToken(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCreateLinkTokenDefaultClient(b *testing.B) {
	srv := benchServer(b, nil)
	ctx := context.Background()
	// Both use http.DefaultTransport, whose connections to srv end when it
	// closes.
	c, err := mergelink.NewClient(testAPIKey, mergelink.WithBaseURL(srv.URL+"/api"))
	require.NoError(b, err)
	bc := &bare{
		hc:        &http.Client{Timeout: 60 * time.Second},
		url:       srv.URL + "/api/hris/v1/link-token",
		apiKey:    testAPIKey,
		userAgent: "mergelink-go/" + mergelink.Version + " " + runtime.Version(),
	}

	b.Run("impl=sdk", func(b *testing.B) {
		p := benchParams()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := c.CreateLinkToken(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=baseline", func(b *testing.B) {
		p := bareRequest()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := bc.createLinkToken(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateLinkTokenInterleaved sends b.N calls with the SDK and b.N
// with its bare twin to one server, alternating call by call in an order
// that flips each pair, and reports each one's median latency and their
// ratio. Unlike the benchmarks above, which run each implementation alone
// in a loop of its own, both calls here meet the same caches, garbage
// collector and server state, as an SDK call in a real handler meets
// whatever else the program does.
func BenchmarkCreateLinkTokenInterleaved(b *testing.B) {
	srv := benchServer(b, nil)
	c, bc := benchClients(b, srv)
	ctx := context.Background()
	p, bp := benchParams(), bareRequest()
	sdk, bare := make([]time.Duration, b.N), make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		for k := range 2 {
			start := time.Now()
			if (i+k)%2 == 0 {
				if _, err := c.CreateLinkToken(ctx, p); err != nil {
					b.Fatal(err)
				}
				sdk[i] = time.Since(start)
			} else {
				if _, err := bc.createLinkToken(ctx, bp); err != nil {
					b.Fatal(err)
				}
				bare[i] = time.Since(start)
			}
		}
	}
	b.StopTimer()
	slices.Sort(sdk)
	slices.Sort(bare)
	b.ReportMetric(float64(sdk[b.N/2].Nanoseconds()), "sdk-p50-ns")
	b.ReportMetric(float64(bare[b.N/2].Nanoseconds()), "bare-p50-ns")
	b.ReportMetric(float64(sdk[b.N/2])/float64(bare[b.N/2]), "sdk/bare")
}
