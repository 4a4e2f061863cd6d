// Package size measures what importing the SDK costs a program: the
// stripped binary of ./sdk, which creates one link token with the SDK,
// against that of ./bare, which does the same with net/http alone.
package size

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxDelta is issue 24's budget: the SDK adds at most 0.50 MB (1 MB = 1e6
// bytes) to a stripped binary, and the test fails above it. With go-retryablehttp, which the design card names for
// retries, the SDK adds about 0.48 MB: the package's init compiles four
// regexps, which links regexp and the unicode tables (about 0.2 MB). The
// client's retry log is built only by WithLogger, so a program that logs
// nothing links none of log/slog's handlers (about 0.06 MB).
const maxDelta = 500_000

const module = "github.com/mergelink/mergelink"

// needed are the module's packages a link token call may pull in: the
// root package imports agenthandler, which shares the client's settings,
// and delivery and internal/webhookcore, on which its WebhookHandler is
// built (the linker drops their code when the program uses no handler);
// both page their lists through internal/paging.
var needed = []string{
	module,
	module + "/agenthandler",
	module + "/bench/size/sdk",
	module + "/delivery",
	module + "/internal/core",
	module + "/internal/paging", // the root package's and agenthandler's list iterators
	module + "/internal/webhookcore",
	module + "/internal/secret",
	module + "/internal/transport",
	module + "/internal/validate",
	module + "/internal/webhookmac", // the root package verifies webhooks with it
	module + "/mergeerr",            // the error types every package returns
}

// banned are packages a user's program must never link through the SDK.
var banned = []string{
	module + "/mergetest",
	"net/http/httptest",
	"testing",
	"github.com/stretchr/testify",
	"gopkg.in/h2non/gock.v1",
}

func goTool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds two programs; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	return gobin
}

func TestSDKAddsLittleToABinary(t *testing.T) {
	t.Parallel()
	gobin := goTool(t)
	dir := t.TempDir()
	size := func(prog string) int64 {
		out := filepath.Join(dir, prog)
		cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./"+prog)
		msg, err := cmd.CombinedOutput()
		require.NoError(t, err, "go build ./%s: %s", prog, msg)
		fi, err := os.Stat(out)
		require.NoError(t, err)
		return fi.Size()
	}
	sdk, bare := size("sdk"), size("bare")
	delta := sdk - bare
	t.Logf("stripped binaries: sdk %d bytes (%.3f MB), bare %d bytes (%.3f MB), delta %+d bytes (%+.3f MB; 1 MB = 1e6 bytes); budget %.2f MB",
		sdk, float64(sdk)/1e6, bare, float64(bare)/1e6, delta, float64(delta)/1e6, float64(maxDelta)/1e6)
	assert.LessOrEqual(t, delta, int64(maxDelta),
		"the SDK adds %.3f MB (1 MB = 1e6 bytes) to a stripped binary, more than its %.2f MB budget", float64(delta)/1e6, float64(maxDelta)/1e6)
}

func TestSDKPullsInOnlyWhatTheCallNeeds(t *testing.T) {
	t.Parallel()
	gobin := goTool(t)
	out, err := exec.Command(gobin, "list", "-deps", "./sdk").Output()
	require.NoError(t, err, "go list -deps ./sdk")
	deps := strings.Fields(string(out))
	var nonStd []string
	for _, p := range deps {
		if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
			nonStd = append(nonStd, p)
		}
		if strings.HasPrefix(p, module) {
			assert.Contains(t, needed, p, "the SDK pulls in %s, which creating a link token does not need", p)
		}
		for _, b := range banned {
			assert.False(t, p == b || strings.HasPrefix(p, b+"/"), "the SDK pulls in %s", p)
		}
	}
	t.Logf("packages outside the standard library: %s", strings.Join(nonStd, ", "))
	assert.True(t, slices.Contains(deps, module+"/internal/transport"), "go list output %q", deps)
}
