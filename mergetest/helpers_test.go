package mergetest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/mergetest"
)

// answer is an HTTP response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(a.body, &v), "body: %s", a.body)
	return v
}

// problem is one of the errors of a 400 answer in Merge's form.
type problem struct {
	ProblemType string `json:"problem_type"`
	Title       string
	Detail      string
	Source      struct{ Pointer string }
}

// problems decodes the errors of a 400 answer in Merge's form.
func (a answer) problems(t *testing.T) []problem {
	t.Helper()
	var body struct{ Errors []problem }
	require.NoError(t, json.Unmarshal(a.body, &body), "body: %s", a.body)
	return body.Errors
}

// send makes a request to srv with its API key, plain net/http, and reads
// the answer. Headers come as name, value pairs; an empty key replaces the
// Authorization header's. It stops the test when the request fails, so it
// runs on the test's goroutine only; elsewhere use do.
func send(t *testing.T, srv *mergetest.Server, method, path, body string, headers ...string) answer {
	t.Helper()
	a, err := do(srv, method, path, body, headers...)
	require.NoError(t, err)
	return a
}

// do is send returning its error, for goroutines other than the test's.
func do(srv *mergetest.Server, method, path, body string, headers ...string) (answer, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL()+path, r)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{resp.StatusCode, resp.Header, data}, nil
}

// expectCall sends a request with do, checks that the answer has status
// and decodes its body into v unless v is nil. It returns what went wrong,
// for goroutines other than the test's.
func expectCall(srv *mergetest.Server, method, path, body string, status int, v any) error {
	a, err := do(srv, method, path, body)
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: %w", method, path, err)
	case a.status != status:
		return fmt.Errorf("%s %s answered %d, want %d: %s", method, path, a.status, status, a.body)
	case v != nil:
		if err := json.Unmarshal(a.body, v); err != nil {
			return fmt.Errorf("%s %s: decoding %s: %w", method, path, a.body, err)
		}
	}
	return nil
}

// linkBody is a valid link-token body; extra fields are merged in, and a
// nil value removes a field.
func linkBody(t *testing.T, extra map[string]any) string {
	t.Helper()
	b := map[string]any{
		"end_user_email_address":     "jane@example.com",
		"end_user_organization_name": "Example Organization",
		"end_user_origin_id":         "12345678910",
		"categories":                 []string{"ats"},
	}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	data, err := json.Marshal(b)
	require.NoError(t, err)
	return string(data)
}

// newLinkToken creates a link token and returns it, posting to the path of
// the first of the body's categories.
func newLinkToken(t *testing.T, srv *mergetest.Server, extra map[string]any) string {
	t.Helper()
	category := "ats"
	if cats, ok := extra["categories"].([]string); ok && len(cats) > 0 {
		category = cats[0]
	}
	a := send(t, srv, "POST", "/api/"+category+"/v1/link-token", linkBody(t, extra))
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	return a.json(t)["link_token"].(string)
}

// hook is a webhook as a receiver got it: a Unified API webhook's
// signature and hook.event, or an Agent Handler webhook's agentSignature
// and event.
type hook struct {
	body           []byte
	signature      string
	agentSignature string
	event          string
}

// receiver is a webhook endpoint that answers 500 to the first failFirst
// requests and 200 to the rest, and hands every request to got.
type receiver struct {
	*httptest.Server
	got chan hook

	mu       sync.Mutex
	failLeft int
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	t.Helper()
	return newFailingReceiver(t, failFirst, http.StatusInternalServerError)
}

// newFailingReceiver is newReceiver answering status, rather than 500, to
// the first failFirst requests.
func newFailingReceiver(t *testing.T, failFirst, status int) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan hook, 64), failLeft: failFirst}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p struct {
			Hook  struct{ Event string } `json:"hook"`
			Event string                 `json:"event"`
		}
		_ = json.Unmarshal(body, &p)
		if p.Hook.Event == "" {
			p.Hook.Event = p.Event
		}
		rc.mu.Lock()
		fail := rc.failLeft > 0
		if fail {
			rc.failLeft--
		}
		rc.mu.Unlock()
		rc.got <- hook{body: body, signature: r.Header.Get("X-Merge-Webhook-Signature"), agentSignature: r.Header.Get("X-Merge-Signature"), event: p.Hook.Event}
		if fail {
			http.Error(w, "refused", status)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}
