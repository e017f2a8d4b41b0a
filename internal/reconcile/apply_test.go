package reconcile

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/retry"
)

func TestApplyCreatesThenWritesNothing(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)

	res := mustApply(t, r, objs, "rev1")
	want := map[string]Action{
		"ConfigMap/" + f.ns + "/settings": Created,
		"Service/" + f.ns + "/web":        Created,
		"Deployment/" + f.ns + "/web":     Created,
	}
	checkActions(t, res, want)
	inv := inventoryOf(t, r)
	if inv.revision != "rev1" || len(inv.entries) != 3 {
		t.Fatalf("inventory = revision %q, %d entries; want rev1 and 3", inv.revision, len(inv.entries))
	}

	for _, tc := range []struct {
		name string
		r    *Reconciler
	}{
		{"same reconciler", r},
		{"new reconciler compares every object", f.reconciler(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.writes.n.Store(0)
			res := mustApply(t, tc.r, objs, "rev1")
			for id, a := range actions(res) {
				if a != Unchanged {
					t.Errorf("%s: %s, want unchanged", id, a)
				}
			}
			if n := f.writes.n.Load(); n != 0 {
				t.Errorf("re-apply made %d writes, want 0", n)
			}
		})
	}

	t.Run("changed object is configured", func(t *testing.T) {
		changed := objects(t, f.ns, basicObjects)
		unstructured.SetNestedField(changed[0].Object, "slow", "data", "mode")
		res := mustApply(t, r, changed, "rev2")
		if got := actions(res)["ConfigMap/"+f.ns+"/settings"]; got != Configured {
			t.Errorf("changed ConfigMap: %s, want configured", got)
		}
		if got := res.Count(Unchanged); got != 2 {
			t.Errorf("unchanged = %d, want 2", got)
		}
		live, _ := f.get(t, "v1", "ConfigMap", f.ns, "settings")
		if mode, _, _ := unstructured.NestedString(live.Object, "data", "mode"); mode != "slow" {
			t.Errorf("live mode = %q, want slow", mode)
		}
	})
}

func TestApplyPrunesOnlyWhatItOwns(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	all := objects(t, f.ns, basicObjects+`
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: going
  namespace: %[1]s
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: disowned
  namespace: %[1]s
data: {k: v}
`)
	mustApply(t, r, all, "rev1")

	// An object gitvend never applied, in the same namespace.
	f.kubectl(t, "-n", f.ns, "create", "configmap", "unowned", "--from-literal=k=v")
	// An applied object another tool took over: gitvend's field manager
	// entry and managed-by label are gone.
	if err := f.client.Patch(t.Context(), stub(idOf(all[4])), client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"managedFields":[{}],"labels":{"app.kubernetes.io/managed-by":"another-tool"}}}`))); err != nil {
		t.Fatalf("strip managed fields: %v", err)
	}

	res := mustApply(t, r, all[:3], "rev2")
	want := map[string]Action{
		"ConfigMap/" + f.ns + "/settings": Unchanged,
		"Service/" + f.ns + "/web":        Unchanged,
		"Deployment/" + f.ns + "/web":     Unchanged,
		"ConfigMap/" + f.ns + "/going":    Deleted,
		"ConfigMap/" + f.ns + "/disowned": Skipped,
	}
	checkActions(t, res, want)
	for name, exists := range map[string]bool{"going": false, "disowned": true, "unowned": true, "settings": true} {
		if _, ok := f.get(t, "v1", "ConfigMap", f.ns, name); ok != exists {
			t.Errorf("ConfigMap %s exists = %v, want %v", name, ok, exists)
		}
	}
	inv := inventoryOf(t, r)
	if len(inv.entries) != 3 {
		t.Errorf("inventory has %d entries, want 3: %v", len(inv.entries), inv.entries)
	}

	t.Run("empty render prunes nothing", func(t *testing.T) {
		res, err := r.Apply(t.Context(), nil, "rev3")
		var empty *EmptyRenderError
		if !errors.As(err, &empty) || empty.Inventory != 3 {
			t.Fatalf("Apply(nil) error = %v, want EmptyRenderError with 3 objects", err)
		}
		if !strings.Contains(err.Error(), "render is empty") || retry.IsRetryable(err) {
			t.Errorf("error %q should say the render is empty and not be retryable", err)
		}
		if len(res.Objects) != 0 {
			t.Errorf("results = %v, want none", res.Objects)
		}
		if _, ok := f.get(t, "v1", "ConfigMap", f.ns, "settings"); !ok {
			t.Error("settings was deleted by an empty render")
		}
	})
}

func TestApplyRefusesWhatTheTargetDoesNotAllow(t *testing.T) {
	f := newFixture(t)
	f.target.ClusterScopedKinds = []string{"Namespace"}
	r := f.reconciler(t)
	objs := objects(t, f.ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: allowed, namespace: %[1]s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: elsewhere, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: %[1]s-escalate}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s-other}
`)
	res, err := r.Apply(t.Context(), objs, "rev1")
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Refused != 3 || ae.Failed != 0 || ae.Retryable {
		t.Fatalf("error = %#v, want ApplyError with 3 refused, not retryable", err)
	}
	want := map[string]Action{
		"ConfigMap/" + f.ns + "/allowed":    Created,
		"ConfigMap/kube-system/elsewhere":   Refused,
		"ClusterRole/" + f.ns + "-escalate": Refused,
		"Namespace/" + f.ns + "-other":      Refused,
	}
	checkActions(t, res, want)
	for _, o := range res.Objects {
		if o.Action == Refused && !strings.Contains(o.Message, "not allowed on target "+f.target.Name) {
			t.Errorf("%s: message %q does not say what the target allows", o.ID, o.Message)
		}
	}
	if _, ok := f.get(t, "v1", "ConfigMap", "kube-system", "elsewhere"); ok {
		t.Error("refused ConfigMap was created")
	}
	if _, ok := f.get(t, "rbac.authorization.k8s.io/v1", "ClusterRole", "", f.ns+"-escalate"); ok {
		t.Error("refused ClusterRole was created")
	}
}

