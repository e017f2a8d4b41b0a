package policy

import (
	"context"
	"strings"
	"testing"
)

// TestRegoUnitTests runs every built-in Rego unit test and lists each one
// that fails.
func TestRegoUnitTests(t *testing.T) {
	results, err := Test(context.Background(), nil)
	if err != nil {
		t.Fatalf("Test: %v", err)
	}
	if len(results) == 0 {
		t.Fatal("no Rego unit tests found")
	}
	var failed []string
	for _, r := range results {
		if !r.Passed {
			failed = append(failed, r.String())
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d Rego unit tests failed:\n%s", len(failed), len(results), strings.Join(failed, "\n"))
	}
	t.Logf("%d Rego unit tests passed", len(results)-len(failed))
}
