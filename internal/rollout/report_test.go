package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// unhealthyApply is an apply to dev whose Deployment cannot pull its
// image and whose StatefulSet's pod cannot be scheduled, with detail text
// as hostile as a writer of pod status can make it.
func unhealthyApply(detail string) Applied {
	id := func(kind, name string) manifest.ID {
		return manifest.ID{APIVersion: "apps/v1", Kind: kind, Namespace: "team-a", Name: name}
	}
	return Applied{Target: "dev", Result: &reconcile.Result{Target: "dev", HealthChecked: true, HealthTimedOut: true, Objects: []reconcile.ObjectResult{
		{ID: id("Deployment", "web"), Action: reconcile.Configured, Status: "InProgress",
			Unhealthy: &reconcile.Unhealthy{Reason: reconcile.ImagePullError, Detail: "container app cannot pull image ghcr.io/acme/web:nope (ImagePullBackOff)"}},
		{ID: id("StatefulSet", "db"), Action: reconcile.Unchanged, Status: "InProgress",
			Unhealthy: &reconcile.Unhealthy{Reason: reconcile.Unschedulable, Detail: detail}},
		{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "settings"}, Action: reconcile.Unchanged, Status: "Current"},
	}}}
}

func TestApplyCommentExplainsUnhealthyObjects(t *testing.T) {
	a := unhealthyApply("pod db-0 cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.")
	got := applyComment(strings.Repeat("c", 40), []Applied{a}, 12)
	golden := filepath.Join("testdata", "unhealthy.golden.md")
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (regenerate with UPDATE=1): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("markdown (-want +got), regenerate with UPDATE=1:\n%s", diff)
	}
}

// TestHostileHealthTextIsInert: what the cluster reports is shown as code
// in the comment and the revert's body (no HTML, links, headings or
// mentions rendered, no table broken), and the commit status stays within
// GitHub's limit with the reason first.
func TestHostileHealthTextIsInert(t *testing.T) {
	hostile := "pod db-0 cannot be scheduled: <img src=x onerror=alert(1)> | cell | `code` [click](https://evil.example) @acme/admins # Merged ``` " +
		strings.Repeat("A", reconcile.MaxHealthDetail)
	hostile = textbudget.Line(hostile, textbudget.Chars(reconcile.MaxHealthDetail)) // as the reconciler bounds it
	a := unhealthyApply(hostile)
	a.Result.Objects[0].Unhealthy.Detail = hostile
	bodies := map[string]string{
		"comment": applyComment(strings.Repeat("c", 40), []Applied{a}, 0),
		"revert":  revertBody(merge{sha: strings.Repeat("c", 40), pr: 7}, []string{"dev"}, unhealthyTargets([]Applied{a})),
	}
	for name, body := range bodies {
		rows := 0
		defer func() {
			if rows == 0 {
				t.Errorf("%s shows no reason:\n%s", name, body)
			}
		}()
		for _, line := range strings.Split(body, "\n") {
			if !strings.Contains(line, "onerror") {
				continue
			}
			rows++
			// The row keeps its three cells: every | of the text is escaped.
			if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); cells != 4 {
				t.Errorf("%s: the hostile row has %d cell borders, want 4: %s", name, cells, line)
			}
			// Everything hostile sits inside one code span.
			start := strings.Index(line, "``` ")
			if start < 0 || !strings.Contains(line[start:], "<img") || !strings.Contains(line[start:], "@acme/admins") {
				t.Errorf("%s: the hostile text is not one code span: %s", name, line)
			}
		}
	}
	state, desc := statusOf(a)
	if state != "failure" {
		t.Errorf("state %q, want failure", state)
	}
	line := textbudget.Line(desc, textbudget.Chars(github.MaxStatusDescription))
	if !strings.HasPrefix(line, "not healthy: Deployment/team-a/web image pull error: pod db-0 cannot be scheduled: <img") {
		t.Errorf("status description %q does not start with the reason", line)
	}
	if n := len([]rune(line)); n > github.MaxStatusDescription {
		t.Errorf("status description has %d characters", n)
	}
}