func TestApplyStagesNamespacesFirst(t *testing.T) {
	f := newFixture(t)
	ns := f.ns + "-app"
	f.target.Namespaces = []string{f.ns + "-*"}
	f.target.ClusterScopedKinds = []string{"Namespace"}
	r := f.reconciler(t)
	// The namespace comes last: staging must still create it first.
	objs := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: inside, namespace: %[1]s}
---
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
`)
	res := mustApply(t, r, objs, "rev1")
	want := map[string]Action{"ConfigMap/" + ns + "/inside": Created, "Namespace/" + ns: Created}
	checkActions(t, res, want)
}

func TestApplyImmutableChange(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	const cm = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: frozen
  namespace: %[1]s
  annotations: {%[2]s}
immutable: true
data: {k: %[3]s}
`
	frozen := func(annotations, value string) []*unstructured.Unstructured {
		return objects(t, f.ns, strings.ReplaceAll(strings.ReplaceAll(cm, "%[2]s", annotations), "%[3]s", value))
	}
	mustApply(t, r, frozen("", "one"), "rev1")
	uid := func() types.UID {
		live, _ := f.get(t, "v1", "ConfigMap", f.ns, "frozen")
		return live.GetUID()
	}
	before := uid()

	res, err := r.Apply(t.Context(), frozen("", "two"), "rev2")
	if err == nil || retry.IsRetryable(err) {
		t.Fatalf("immutable change: error = %v, want a permanent error", err)
	}
	o := res.Objects[0]
	if o.Action != Failed || !strings.Contains(o.Message, "immutable") || !strings.Contains(o.Message, RecreateAnnotation) {
		t.Fatalf("result = %+v, want failed naming the immutable field and the opt-in annotation", o)
	}
	if uid() != before {
		t.Fatal("object was recreated without opting in")
	}

	res = mustApply(t, r, frozen(`gitvend.dev/recreate: "true"`, "two"), "rev3")
	if o := res.Objects[0]; o.Action != Recreated {
		t.Fatalf("result = %+v, want recreated", o)
	}
	live, _ := f.get(t, "v1", "ConfigMap", f.ns, "frozen")
	if v, _, _ := unstructured.NestedString(live.Object, "data", "k"); v != "two" || live.GetUID() == before {
		t.Errorf("live data.k = %q (uid changed: %v), want two from a new object", v, live.GetUID() != before)
	}
}

func TestApplyReportOnlyWritesNothing(t *testing.T) {
	f := newFixture(t)
	objs := objects(t, f.ns, basicObjects)
	mustApply(t, f.reconciler(t), objs[:1], "rev1")

	f.target.ReportOnly = true
	f.target.Prune = true
	r := f.reconciler(t)
	f.writes.n.Store(0)
	changed := objects(t, f.ns, basicObjects)
	unstructured.SetNestedField(changed[0].Object, "slow", "data", "mode")
	res := mustApply(t, r, changed[1:], "rev2")
	if !res.DryRun {
		t.Error("result is not marked as a dry-run")
	}
	want := map[string]Action{
		"Service/" + f.ns + "/web":        Created,
		"Deployment/" + f.ns + "/web":     Created,
		"ConfigMap/" + f.ns + "/settings": Deleted,
	}
	checkActions(t, res, want)
	res = mustApply(t, r, changed, "rev2")
	if got := actions(res)["ConfigMap/"+f.ns+"/settings"]; got != Configured {
		t.Errorf("changed ConfigMap: %s, want configured", got)
	}
	if n := f.writes.n.Load(); n != 0 {
		t.Errorf("report-only apply made %d writes, want 0", n)
	}
	if _, ok := f.get(t, "v1", "Service", f.ns, "web"); ok {
		t.Error("report-only apply created a Service")
	}
	live, _ := f.get(t, "v1", "ConfigMap", f.ns, "settings")
	if mode, _, _ := unstructured.NestedString(live.Object, "data", "mode"); mode != "fast" {
		t.Errorf("live mode = %q, want fast", mode)
	}
}

