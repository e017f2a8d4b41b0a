package check

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBudgetUseGolden: against a base, the cost part and the text report
// show each budget's use before the change, its amount, the estimate
// after the change, what the change adds and the headroom it had; here a
// pull request raises payments-api's CPU request past the payments
// budget.
func TestBudgetUseGolden(t *testing.T) {
	ctx := context.Background()
	base, head := t.TempDir(), t.TempDir()
	for _, dir := range []string{base, head} {
		if err := os.CopyFS(dir, os.DirFS("../../examples/desired-state")); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(head, "requests/dev/team-payments/payments-api/deployment-payments-api.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "cpu: 250m", "cpu: \"12\"", 1)
	if changed == string(data) {
		t.Fatal("the example's payments-api no longer requests cpu: 250m")
	}
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	ch, err := New(ctx, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ch.For(head).Check(ctx, []string{head}, base)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OverBudget() {
		t.Fatalf("budgets %+v: want payments over budget", rep.Budgets)
	}
	w, err := NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	var md, text bytes.Buffer
	if err := w.CostMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&text, rep, "text", false); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "budget.cost.golden"), md.String())
	var lines []string
	for _, l := range strings.Split(text.String(), "\n") {
		if strings.HasPrefix(l, "  budget ") || strings.HasPrefix(l, "Cost: ") {
			lines = append(lines, l)
		}
	}
	golden(t, filepath.Join("testdata", "budget.text.golden"), strings.Join(lines, "\n")+"\n")
}
