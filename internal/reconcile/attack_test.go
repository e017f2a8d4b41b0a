package reconcile

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/manifest"
)

// These tests carry out attacks on the guardrails of an apply against a
// real API server and check that each fails safely.

// crdYAML is a CRD of group %[1]s, kind %[2]s, plural %[3]s and scope
// %[4]s whose objects take any spec.
const crdYAML = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %[3]s.%[1]s}
spec:
  group: %[1]s
  scope: %[4]s
  names: {plural: %[3]s, singular: %[5]s, kind: %[2]s, listKind: %[2]sList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// crd returns a CRD object.
func crd(t *testing.T, group, kind, plural, scope string) *unstructured.Unstructured {
	t.Helper()
	objs, err := utils.ReadObjects(strings.NewReader(fmt.Sprintf(crdYAML, group, kind, plural, scope, strings.ToLower(kind))))
	if err != nil {
		t.Fatalf("parse CRD: %v", err)
	}
	return objs[0]
}

// installCRD creates a CRD with a plain client, as a cluster administrator
// would, and waits until its kind is served.
func (f *fixture) installCRD(t *testing.T, group, kind, plural, scope string) {
	t.Helper()
	if err := f.client.Create(t.Context(), crd(t, group, kind, plural, scope)); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() { _ = f.client.Delete(t.Context(), crd(t, group, kind, plural, scope)) })
	eventually(t, 30*time.Second, "CRD "+plural+"."+group+" established", func() bool {
		live, ok := f.get(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", plural+"."+group)
		if !ok {
			return false
		}
		conds, _, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true
			}
		}
		return false
	})
}

// TestAttackDecoyCRD: a kind the cluster serves cluster-scoped is named in
// Git next to a decoy CRD that claims it is namespaced, on a target that
// allows no cluster-scoped kind of that group. The scope comes from the
// cluster, so the object is refused and never created, whether the target
// refuses the decoy or accepts (and applies) it.
func TestAttackDecoyCRD(t *testing.T) {
	f := newFixture(t)
	group := f.ns + ".example.com"
	f.installCRD(t, group, "Gadget", "gadgets", "Cluster")

	gadget := func(name string) *unstructured.Unstructured {
		return objects(t, f.ns, `
apiVersion: `+group+`/v1
kind: Gadget
metadata: {name: `+name+`, namespace: %[1]s}
spec: {power: root}
`)[0]
	}
	for _, tc := range []struct {
		name    string
		kinds   []string
		decoy   *unstructured.Unstructured
		decoyIs Action
	}{
		{"the target refuses the decoy, a CRD of the same name", nil,
			crd(t, group, "Gadget", "gadgets", "Namespaced"), Refused},
		{"the target refuses the decoy, a CRD of another name", nil,
			crd(t, group, "Gadget", "decoys", "Namespaced"), Refused},
		{"the target accepts CRDs; the decoy cannot change the scope of the real one", []string{"CustomResourceDefinition"},
			crd(t, group, "Gadget", "gadgets", "Namespaced"), Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.target.ClusterScopedKinds = tc.kinds
			r := f.reconciler(t)
			name := "stolen-" + strings.ToLower(string(tc.decoyIs))
			objs := []*unstructured.Unstructured{gadget(name), tc.decoy}

			res, err := r.Apply(t.Context(), objs, "rev1")
			var ae *ApplyError
			if !errors.As(err, &ae) {
				t.Fatalf("Apply error = %v, want an ApplyError", err)
			}
			got := actions(res)
			if a := got["Gadget/"+name]; a != Refused {
				t.Errorf("the cluster-scoped Gadget: %s, want refused; results %v", a, failures(res))
			}
			if a := got["CustomResourceDefinition/"+tc.decoy.GetName()]; a != tc.decoyIs {
				t.Errorf("the decoy CRD: %s, want %s", a, tc.decoyIs)
			}
			for _, o := range res.Objects {
				if o.ID.Kind == "Gadget" && !strings.Contains(o.Message, "cluster-scoped kind Gadget."+group+" is not allowed") {
					t.Errorf("refusal %q does not name the cluster-scoped kind with its group", o.Message)
				}
			}
			if _, ok := f.get(t, group+"/v1", "Gadget", "", name); ok {
				t.Fatal("the cluster-scoped Gadget was created")
			}
			if live, _ := f.get(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "gadgets."+group); live != nil {
				if scope, _, _ := unstructured.NestedString(live.Object, "spec", "scope"); scope != "Cluster" {
					t.Errorf("the real CRD's scope is now %q", scope)
				}
			}

			// Read-only uses take the same scope: the Gadget is not
			// compared, watched nor reported as an adoption.
			rep, err := r.Drift(t.Context(), objs)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range rep.Objects {
				if d.ID.Kind == "Gadget" {
					t.Errorf("drift compared the refused Gadget: %+v", d)
				}
			}
			adoptions, err := r.Adoptions(t.Context(), objs)
			if err != nil || len(adoptions) != 0 {
				t.Errorf("Adoptions = %v, %v; want none", adoptions, err)
			}
		})
	}
}