func TestApplyHealth(t *testing.T) {
	f := newFixture(t)
	f.target.HealthTimeout = 1500 * time.Millisecond
	r := f.reconciler(t)
	start := time.Now()
	res := mustApply(t, r, objects(t, f.ns, basicObjects), "rev1")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("apply with a 1.5s health timeout took %s", took)
	}
	if !res.HealthChecked || !res.HealthTimedOut || res.Healthy() {
		t.Errorf("health checked %v, timed out %v, healthy %v; want checked, timed out, unhealthy", res.HealthChecked, res.HealthTimedOut, res.Healthy())
	}
	got := map[string]string{}
	for _, o := range res.Objects {
		got[o.ID.String()] = o.Status
	}
	want := map[string]string{
		"ConfigMap/" + f.ns + "/settings": "Current",
		"Service/" + f.ns + "/web":        "Current",
		"Deployment/" + f.ns + "/web":     "InProgress",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestApplyConvergesAfterTheAPIServerGoesAway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane of its own")
	}
	env := kubetest.ForTest(t)
	f := newFixtureOn(t, env)
	r := f.reconciler(t)
	var objs []*unstructured.Unstructured
	for i := range 300 {
		objs = append(objs, configMapObject(f.ns, "cm-"+strconv.Itoa(i)))
	}
	stopped := make(chan error, 1)
	f.writes.setHook(func(n int64) {
		if n == 40 {
			stopped <- env.StopAPIServer()
		}
	})
	res, err := r.Apply(t.Context(), objs, "rev1")
	if stopErr := <-stopped; stopErr != nil {
		t.Fatalf("stop API server: %v", stopErr)
	}
	f.writes.setHook(nil)
	if err == nil {
		t.Fatal("apply with the API server gone returned no error")
	}
	if !retry.IsRetryable(err) {
		t.Errorf("error %v is not retryable", err)
	}
	if res.Count(Failed) == 0 {
		t.Errorf("no object failed: %s", res.Summary())
	}
	if n := res.Count(Created) + res.Count(Failed); n != len(objs) {
		t.Errorf("created + failed = %d, want %d (%s)", n, len(objs), res.Summary())
	}

	if err := env.StartAPIServer(t.Context()); err != nil {
		t.Fatalf("start API server: %v", err)
	}
	res = mustApply(t, r, objs, "rev1")
	if res.Count(Created)+res.Count(Unchanged) != len(objs) {
		t.Fatalf("second apply: %s", res.Summary())
	}
	rep, err := r.Drift(t.Context(), objs)
	if err != nil || rep.HasDrift() {
		t.Fatalf("drift after converging: %v, %+v", err, rep)
	}
}

func TestApplyExampleEnvironment(t *testing.T) {
	f := newFixture(t)
	repo := exampleRepo(t)
	f.target.Namespaces = []string{"team-payments", "team-search"}
	f.target.ClusterScopedKinds = []string{"Namespace"}
	objs, err := Desired(t.Context(), repo, f.target)
	if err != nil {
		t.Fatal(err)
	}
	// Namespaces the example uses without declaring them must exist.
	declared := map[string]bool{}
	for _, o := range objs {
		if keyOf(o).isNamespace() {
			declared[o.GetName()] = true
		}
	}
	for _, name := range f.target.Namespaces {
		if !declared[name] {
			ns := &unstructured.Unstructured{}
			ns.SetAPIVersion("v1")
			ns.SetKind("Namespace")
			ns.SetName(name)
			if err := f.client.Create(t.Context(), ns); client.IgnoreAlreadyExists(err) != nil {
				t.Fatal(err)
			}
		}
	}
	r := f.reconciler(t)
	res := mustApply(t, r, objs, "examples")
	// Objects an earlier run of this test applied are unchanged.
	if res.Count(Created)+res.Count(Unchanged) != len(objs) {
		t.Fatalf("first apply: %s; failures %v", res.Summary(), failures(res))
	}
	f.writes.n.Store(0)
	res = mustApply(t, f.reconciler(t), objs, "examples")
	if res.Count(Unchanged) != len(objs) || f.writes.n.Load() != 0 {
		t.Fatalf("re-apply: %s with %d writes", res.Summary(), f.writes.n.Load())
	}
	rep, err := f.reconciler(t).Drift(t.Context(), objs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.HasDrift() {
		t.Fatalf("drift right after apply: %+v", rep.Objects)
	}
}

// configMapObject returns a small ConfigMap.
func configMapObject(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"data":       map[string]any{"key": "value of " + name},
	}}
}

