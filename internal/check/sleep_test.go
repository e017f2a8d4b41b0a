package check

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/cost"
)

// TestCostShowsSleepSavings: with a sleep schedule for dev's team
// namespaces, the cost part says, per namespace of the objects checked,
// how long it sleeps and what that saves.
func TestCostShowsSleepSavings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/desired-state")); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "gitvend.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, "\nsleep:\n- environments: [dev]\n  namespaces: [\"team-*\"]\n  sleep: \"0 19 * * MON-FRI\"\n  wake: \"0 8 * * MON-FRI\"\n  timezone: Europe/Berlin\n"...)
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	ch, err := New(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ch.Check(ctx, []string{dir}, "")
	if err != nil {
		t.Fatal(err)
	}
	var namespaces []string
	for _, s := range rep.Cost.Savings {
		namespaces = append(namespaces, s.Environment+"/"+s.Namespace)
		if s.HoursPerWeek != 113 || s.Monthly <= 0 || s.Monthly >= rep.Cost.ByNamespace[s.Namespace] {
			t.Errorf("saving %+v: want 113 h/week and a part of the namespace's %v", s, rep.Cost.ByNamespace[s.Namespace])
		}
	}
	if got := strings.Join(namespaces, ","); got != "dev/team-payments,dev/team-search" {
		t.Fatalf("savings for %s, want dev's team namespaces", got)
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
	for _, s := range rep.Cost.Savings {
		row := "| `" + s.Namespace + "` in dev | 113 h/week | " + cost.FormatMoney(rep.Cost.Currency, s.Monthly) + "/month |"
		if !strings.Contains(md.String(), row) {
			t.Errorf("the cost check lacks %q:\n%s", row, md.String())
		}
		if line := "sleep " + s.String(rep.Cost.Currency); !strings.Contains(text.String(), line) {
			t.Errorf("the text report lacks %q:\n%s", line, text.String())
		}
	}
}