// TestAttackDecoyCRDForAnUnservedKind: the kind is not served at all and
// the target refuses the decoy CRD that would define it as namespaced: the
// object fails (its scope cannot be known) and nothing is created.
func TestAttackDecoyCRDForAnUnservedKind(t *testing.T) {
	f := newFixture(t)
	group := "unserved-" + f.ns + ".example.com"
	f.target.ClusterScopedKinds = []string{"Namespace"}
	r := f.reconciler(t)
	// The CRD kind Namespace is staged with Namespaces; its scope must
	// still be known before it is applied.
	objs := append(objects(t, f.ns, `
apiVersion: `+group+`/v1
kind: Namespace
metadata: {name: unserved, namespace: %[1]s}
`), crd(t, group, "Namespace", "tenantspaces", "Namespaced"))
	res, err := r.Apply(t.Context(), objs, "rev1")
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Refused != 1 || ae.Failed != 1 {
		t.Fatalf("Apply error = %v, want one refused and one failed", err)
	}
	checkActions(t, res, map[string]Action{
		"Namespace/" + f.ns + "/unserved":                Failed,
		"CustomResourceDefinition/tenantspaces." + group: Refused,
	})
	for _, o := range res.Objects {
		if o.Action == Failed && !strings.Contains(o.Message, "no CRD the target accepts defines it") {
			t.Errorf("failure %q does not say why the scope is not known", o.Message)
		}
	}
	if _, ok := f.get(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "tenantspaces."+group); ok {
		t.Error("the refused CRD was created")
	}
	if inv := inventoryOf(t, r); len(inv.entries) != 0 {
		t.Errorf("inventory records %v", inv.entries)
	}
}

func TestStagesLeavePendingItemsOut(t *testing.T) {
	ns := &item{obj: stub(manifest.ID{APIVersion: "v1", Kind: "Namespace", Name: "a"})}
	pending := &item{obj: stub(manifest.ID{APIVersion: "x.example.com/v1", Kind: "Namespace", Name: "a"}), pending: true}
	cm := &item{obj: configMapObject("a", "b")}
	pre, rest := stages([]*item{ns, pending, cm})
	if len(pre) != 1 || pre[0] != ns || len(rest) != 1 || rest[0] != cm {
		t.Errorf("stages = %v, %v; want the Namespace first, the ConfigMap next, the pending item in neither", pre, rest)
	}
}

// TestAttackKindOfAnotherGroup: a target allows the core Namespace; an
// object of kind Namespace in another group, cluster-scoped, is not a core
// Namespace and is refused, even with an allowed namespace's name.
func TestAttackKindOfAnotherGroup(t *testing.T) {
	f := newFixture(t)
	f.target.ClusterScopedKinds = []string{"Namespace"}
	group := "evil-" + f.ns + ".example.com"
	f.installCRD(t, group, "Namespace", "tenantspaces", "Cluster")
	r := f.reconciler(t)
	objs := objects(t, f.ns, `
apiVersion: `+group+`/v1
kind: Namespace
metadata: {name: %[1]s}
spec: {owner: mallory}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: %[1]s}
`)
	res, err := r.Apply(t.Context(), objs, "rev1")
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Refused != 1 || ae.Failed != 0 {
		t.Fatalf("Apply error = %v, want one refusal", err)
	}
	checkActions(t, res, map[string]Action{
		"Namespace/" + f.ns:           Refused,
		"ConfigMap/" + f.ns + "/fine": Created,
	})
	if msg := res.Objects[0].Message + res.Objects[1].Message; !strings.Contains(msg, "cluster-scoped kind Namespace."+group+" is not allowed") {
		t.Errorf("messages %q do not name the kind with its group", msg)
	}
	if _, ok := f.get(t, group+"/v1", "Namespace", "", f.ns); ok {
		t.Fatal("the Namespace of another group was created")
	}

	// Listed with its group, the kind is allowed.
	f.target.ClusterScopedKinds = []string{"Namespace", "Namespace." + group}
	res = mustApply(t, f.reconciler(t), objs, "rev2")
	if a := actions(res)["Namespace/"+f.ns]; a != Created {
		t.Errorf("with Namespace.%s allowed: %s, want created", group, a)
	}
}

