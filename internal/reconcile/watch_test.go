package reconcile

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestWatchNoticesManualChanges(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)
	mustApply(t, r, objs, "rev1")

	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- r.Watch(ctx, objs, func() { calls.Add(1) })
	}()
	eventually(t, 30*time.Second, "watch lists the objects", func() bool { return calls.Load() == 1 })

	for _, step := range []struct {
		name    string
		kubectl []string
	}{
		{"patch", []string{"-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"turbo"}}`}},
		{"scale", []string{"-n", f.ns, "scale", "deployment/web", "--replicas=3"}},
		{"delete", []string{"-n", f.ns, "delete", "service/web"}},
	} {
		t.Run(step.name, func(t *testing.T) {
			before := calls.Load()
			start := time.Now()
			f.kubectl(t, step.kubectl...)
			eventually(t, 5*time.Second, "notify after "+step.name, func() bool { return calls.Load() > before })
			t.Logf("%s noticed in %s", step.name, time.Since(start))
		})
	}

	t.Run("objects gitvend does not manage are ignored", func(t *testing.T) {
		f.kubectl(t, "-n", f.ns, "create", "configmap", "bystander", "--from-literal=k=v")
		before := calls.Load()
		f.kubectl(t, "-n", f.ns, "patch", "configmap/bystander", "-p", `{"data":{"k":"w"}}`)
		// A managed change after the unmanaged one proves events were processed.
		f.kubectl(t, "-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"fast"}}`)
		eventually(t, 5*time.Second, "notify after the managed change", func() bool { return calls.Load() > before })
		if got := calls.Load() - before; got != 1 {
			t.Errorf("%d notifications, want 1 (the managed change only)", got)
		}
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}

func TestMonitorReportsAndHeals(t *testing.T) {
	f := newFixture(t)
	f.target.SelfHeal = true
	f.target.DriftInterval = time.Hour
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)

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
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(reports)
	}
	mustApply(t, r, objs, "rev1")
	eventually(t, 30*time.Second, "first check after apply", func() bool { return count() >= 1 })

	before := count()
	start := time.Now()
	f.kubectl(t, "-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"turbo"}}`)
	eventually(t, 5*time.Second, "drift reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, rep := range reports[before:] {
			if rep.HasDrift() {
				return true
			}
		}
		return false
	})
	t.Logf("drift reported %s after the change", time.Since(start))
	eventually(t, 10*time.Second, "healed and reported clean", func() bool {
		mu.Lock()
		defer mu.Unlock()
		last := reports[len(reports)-1]
		return !last.HasDrift() && last.Revision == "rev1"
	})
	live, _ := f.get(t, "v1", "ConfigMap", f.ns, "settings")
	if mode := live.Object["data"].(map[string]any)["mode"]; mode != "fast" {
		t.Errorf("mode = %v after self-heal, want fast", mode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestMonitorKeepsWatchingTheSameDesiredState: a periodic reconcile that
// observes the content already watched, at the same revision, restarts
// nothing (no new listing, no new check); new content, or a new revision,
// is checked at once.
func TestMonitorKeepsWatchingTheSameDesiredState(t *testing.T) {
	f := newFixture(t)
	f.target.DriftInterval = time.Hour
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)
	var checks atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- r.Monitor(ctx, func(context.Context, *DriftReport) error { checks.Add(1); return nil })
	}()
	mustApply(t, r, objs, "rev1")
	eventually(t, 30*time.Second, "the check after the apply", func() bool { return checks.Load() == 1 })

	again := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		again[i] = o.DeepCopy()
	}
	r.Observe(again, "rev1")
	if !r.Recorded(again) {
		t.Error("the objects observed last are not the ones recorded")
	}
	time.Sleep(2 * time.Second)
	if n := checks.Load(); n != 1 {
		t.Errorf("%d checks after observing the same content, want 1", n)
	}

	r.Observe(again, "rev2")
	eventually(t, 30*time.Second, "a check of the new revision", func() bool { return checks.Load() == 2 })
	changed := slices.Clone(again)
	changed[0] = again[0].DeepCopy()
	changed[0].SetAnnotations(map[string]string{"team": "search"})
	r.Observe(changed, "rev2")
	eventually(t, 30*time.Second, "a check of the new content", func() bool { return checks.Load() == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
