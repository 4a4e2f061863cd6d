package mergetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/mergelink/mergelink/internal/transport"
	"github.com/mergelink/mergelink/internal/validate"
)

// reply is what an API handler answers: a status and a value sent as JSON
// (nothing when v is nil).
type reply struct {
	status int
	v      any
}

// handler serves one API operation. It runs with s.mu held, so it may read
// and change the server's state freely but must not lock.
type handler func(r *http.Request, body []byte) reply

// raw is an encoded reply: a status and the JSON body (nil for none).
type raw struct {
	status int
	data   []byte
}

// locked runs f with s.mu held and releases it however f ends, a panic
// included: a lock left held would stop every later request, Requests and
// Close. Every use of s.mu goes through it or a deferred Unlock.
func locked[T any](s *Server, f func() T) T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

// idempotentReply is a Unified POST's answer kept under its Idempotency-Key.
type idempotentReply struct {
	fingerprint [sha256.Size]byte
	at          time.Time
	status      int
	data        []byte
}

// idempotencyTTL is how long Merge keeps an Idempotency-Key.
const idempotencyTTL = 24 * time.Hour

// unified serves a Unified API operation. When idempotent, a request with an
// Idempotency-Key gets the answer the first request with that key, API key
// and account token got, and a request that reuses the key for another
// call or body gets 400.
func (s *Server) unified(f handler, idempotent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // already read into memory by gate
		key := r.Header.Get("Idempotency-Key")
		rep := locked(s, func() raw {
			status, data := s.idempotent(r, body, key, idempotent, f)
			return raw{status, data}
		})
		writeRaw(w, rep.status, rep.data)
	}
}

// idempotent runs f, or replays the answer kept under key. It runs with s.mu
// held.
func (s *Server) idempotent(r *http.Request, body []byte, key string, idempotent bool, f handler) (int, []byte) {
	if !idempotent || key == "" {
		return encode(f(r, body))
	}
	if !validate.IsUUID(key) {
		return encode(problems(newProblem("INVALID_IDEMPOTENCY_KEY", "Invalid Idempotency-Key", "", "The Idempotency-Key header must be a UUID.")))
	}
	fp := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + "\n" + string(body)))
	key = idempotencyScope(r) + key
	if prev, ok := s.idempotency[key]; ok && s.now().Sub(prev.at) < idempotencyTTL {
		if prev.fingerprint != fp {
			return encode(problems(newProblem("IDEMPOTENCY_KEY_REUSED", "Idempotency-Key reused", "", "This Idempotency-Key was already used with other parameters; use a new key for a new request.")))
		}
		return prev.status, prev.data
	}
	status, data := encode(f(r, body))
	s.idempotency[key] = idempotentReply{fingerprint: fp, at: s.now(), status: status, data: data}
	return status, data
}

// idempotencyScope names whose Idempotency-Keys r's key is among: those of
// its API key and account token, hashed so that the map holds neither. The
// same key from another account is another call, never a replay of the
// first account's answer (which may hold its new token).
func idempotencyScope(r *http.Request) string {
	h := sha256.Sum256([]byte(r.Header.Get("Authorization") + "\x00" + r.Header.Get(AccountTokenHeader)))
	return string(h[:]) + "\x00"
}

// agent serves an Agent Handler operation.
func (s *Server) agent(f handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rep := locked(s, func() raw {
			status, data := encode(f(r, body))
			return raw{status, data}
		})
		writeRaw(w, rep.status, rep.data)
	}
}

// encode marshals a reply. It runs under s.mu, so that the state it reads
// is not changed meanwhile.
func encode(rep reply) (int, []byte) {
	if rep.v == nil {
		return rep.status, nil
	}
	data, err := json.Marshal(rep.v)
	if err != nil {
		panic("mergetest: encoding a reply: " + err.Error())
	}
	return rep.status, data
}

func writeRaw(w http.ResponseWriter, status int, data []byte) {
	if data != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(data)
}

// writeError answers an error in the shape of kind's API: Unified errors
// carry a "detail", Agent Handler errors a stable "code".
func writeError(w http.ResponseWriter, kind apiKind, status int, code, message string) {
	var rep reply
	if kind == agentAPI {
		rep = agentError(status, code, message)
	} else {
		rep = detail(status, message)
	}
	writeReply(w, rep)
}

// writeReply answers rep.
func writeReply(w http.ResponseWriter, rep reply) {
	status, data := encode(rep)
	writeRaw(w, status, data)
}

// problem is one entry of a Unified error body's "errors" list.
type problem struct {
	ProblemType string  `json:"problem_type"`
	Title       string  `json:"title"`
	Detail      string  `json:"detail"`
	Source      *source `json:"source,omitempty"`
}

// source points at the request field a problem is about.
type source struct {
	Pointer string `json:"pointer"`
}

// newProblem returns a problem about the field at pointer (a JSON pointer
// such as "/categories/0"), or about the whole request when pointer is "".
func newProblem(typ, title, pointer, detail string) problem {
	p := problem{ProblemType: typ, Title: title, Detail: detail}
	if pointer != "" {
		p.Source = &source{Pointer: pointer}
	}
	return p
}

// problems answers 400 with Merge's write-error body.
func problems(ps ...problem) reply {
	return reply{http.StatusBadRequest, map[string]any{"errors": ps, "warnings": []problem{}}}
}

// detail answers status with a {"detail": ...} body, as Merge does for
// errors that are not about a request's fields.
func detail(status int, message string) reply {
	return reply{status, map[string]string{"detail": message}}
}

func notFound(*http.Request, []byte) reply { return detail(http.StatusNotFound, "Not found.") }

// agentError answers status with Agent Handler's error body.
func agentError(status int, code, message string) reply {
	typ := "api_error"
	switch {
	case status == http.StatusBadRequest:
		typ = "validation_error"
	case status == http.StatusUnauthorized:
		typ = "authentication_error"
	case status == http.StatusNotFound:
		typ = "not_found_error"
	case status == http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case status < 500:
		typ = "invalid_request_error"
	}
	return reply{status, map[string]any{"error": map[string]string{
		"type":              typ,
		"code":              code,
		"message":           message,
		"documentation_url": "https://docs.merge.dev/merge-agent-handler/resources/troubleshooting",
	}}}
}

func agentNotFound(*http.Request, []byte) reply {
	return agentError(http.StatusNotFound, "not_found", "Not found.")
}

// idSource makes a server's ids and tokens: from crypto/rand, or from a
// ChaCha8 seeded WithSeed, so that a run can be made again.
type idSource struct {
	mu     sync.Mutex
	seeded *mrand.ChaCha8 // nil: crypto/rand
}

func (g *idSource) read(b []byte) {
	if g.seeded == nil {
		if _, err := rand.Read(b); err != nil {
			panic("mergetest: reading crypto/rand: " + err.Error())
		}
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seeded.Read(b)
}

// token returns 30 random bytes as 40 URL-safe characters, the look of
// Merge's tokens.
func (g *idSource) token() string {
	var b [30]byte
	g.read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// id returns a random UUID.
func (g *idSource) id() string {
	var b [16]byte
	g.read(b[:])
	return transport.FormatUUID(b)
}
