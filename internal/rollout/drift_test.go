package rollout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

func sampleReport() *reconcile.DriftReport {
	many := make([]reconcile.FieldChange, shownChanges+2)
	for i := range many {
		many[i] = reconcile.FieldChange{Path: fmt.Sprintf("data.key-%02d", i), Git: fmt.Sprintf(`"#%08x"`, i), Live: fmt.Sprintf(`"#%08x"`, 1000+i), Hidden: true}
	}
	return &reconcile.DriftReport{
		Target:   "prod",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Checked:  12,
		Objects: []reconcile.ObjectDrift{
			{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-payments", Name: "many"}, Changes: many},
			{ID: manifest.ID{APIVersion: "v1", Kind: "Secret", Namespace: "team-payments", Name: "creds"}, Changes: []reconcile.FieldChange{
				{Path: "data.password", Git: `"` + reconcile.Masked + `"`, Live: `"` + reconcile.Masked + `"`, Hidden: true},
				{Path: "data.token", Git: `"` + reconcile.Masked + `"`, Hidden: true},
			}},
			{ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-payments", Name: "payments-api"}, Changes: []reconcile.FieldChange{
				{Path: "metadata.labels[gitvend.dev/owner]", Git: `"payments"`},
				{Path: "spec.template.spec.containers[name=app].image", Git: `"ghcr.io/acme/payments:1.4.2"`, Live: `"ghcr.io/acme/payments:1.4.3"`},
				{Path: "spec.template.spec.containers[name=app].args", Git: `"#3f2a1b0c"`, Live: `"#0c1b2a3f"`, Hidden: true},
				{Path: "spec.template.spec.containers[name=app].env[name=MODE].value", Live: `"#77aa88bb"`, Hidden: true},
				{Path: "spec.template.spec.containers[name=app].ports", Git: `[{"containerPort":8080,"name":"a|b"}]`, Live: "[{\"containerPort\":80,\"name\":\"`x`\"}]"},
			}},
			{ID: manifest.ID{APIVersion: "v1", Kind: "Service", Namespace: "team-payments", Name: "payments-api"}, Missing: true},
			{ID: manifest.ID{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Namespace: "team-payments", Name: "web"}, Error: "dry-run failed:\nadmission webhook denied"},
		},
	}
}

func TestDriftMarkdownGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  *reconcile.DriftReport
	}{
		{"drift", sampleReport()},
		{"one-object", &reconcile.DriftReport{Target: "dev", Checked: 1, Objects: []reconcile.ObjectDrift{
			{ID: manifest.ID{APIVersion: "v1", Kind: "Namespace", Name: "team-search"}, Missing: true},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := driftBody(tc.rep)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := driftBody(tc.rep)
			if got != again {
				t.Fatal("the same report rendered twice differs")
			}
			golden := filepath.Join("testdata", tc.name+".golden.md")
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
		})
	}
}

func TestDriftTitleIsStable(t *testing.T) {
	if got := DriftTitle(sampleReport().Target); got != "Drift on target prod" {
		t.Errorf("title = %q", got)
	}
}

// recordingTracker records the calls a driftIssue makes.
type recordingTracker struct {
	calls []string
	fail  error
}

func (r *recordingTracker) OpenOrUpdate(_ context.Context, title, body string) (int, error) {
	if r.fail != nil {
		return 0, r.fail
	}
	r.calls = append(r.calls, "open "+title+": "+firstLine(body, "differ"))
	return 7, nil
}

func (r *recordingTracker) Resolve(_ context.Context, title, comment string) error {
	if r.fail != nil {
		return r.fail
	}
	r.calls = append(r.calls, "resolve "+title+": "+comment)
	return nil
}

// firstLine returns the first line of s containing substr.
func firstLine(s, substr string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

func TestDriftIssue(t *testing.T) {
	tracker := &recordingTracker{}
	rep := newDriftIssue(tracker, nil)
	clean := &reconcile.DriftReport{Target: "prod", Revision: "abc", Checked: 2}
	drift := &reconcile.DriftReport{Target: "prod", Revision: "abc", Checked: 2, Objects: []reconcile.ObjectDrift{
		{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "b"}, Missing: true},
	}}
	more := &reconcile.DriftReport{Target: "prod", Revision: "abc", Checked: 2, Objects: append(drift.Objects,
		reconcile.ObjectDrift{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "c"}, Missing: true})}

	steps := []struct {
		rep  *reconcile.DriftReport
		want []string
	}{
		// Nothing known at start: a clean report resolves any issue left open.
		{clean, []string{"resolve Drift on target prod: The live objects on target prod match Git again at `abc`."}},
		{clean, nil},
		{drift, []string{"open Drift on target prod: Live objects on target **prod** differ from Git at `abc`: 1 of 2 objects."}},
		{drift, nil},
		{more, []string{"open Drift on target prod: Live objects on target **prod** differ from Git at `abc`: 2 of 2 objects."}},
		{clean, []string{"resolve Drift on target prod: The live objects on target prod match Git again at `abc`."}},
		{clean, nil},
	}
	for i, s := range steps {
		tracker.calls = nil
		if err := rep.Report(t.Context(), s.rep); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if diff := cmp.Diff(s.want, tracker.calls); diff != "" {
			t.Errorf("step %d calls (-want +got):\n%s", i, diff)
		}
	}

	t.Run("a failed call is tried again", func(t *testing.T) {
		tracker.fail = errors.New("github down")
		if err := rep.Report(t.Context(), drift); err == nil {
			t.Fatal("no error from a failing tracker")
		}
		tracker.fail, tracker.calls = nil, nil
		if err := rep.Report(t.Context(), drift); err != nil {
			t.Fatal(err)
		}
		if len(tracker.calls) != 1 {
			t.Errorf("calls after recovery = %v, want one open", tracker.calls)
		}
	})
}
