package reconcile

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/manifest"
)

// TestDriftLeavesQuietFieldsOut: a Deployment scaled to zero outside Git
// is drift, until its replicas are set quiet; a change to another field
// of the same object, or to another object, is still reported.
func TestDriftLeavesQuietFieldsOut(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)
	deploy := objs[2]
	if err := unstructured.SetNestedField(deploy.Object, int64(3), "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, objs, "rev1")
	f.kubectl(t, "-n", f.ns, "patch", "deployment/web", "--type=merge", "-p", `{"spec":{"replicas":0}}`)
	paths := func() []string {
		t.Helper()
		rep, err := r.Drift(t.Context(), objs)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range rep.Objects {
			for _, c := range d.Changes {
				out = append(out, d.ID.Kind+" "+c.Path)
			}
		}
		return out
	}
	if got := paths(); len(got) != 1 || got[0] != "Deployment spec.replicas" {
		t.Fatalf("drift before quiet: %v, want the replicas", got)
	}
	r.SetQuiet(map[manifest.ID][]string{idOf(deploy): {"spec.replicas"}})
	if got := paths(); len(got) != 0 {
		t.Errorf("drift with the replicas quiet: %v, want none", got)
	}
	f.kubectl(t, "-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"turbo"}}`)
	f.kubectl(t, "-n", f.ns, "set", "image", "deployment/web", "app=ghcr.io/acme/web:6.6.6")
	if got := paths(); len(got) != 2 || got[0] != "ConfigMap data.mode" || got[1] != "Deployment spec.template.spec.containers[name=app].image" {
		t.Errorf("drift of other fields with the replicas quiet: %v", got)
	}
	r.SetQuiet(nil)
	if got := paths(); len(got) != 3 {
		t.Errorf("drift once nothing is quiet: %v, want three changes", got)
	}
}

// TestMonitorDropsChecksOutdatedByAnApply forces the interleaving of a
// wake with a drift check: the check reads the woken Deployment while
// the desired state the monitor holds still has it asleep, and reads the
// quiet fields only after the new desired state is recorded and the
// replicas are no longer quiet. Such a check compared the cluster with a
// desired state that is gone and must not be reported; the check of the
// new desired state follows.
func TestMonitorDropsChecksOutdatedByAnApply(t *testing.T) {
	f := newFixture(t)
	f.target.DriftInterval = time.Hour
	r := f.reconciler(t)
	withReplicas := func(n int64) []*unstructured.Unstructured {
		objs := objects(t, f.ns, basicObjects)
		if err := unstructured.SetNestedField(objs[2].Object, n, "spec", "replicas"); err != nil {
			t.Fatal(err)
		}
		return objs
	}
	asleep, awake := withReplicas(0), withReplicas(3)
	replicas := map[manifest.ID][]string{idOf(asleep[2]): {"spec.replicas"}}
	mustApply(t, r, asleep, "rev1")
	r.SetQuiet(replicas)

	// The first check that sees the woken replicas waits in the middle,
	// between reading the cluster and leaving the quiet fields out.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.compared = func(results []ObjectDrift) {
		for _, d := range results {
			for _, c := range d.Changes {
				if d.ID.Kind == "Deployment" && c.Path == "spec.replicas" {
					once.Do(func() { close(entered); <-release })
				}
			}
		}
	}
	var mu sync.Mutex
	var reports []*DriftReport
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- r.Monitor(ctx, func(_ context.Context, rep *DriftReport) error {
			mu.Lock()
			defer mu.Unlock()
			reports = append(reports, rep)
			return nil
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	reported := func(rev string) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(reports, func(rep *DriftReport) bool { return rep.Revision == rev })
	}
	eventually(t, 30*time.Second, "first check", func() bool { return reported("rev1") })

	// Wake as the rollout does: the replicas quiet, the cluster patched,
	// then the woken desired state recorded and the replicas no longer
	// quiet.
	f.kubectl(t, "-n", f.ns, "patch", "deployment/web", "--type=merge", "--field-manager=gitvend-sleep", "-p", `{"spec":{"replicas":3}}`)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("no drift check saw the woken Deployment")
	}
	r.Observe(awake, "rev2")
	r.SetQuiet(nil)
	close(release)
	eventually(t, 30*time.Second, "check of the woken desired state", func() bool { return reported("rev2") })

	mu.Lock()
	defer mu.Unlock()
	for _, rep := range reports {
		if rep.HasDrift() {
			t.Errorf("drift reported at %s: %+v", rep.Revision, rep.Objects)
		}
	}
}

// TestHealWaitsForAChange: a heal asked while a change of the cluster and
// the desired state is under way waits for its end and applies the new
// desired state, never the one the change replaces.
func TestHealWaitsForAChange(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	before := objects(t, f.ns, basicObjects)
	mustApply(t, r, before, "rev1")
	after := objects(t, f.ns, basicObjects)
	if err := unstructured.SetNestedField(after[0].Object, "slow", "data", "mode"); err != nil {
		t.Fatal(err)
	}

	end := r.BeginChange()
	f.kubectl(t, "-n", f.ns, "patch", "configmap/settings", "--field-manager=gitvend-sleep", "-p", `{"data":{"mode":"slow"}}`)
	healed := make(chan error, 1)
	go func() {
		_, err := r.Heal(context.WithoutCancel(t.Context()))
		healed <- err
	}()
	time.Sleep(500 * time.Millisecond)
	r.Observe(after, "rev2")
	select {
	case err := <-healed:
		t.Fatalf("Heal returned (%v) during the change", err)
	default:
	}
	end()
	end() // a second end is harmless
	select {
	case err := <-healed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Heal still waits after the change ended")
	}
	live, _ := f.get(t, "v1", "ConfigMap", f.ns, "settings")
	if mode := live.Object["data"].(map[string]any)["mode"]; mode != "slow" {
		t.Errorf("mode = %v after the heal, want slow, the new desired state's", mode)
	}
}

// TestRecordedNamesTheWatchedObjects: Recorded is true for the very
// objects of the last Apply or Observe, false for others of the same
// content and for those of an apply that failed before recording them.
func TestRecordedNamesTheWatchedObjects(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)
	if r.Recorded(objs) {
		t.Error("Recorded before any apply")
	}
	mustApply(t, r, objs, "rev1")
	if !r.Recorded(objs) {
		t.Error("the applied objects are not Recorded")
	}
	if again := objects(t, f.ns, basicObjects); r.Recorded(again) {
		t.Error("another render of the same objects is Recorded")
	}
	empty := []*unstructured.Unstructured{}
	if _, err := r.Apply(t.Context(), empty, "rev2"); err == nil {
		t.Fatal("an empty render with objects in the inventory applied")
	}
	if r.Recorded(empty) || !r.Recorded(objs) {
		t.Error("an apply that failed early replaced the recorded objects")
	}
	observed := objects(t, f.ns, basicObjects)
	r.Observe(observed, "rev3")
	if !r.Recorded(observed) || r.Recorded(objs) {
		t.Error("Observe did not replace the recorded objects")
	}
}
