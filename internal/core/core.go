// Package core holds what the root package hands the agenthandler package:
// the transport, the base URLs and the allowed callback origins.
package core

import (
	"errors"
	"unsafe"

	"github.com/mergelink/mergelink/internal/transport"
)

// ErrNoAgentHandlerHost is returned by every Agent Handler call in a region
// for which Merge publishes no Agent Handler host, unless a base URL was set.
var ErrNoAgentHandlerHost = errors.New("mergelink: Merge publishes no Agent Handler host for this region (APAC); set one with mergelink.WithAgentHandlerBaseURL")

// Settings is a client's resolved configuration.
type Settings struct {
	Transport *transport.Transport
	// UnifiedBase is the Unified API base URL, without a trailing slash.
	UnifiedBase string
	// AgentBase is the Agent Handler base URL, or empty with AgentBaseErr
	// set when the region has none.
	AgentBase    string
	AgentBaseErr error
	// AllowedOrigins are the normalised allowed callback origins; empty
	// means not checked.
	AllowedOrigins []string
}

// NewAgentHandler makes an *agenthandler.Client for s, which only the root
// package converts back from the unsafe.Pointer. Package agenthandler sets
// it when it is initialized, before the root package that imports it, so
// that agenthandler exports no constructor taking Settings. It is no
// interface: a client type held in one made the linker keep methods of
// every type the settings reach, 16 KB more in a program that makes one
// link token.
var NewAgentHandler func(s *Settings) unsafe.Pointer
