package reconcile

import (
	"testing"

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
