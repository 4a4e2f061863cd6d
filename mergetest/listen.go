package mergetest

import (
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