func TestApplyCRDThenCustomResources(t *testing.T) {
	f := newFixture(t)
	f.target.ClusterScopedKinds = []string{"CustomResourceDefinition"}
	r := f.reconciler(t)
	// The custom resource comes first: staging must establish its CRD first.
	objs := objects(t, f.ns, `
apiVersion: %[1]s.example.com/v1
kind: Widget
metadata: {name: gear, namespace: %[1]s}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.%[1]s.example.com}
spec:
  group: %[1]s.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 1}
              color: {type: string, default: grey}
`)
	res := mustApply(t, r, objs, "rev1")
	want := map[string]Action{
		"Widget/" + f.ns + "/gear":                                  Created,
		"CustomResourceDefinition/widgets." + f.ns + ".example.com": Created,
	}
	checkActions(t, res, want)
	f.writes.n.Store(0)
	res = mustApply(t, f.reconciler(t), objs, "rev1")
	if res.Count(Unchanged) != 2 || f.writes.n.Load() != 0 {
		t.Errorf("re-apply: %s with %d writes", res.Summary(), f.writes.n.Load())
	}
	// The schema's defaults (color) are not drift.
	rep, err := f.reconciler(t).Drift(t.Context(), objs)
	if err != nil || rep.HasDrift() {
		t.Errorf("drift = %+v, %v; want none", rep, err)
	}

	// Someone else's Widget keeps the CRD from being pruned.
	foreign := objs[0].DeepCopy()
	foreign.SetName("foreign")
	if err := f.client.Create(t.Context(), foreign); err != nil {
		t.Fatalf("create foreign widget: %v", err)
	}
	rest := []*unstructured.Unstructured{configMapObject(f.ns, "keep")}
	res = mustApply(t, r, rest, "rev2")
	checkActions(t, res, map[string]Action{
		"ConfigMap/" + f.ns + "/keep":                               Created,
		"Widget/" + f.ns + "/gear":                                  Deleted,
		"CustomResourceDefinition/widgets." + f.ns + ".example.com": Skipped,
	})
	if err := f.client.Delete(t.Context(), foreign); err != nil {
		t.Fatal(err)
	}
	res = mustApply(t, r, rest, "rev3")
	checkActions(t, res, map[string]Action{
		"ConfigMap/" + f.ns + "/keep":                               Unchanged,
		"CustomResourceDefinition/widgets." + f.ns + ".example.com": Deleted,
	})
}

func TestPruneNamespaces(t *testing.T) {
	f := newFixture(t)
	f.target.Namespaces = []string{f.ns, f.ns + "-*"}
	f.target.ClusterScopedKinds = []string{"Namespace"}
	r := f.reconciler(t)
	objs := objects(t, f.ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: stays, namespace: %[1]s}
---
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s-empty}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: inside, namespace: %[1]s-empty}
---
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s-shared}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: inside, namespace: %[1]s-shared}
`)
	mustApply(t, r, objs, "rev1")
	f.kubectl(t, "-n", f.ns+"-shared", "create", "configmap", "foreign", "--from-literal=k=v")

	res := mustApply(t, r, objs[:1], "rev2")
	want := map[string]Action{
		"ConfigMap/" + f.ns + "/stays":         Unchanged,
		"Namespace/" + f.ns + "-empty":         Deleted,
		"ConfigMap/" + f.ns + "-empty/inside":  Deleted,
		"Namespace/" + f.ns + "-shared":        Skipped,
		"ConfigMap/" + f.ns + "-shared/inside": Deleted,
	}
	checkActions(t, res, want)
	for _, o := range res.Objects {
		if o.ID.Name == f.ns+"-shared" && !strings.Contains(o.Message, "ConfigMap/"+f.ns+"-shared/foreign") {
			t.Errorf("skipped namespace: message %q does not name the foreign object", o.Message)
		}
	}
	if _, ok := f.get(t, "v1", "ConfigMap", f.ns+"-shared", "foreign"); !ok {
		t.Error("the foreign ConfigMap is gone")
	}
	inv := inventoryOf(t, r)
	if len(inv.entries) != 2 {
		t.Errorf("inventory = %v, want the kept ConfigMap and the skipped namespace", inv.entries)
	}
}
