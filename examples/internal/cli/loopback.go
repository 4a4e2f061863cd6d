package cli

import (
	"fmt"
	"net"
)

// LoopbackPort returns the port of addr, which must be a loopback host and
// a port, such as 127.0.0.1:8081. It fails with a usage error otherwise: an
// Agent Handler callback URL is plain http, which Merge allows only for
// http://localhost:PORT, so the server must not be reachable from elsewhere.
func LoopbackPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", Usage(fmt.Errorf("-addr: want a loopback host and a port, such as 127.0.0.1:8081: %w", err))
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", Usage(fmt.Errorf("-addr: %q is not a loopback address: the callback URL is plain http://localhost:PORT, so serve it on 127.0.0.1 or [::1]", addr))
	}
	return port, nil
}
