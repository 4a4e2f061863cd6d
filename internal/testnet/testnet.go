// Package testnet gives the tests of this repository's modules a loopback
// address that refuses connections.
package testnet

import (
	"net"
	"testing"
)

// RefusedAddr returns a loopback address, host:port, that refuses
// connections for as long as the test runs.
//
// The address of a listener that was closed is no such thing: tests run in
// parallel, and the next httptest server in the process may be given the
// same port and answer the requests that were meant to fail, which is how
// one test's calls once reached another test's server. This port stays
// taken: it is the local end of a connection the test holds open, so no
// listener can bind it, and nothing listens on it, so a connection to it is
// refused.
func RefusedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testnet: listening: %v", err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatalf("testnet: dialing: %v", err)
	}
	server, err := ln.Accept() // so that closing the listener does not reset the connection
	if err != nil {
		client.Close()
		tb.Fatalf("testnet: accepting: %v", err)
	}
	tb.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client.LocalAddr().String()
}
