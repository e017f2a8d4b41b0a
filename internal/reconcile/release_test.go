package reconcile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// TestReleaseForgetsTheTargetAndDriftAgrees: a released Reconciler keeps
// no object of the target, and once it observes the desired state again
// its drift reports are those of a Reconciler that never let go, before
// and after a change by hand.
func TestReleaseForgetsTheTargetAndDriftAgrees(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)
	mustApply(t, r, objs, "rev1")
	kept := f.reconciler(t)
	kept.Observe(objs, "rev1")

	drift := func(r *Reconciler) []ObjectDrift {
		t.Helper()
		rep, err := r.Drift(t.Context(), objs)
		if err != nil {
			t.Fatal(err)
		}
		// Hidden values are fingerprints keyed per Reconciler: only
		// whether they differ is comparable between two.
		for _, o := range rep.Objects {
			for i, c := range o.Changes {
				if c.Hidden {
					o.Changes[i].Git, o.Changes[i].Live = "hidden", "hidden"
				}
			}
		}
		return rep.Objects
	}
	before := drift(r)
	if desired, seen := r.Holds(); desired != len(objs) || seen == 0 {
		t.Fatalf("before Release: holds %d desired objects and %d comparisons, want %d and some", desired, seen, len(objs))
	}
	r.Release()
	if desired, seen := r.Holds(); desired != 0 || seen != 0 {
		t.Fatalf("after Release: holds %d desired objects and %d comparisons, want none", desired, seen)
	}
	if _, err := r.Heal(t.Context()); err == nil {
		t.Error("Heal after Release: no error, want nothing to heal from")
	}
	r.Observe(objs, "rev1")
	if diff := cmp.Diff(before, drift(r)); diff != "" {
		t.Errorf("drift after Release differs (-before +after):\n%s", diff)
	}
	f.kubectl(t, "-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"turbo"}}`)
	r.Release()
	r.Observe(objs, "rev1")
	got, want := drift(r), drift(kept)
	if len(want) == 0 {
		t.Fatal("the change by hand is not drift to a Reconciler that kept everything")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift after Release differs from a Reconciler that never released (-kept +released):\n%s", diff)
	}
}

// TestWatchCacheKeepsOnlyWhatItReads: the watches store an object's name,
// namespace, UID and resourceVersion and drop the rest; what is not object
// metadata passes through.
func TestWatchCacheKeepsOnlyWhatItReads(t *testing.T) {
	in := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "team-a", UID: "u-1", ResourceVersion: "42",
			Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{…}"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply}},
			Finalizers:    []string{"f"}, OwnerReferences: []metav1.OwnerReference{{Name: "o"}}},
	}
	out, err := slimMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &metav1.PartialObjectMetadata{TypeMeta: in.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "team-a", UID: "u-1", ResourceVersion: "42"}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if len(in.ManagedFields) != 1 || in.Labels["a"] != "b" {
		t.Error("the object given was changed")
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "team-a/settings", Obj: want}
	if got, err := slimMetadata(tomb); err != nil || got != any(tomb) {
		t.Errorf("a tombstone: got %v, %v; want it unchanged", got, err)
	}
}
