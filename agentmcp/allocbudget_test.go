//go:build !race

// The race detector changes allocation counts, so the budget is checked
// only without it.

package agentmcp_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCallAllocationBudget counts the allocations of one tool call through
// a Session, over loopback to mcptest: the client's and the fake server's,
// which run in this process. testdata/alloc-budget.txt holds the budget
// and the Go it was measured with; the server's share varies a little from
// run to run, so the test fails over the budget, and asks for a lower
// budget only under 90% of it.
func TestCallAllocationBudget(t *testing.T) {
	data, err := os.ReadFile("testdata/alloc-budget.txt")
	require.NoError(t, err)
	var goMinor string
	budget := -1
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "go":
			goMinor = f[1]
		case len(f) == 2 && f[0] == "Call":
			budget, err = strconv.Atoi(f[1])
			require.NoError(t, err)
		}
	}
	require.GreaterOrEqual(t, budget, 0, "testdata/alloc-budget.txt has no Call line")
	if v := runtime.Version(); !strings.HasPrefix(v, "go"+goMinor+".") {
		t.Skipf("the budget was measured with Go %s, this is %s", goMinor, v)
	}

	f := setup(t)
	ctx := context.Background()
	s := f.connect(t)
	res, err := s.Call(ctx, "authenticate_linear", nil)
	require.NoError(t, err)
	f.complete(t, res)
	args := map[string]any{"query": "login"}
	call := func() {
		res, err := s.Call(ctx, "linear_search_issues", args)
		if err != nil || res.NeedsAuth() {
			t.Fatal(err, res)
		}
	}
	call()
	got := int(testing.AllocsPerRun(200, call))
	t.Logf("Call: %d allocs/op, client and fake server together (budget %d)", got, budget)
	if got > budget {
		t.Errorf("a Call allocates %d per op, over its budget of %d: find what allocates, or raise the budget in testdata/alloc-budget.txt and say why in the commit", got, budget)
	}
	if got < budget*9/10 {
		t.Errorf("a Call allocates %d per op, well under its budget of %d: lower the budget in testdata/alloc-budget.txt in this commit", got, budget)
	}
}