// TestAttackDriftPublishesValues: values changed by hand (an env value,
// ConfigMap data) never appear in a drift report, which becomes a GitHub
// issue; the fields that changed do, and so do images.
func TestAttackDriftPublishesValues(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: %[1]s}
data:
  database-url: postgres://app:git-secret-pw@db/app
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: %[1]s}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/app:1.0.0
        env:
        - {name: API_TOKEN, value: git-token-value}
`)
	mustApply(t, r, objs, "rev1")
	f.kubectl(t, "-n", f.ns, "patch", "configmap/app-config", "-p", `{"data":{"database-url":"postgres://app:live-secret-pw@evil/app"}}`)
	f.kubectl(t, "-n", f.ns, "set", "env", "deployment/app", "API_TOKEN=live-token-value")
	f.kubectl(t, "-n", f.ns, "set", "image", "deployment/app", "app=ghcr.io/acme/app:6.6.6")

	for name, r := range map[string]*Reconciler{"same": r, "new": f.reconciler(t)} {
		t.Run(name+" reconciler", func(t *testing.T) {
			rep, err := r.Drift(t.Context(), objs)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			for _, value := range []string{"git-secret-pw", "live-secret-pw", "evil/app", "git-token-value", "live-token-value"} {
				if strings.Contains(string(js), value) {
					t.Errorf("the drift report shows %q:\n%s", value, js)
				}
			}
			got := map[string]FieldChange{}
			for _, d := range rep.Objects {
				for _, c := range d.Changes {
					got[c.Path] = c
				}
			}
			for path, hidden := range map[string]bool{
				"data.database-url": true,
				"spec.template.spec.containers[name=app].env[name=API_TOKEN].value": true,
				"spec.template.spec.containers[name=app].image":                     false,
			} {
				c, ok := got[path]
				switch {
				case !ok:
					t.Errorf("no change at %s in %s", path, js)
				case c.Hidden != hidden:
					t.Errorf("%s: hidden %v, want %v", path, c.Hidden, hidden)
				case hidden && (!fingerprintRE.MatchString(c.Git) || !fingerprintRE.MatchString(c.Live) || c.Git == c.Live):
					t.Errorf("%s: git %s, live %s; want two different fingerprints", path, c.Git, c.Live)
				}
			}
			if c := got["spec.template.spec.containers[name=app].image"]; c.Live != `"ghcr.io/acme/app:6.6.6"` {
				t.Errorf("image change shows live %s, want the image", c.Live)
			}
		})
	}
}

// TestAttackAdoptThenPrune: an object created outside gitvend, later named
// in Git, is taken over (its fields set from Git) but never deleted when
// it leaves Git, even when it carries gitvend's managed-by label; only an
// explicit adopt annotation in Git lets gitvend prune it. Both are visible
// before the apply through Adoptions.
func TestAttackAdoptThenPrune(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	const (
		plain   = "made-by-hand"
		labeled = "made-by-hand-with-our-label"
		adopt   = "adopt-me"
		later   = "adopted-later"
	)
	for _, name := range []string{plain, labeled, adopt, later} {
		cm := configMapObject(f.ns, name)
		unstructured.SetNestedField(cm.Object, "by hand", "data", "key")
		if name == labeled {
			cm.SetLabels(map[string]string{LabelManagedBy: ManagedBy})
		}
		if err := f.client.Create(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
	}
	inGit := func(name string, annotate bool) *unstructured.Unstructured {
		cm := configMapObject(f.ns, name)
		if annotate {
			cm.SetAnnotations(map[string]string{AdoptAnnotation: "true"})
		}
		return cm
	}
	own := configMapObject(f.ns, "gitvends-own")
	objs := []*unstructured.Unstructured{own, inGit(plain, false), inGit(labeled, false), inGit(adopt, true), inGit(later, false)}

	id := func(name string) string { return "ConfigMap/" + f.ns + "/" + name }
	wantAdoptions := func(t *testing.T, objs []*unstructured.Unstructured, want map[string]bool) {
		t.Helper()
		adoptions, err := r.Adoptions(t.Context(), objs)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, a := range adoptions {
			got[a.ID.String()] = a.Prunable
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Adoptions = %v, want %v", adoptions, want)
		}
	}
	wantAdoptions(t, objs, map[string]bool{id(plain): false, id(labeled): false, id(adopt): true, id(later): false})

	res := mustApply(t, r, objs, "rev1")
	checkActions(t, res, map[string]Action{
		id("gitvends-own"): Created, id(plain): Configured, id(labeled): Configured, id(adopt): Configured, id(later): Configured,
	})
	for _, o := range res.Objects {
		if o.Existing != (o.ID.Name != "gitvends-own") {
			t.Errorf("%s: existing = %v", o.ID, o.Existing)
		}
	}
	if live, _ := f.get(t, "v1", "ConfigMap", f.ns, plain); live.Object["data"].(map[string]any)["key"] != "value of "+plain {
		t.Errorf("the object taken over does not have Git's data: %v", live.Object["data"])
	}
	wantAdoptions(t, objs, map[string]bool{})

	// Git adopts one found earlier: the plan shows it, the apply records it.
	objs[4] = inGit(later, true)
	wantAdoptions(t, objs, map[string]bool{id(later): true})
	mustApply(t, r, objs, "rev2")

	// Everything but gitvend's own object leaves Git.
	res = mustApply(t, r, objs[:1], "rev3")
	checkActions(t, res, map[string]Action{
		id("gitvends-own"): Unchanged, id(plain): LeftInPlace, id(labeled): LeftInPlace, id(adopt): Deleted, id(later): Deleted,
	})
	for name, exists := range map[string]bool{plain: true, labeled: true, adopt: false, later: false, "gitvends-own": true} {
		if _, ok := f.get(t, "v1", "ConfigMap", f.ns, name); ok != exists {
			t.Errorf("ConfigMap %s exists = %v, want %v", name, ok, exists)
		}
	}
	if inv := inventoryOf(t, r); len(inv.entries) != 1 || inv.entries[0].id.Name != "gitvends-own" {
		t.Errorf("inventory = %v, want gitvend's own object alone", inv.entries)
	}
}

// TestAttackAdoptThenPruneAfterUpgrade: an inventory written before
// origins were recorded (format v1) still loads; of its objects that left
// Git, one older than the inventory (there before gitvend's first apply)
// is left in place, one gitvend created is pruned, and the inventory is
// written back in the current format.
func TestAttackAdoptThenPruneAfterUpgrade(t *testing.T) {
	f := newFixture(t)
	f.target.Name = f.ns + "-upgraded"
	r := f.reconciler(t)
	if err := f.client.Create(t.Context(), configMapObject(f.ns, "there-before")); err != nil {
		t.Fatal(err)
	}
	// Creation times have a resolution of one second.
	time.Sleep(1100 * time.Millisecond)
	lines := fmt.Sprintf("v1\tConfigMap\t%[1]s\tthere-before\nv1\tConfigMap\t%[1]s\tgitvend-made\nv1\tConfigMap\t%[1]s\tstays\n", f.ns)
	var gz strings.Builder
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(lines))
	zw.Close()
	old := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata":   map[string]any{"name": inventoryName(f.target), "namespace": f.target.InventoryNamespace},
		"data":       map[string]any{inventoryRevisionKey: "rev0", inventoryCountKey: "3", inventoryFormatKey: "v1"},
		"binaryData": map[string]any{inventoryObjectsKey: base64.StdEncoding.EncodeToString([]byte(gz.String()))},
	}}
	if err := f.client.Create(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.client.Delete(t.Context(), old) })
	time.Sleep(1100 * time.Millisecond)
	// What an earlier gitvend applied.
	for _, name := range []string{"gitvend-made", "stays"} {
		cm := configMapObject(f.ns, name)
		cm.SetLabels(map[string]string{LabelManagedBy: ManagedBy})
		if err := r.applyOwn(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
	}
	inv := inventoryOf(t, r)
	if len(inv.entries) != 3 || inv.entries[0].origin != originUnknown {
		t.Fatalf("old inventory read as %v", inv.entries)
	}

	res := mustApply(t, r, []*unstructured.Unstructured{configMapObject(f.ns, "stays")}, "rev1")
	checkActions(t, res, map[string]Action{
		"ConfigMap/" + f.ns + "/stays":        Unchanged,
		"ConfigMap/" + f.ns + "/there-before": LeftInPlace,
		"ConfigMap/" + f.ns + "/gitvend-made": Deleted,
	})
	if _, ok := f.get(t, "v1", "ConfigMap", f.ns, "there-before"); !ok {
		t.Error("the object older than the inventory was deleted")
	}
	live, _ := f.get(t, "v1", "ConfigMap", f.target.InventoryNamespace, inventoryName(f.target))
	if format, _, _ := unstructured.NestedString(live.Object, "data", inventoryFormatKey); format != inventoryFormat {
		t.Errorf("inventory format after the apply = %q, want %q", format, inventoryFormat)
	}
	if inv := inventoryOf(t, r); len(inv.entries) != 1 || inv.entries[0].origin != originUnknown {
		t.Errorf("inventory = %v, want the object still in Git, of unknown origin", inv.entries)
	}
}
