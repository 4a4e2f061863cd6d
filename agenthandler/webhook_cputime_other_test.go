//go:build !unix

package agenthandler_test

import "testing"

// reportCPU reports nothing where getrusage is missing.
func reportCPU(*testing.B) {}
