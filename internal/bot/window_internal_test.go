package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/reconcile"
)

// TestPlanSectionSaysWhenHeld: a target whose environment is in a change
// window says when a merge will be applied; one without a known end says
// so; one not held says nothing of windows.
func TestPlanSectionSaysWhenHeld(t *testing.T) {
	until := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	held := planSection(&reconcile.Plan{Target: "prod", Environments: []string{"prod"}, HeldBy: "weekend-freeze", HeldUntil: until}, nil)
	if want := "**Change window:** the target's environment is in the change window `weekend-freeze`: merged now, this will be applied after 2026-12-07 05:00 UTC."; !strings.Contains(held, want) {
		t.Errorf("held plan:\n%s\nwant a line\n%s", held, want)
	}
	open := planSection(&reconcile.Plan{Target: "prod", Environments: []string{"prod"}, HeldBy: "office-hours"}, nil)
	if !strings.Contains(open, "will be applied when the window lets it go") {
		t.Errorf("held plan without an end:\n%s", open)
	}
	if free := planSection(&reconcile.Plan{Target: "prod", Environments: []string{"prod"}}, nil); strings.Contains(free, "Change window") {
		t.Errorf("a plan outside windows speaks of one:\n%s", free)
	}
	run := planRun("abc", []*reconcile.Plan{{Target: "prod", HeldBy: "weekend-freeze", HeldUntil: until}}, nil)
	if !strings.Contains(run.Summary, "will be applied after 2026-12-07 05:00 UTC") {
		t.Errorf("the plan run does not say when:\n%s", run.Summary)
	}
}
