package mergetest

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/http/httptest"
)

// Listen starts a Server on addr, a host and port such as
// "127.0.0.1:12180" (port 0 picks a free one), where NewServer takes a
// random loopback port: for a server other programs must find, such as
// cmd/mergetest. When the host is unspecified (":12180", "0.0.0.0:12180"),
// URL names the server by 127.0.0.1. Call Close when done. It fails when an
// option is invalid or addr cannot be listened on.
func Listen(addr string, opts ...ServerOption) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mergetest: cannot listen on %q: %w: give a free host:port, or port 0 for any", addr, err)
	}
	s.srv = httptest.NewUnstartedServer(s.routes())
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		s.srv.URL = "http://" + net.JoinHostPort("127.0.0.1", fmt.Sprint(a.Port))
	}
	return s, nil
}

// WithSeed makes the server's ids and tokens (Linked Accounts, link and
// account tokens, issues, deliveries, registered users, ...) come from a
// generator seeded with seed instead of crypto/rand, so that a run that
// makes the same calls in the same order gets the same ones again, as a
// test that prints them may want. Webhook deliveries draw theirs as they
// are queued, so concurrent calls still interleave as they happen to.
func WithSeed(seed uint64) ServerOption {
	return func(c *config) { c.seed = &seed }
}

// seedBytes spreads seed over a ChaCha8 seed.
func seedBytes(seed uint64) (b [32]byte) {
	binary.LittleEndian.PutUint64(b[:], seed)
	return b
}
