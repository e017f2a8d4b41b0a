package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const planBefore = basicObjects + `---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: %[1]s
stringData:
  password: hunter2
`

// planAfter changes the ConfigMap's data (hidden), the Deployment's image
// (shown) and the Secret's data (masked), adds a ConfigMap, drops the
// Service, and asks for a ConfigMap in a namespace the target refuses.
const planAfter = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: %[1]s
data:
  mode: turbo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  namespace: %[1]s
data:
  colour: blue
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: elsewhere
  namespace: kube-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %[1]s
  labels:
    app.kubernetes.io/managed-by: gitvend
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/web:2.0.0
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: %[1]s
stringData:
  password: correct-horse
`

// snapshot is every resourceVersion of the fixture's namespace and of the
// target's inventory, and the number of events in the namespace.
func snapshot(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, list := range []client.ObjectList{&corev1.ConfigMapList{}, &corev1.SecretList{}, &corev1.ServiceList{}} {
		if err := f.client.List(t.Context(), list, client.InNamespace(f.ns)); err != nil {
			t.Fatal(err)
		}
		switch l := list.(type) {
		case *corev1.ConfigMapList:
			for _, o := range l.Items {
				out["ConfigMap/"+o.Name] = o.ResourceVersion
			}
		case *corev1.SecretList:
			for _, o := range l.Items {
				out["Secret/"+o.Name] = o.ResourceVersion
			}
		case *corev1.ServiceList:
			for _, o := range l.Items {
				out["Service/"+o.Name] = o.ResourceVersion
			}
		}
	}
	if d, ok := f.get(t, "apps/v1", "Deployment", f.ns, "web"); ok {
		out["Deployment/web"] = d.GetResourceVersion()
	}
	if inv, ok := f.get(t, "v1", "ConfigMap", f.target.InventoryNamespace, inventoryName(f.target)); ok {
		out["inventory"] = inv.GetResourceVersion()
	}
	events := &corev1.EventList{}
	if err := f.client.List(t.Context(), events, client.InNamespace(f.ns)); err != nil {
		t.Fatal(err)
	}
	out["events"] = fmt.Sprint(len(events.Items))
	return out
}

func TestPlanShowsCreateChangePruneAndRefusalWithoutWriting(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	mustApply(t, r, objects(t, f.ns, planBefore), "rev1")
	before := snapshot(t, f)
	if before["inventory"] == "" {
		t.Fatalf("no inventory after apply: %v", before)
	}
	writes := f.writes.n.Load()

	p, err := f.reconciler(t).Plan(t.Context(), objects(t, f.ns, planAfter), "rev2")
	if err != nil {
		t.Fatal(err)
	}
	if n := f.writes.n.Load() - writes; n != 0 {
		t.Errorf("the plan made %d writes, want none", n)
	}
	if diff := cmp.Diff(before, snapshot(t, f)); diff != "" {
		t.Errorf("the plan changed the cluster (-before +after):\n%s", diff)
	}

	ids := func(list []PlannedObject) []string {
		var out []string
		for _, o := range list {
			out = append(out, o.ID.String())
		}
		return out
	}
	ns := f.ns
	if diff := cmp.Diff([]string{"ConfigMap/" + ns + "/extra"}, ids(p.Create)); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Service/" + ns + "/web"}, ids(p.Prune)); diff != "" {
		t.Errorf("prune (-want +got):\n%s", diff)
	}
	if len(p.Refuse) != 1 || p.Refuse[0].ID.Name != "elsewhere" || !strings.Contains(p.Refuse[0].Message, "kube-system") {
		t.Errorf("refuse = %+v, want the ConfigMap in kube-system", p.Refuse)
	}
	changed := map[string][]FieldChange{}
	for _, c := range p.Change {
		changed[c.ID.Kind+"/"+c.ID.Name] = c.Changes
	}
	want := map[string][]FieldChange{
		"ConfigMap/settings": {{Path: "data.mode", Git: `"#fp"`, Live: `"#fp"`, Hidden: true}},
		"Deployment/web":     {{Path: "spec.template.spec.containers[name=app].image", Git: `"ghcr.io/acme/web:2.0.0"`, Live: `"ghcr.io/acme/web:1.0.0"`}},
		"Secret/creds":       {{Path: "data.password", Git: `"(masked)"`, Live: `"(masked)"`, Hidden: true}},
	}
	for k, cs := range changed {
		if k == "Secret/creds" {
			continue // masked alike on both sides, not fingerprinted
		}
		changed[k] = unfingerprint(t, []ObjectDrift{{Changes: cs}})[0].Changes
	}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if p.Total != 4 || p.PruneExceeded != "" {
		t.Errorf("total %d, prune exceeded %q; want 4 and none", p.Total, p.PruneExceeded)
	}

	var text bytes.Buffer
	if err := p.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hunter2", "correct-horse", "turbo", "fast"} {
		if strings.Contains(text.String(), s) {
			t.Errorf("the plan's text shows the value %q:\n%s", s, text.String())
		}
	}
	for _, s := range []string{"+ ConfigMap/" + ns + "/extra", "- Service/" + ns + "/web", "! ConfigMap/kube-system/elsewhere",
		`spec.template.spec.containers[name=app].image: "ghcr.io/acme/web:1.0.0" → "ghcr.io/acme/web:2.0.0"`} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("the plan's text lacks %q:\n%s", s, text.String())
		}
	}
}

func TestPruneGuard(t *testing.T) {
	f := newFixture(t)
	f.target.MaxPrune, f.target.MaxPrunePercent = 1, 0
	r := f.reconciler(t)
	mustApply(t, r, objects(t, f.ns, planBefore), "rev1")
	// Only the ConfigMap stays: three objects leave Git, past 1.
	keep := objects(t, f.ns, planBefore)[:1]

	p, err := r.Plan(t.Context(), keep, "rev2")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Prune) != 3 || !strings.Contains(p.PruneExceeded, "it prunes 3 objects, more than the 1") {
		t.Fatalf("plan prunes %d, exceeded %q; want 3, past the threshold", len(p.Prune), p.PruneExceeded)
	}

	res, err := r.Apply(context.WithoutCancel(t.Context()), keep, "rev2")
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := res.Count(Skipped); got != 3 || res.Count(Deleted) != 0 {
		t.Fatalf("unconfirmed apply: %s; want 3 skipped, none deleted", res.Summary())
	}
	if _, ok := f.get(t, "v1", "Service", f.ns, "web"); !ok {
		t.Fatal("the Service was pruned without confirmation")
	}
	if n := len(inventoryOf(t, r).entries); n != 4 {
		t.Errorf("inventory holds %d objects, want the 4 not pruned", n)
	}

	res, err = r.ApplyWith(context.WithoutCancel(t.Context()), keep, "rev2", ApplyOptions{ConfirmPrune: Confirmed})
	if err != nil {
		t.Fatalf("ApplyWith: %v", err)
	}
	if got := res.Count(Deleted); got != 3 {
		t.Fatalf("confirmed apply: %s; want 3 deleted", res.Summary())
	}
	if _, ok := f.get(t, "v1", "Service", f.ns, "web"); ok {
		t.Error("the Service is still there after a confirmed prune")
	}
}

// TestPlanChangeComparesOnlyWhatChanges plans a change against its base:
// the objects the change alters, adds and removes are planned as Plan
// plans them, and those it leaves as they are are only counted, even the
// one that drifted in the cluster, which Plan of the whole state shows.
func TestPlanChangeComparesOnlyWhatChanges(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	base := objects(t, f.ns, planBefore)
	mustApply(t, r, base, "rev1")
	cm := &corev1.ConfigMap{}
	if err := f.client.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: "settings"}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["mode"] = "by hand"
	if err := f.client.Update(t.Context(), cm); err != nil {
		t.Fatal(err)
	}

	// The change: the Deployment's image, a new ConfigMap, the Secret gone.
	head := objects(t, f.ns, planBefore)
	var kept []*unstructured.Unstructured
	for _, o := range head {
		switch o.GetKind() {
		case "Deployment":
			if err := unstructured.SetNestedSlice(o.Object, []any{map[string]any{"name": "app", "image": "ghcr.io/acme/web:2.0.0"}},
				"spec", "template", "spec", "containers"); err != nil {
				t.Fatal(err)
			}
		case "Secret":
			continue
		}
		kept = append(kept, o)
	}
	head = append(kept, objects(t, f.ns, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  namespace: %[1]s
`)...)
	writes := f.writes.n.Load()
	p, err := f.reconciler(t).PlanChange(t.Context(), SplitChange(base, head), "rev2")
	if err != nil {
		t.Fatal(err)
	}
	if n := f.writes.n.Load() - writes; n != 0 {
		t.Errorf("the plan made %d writes, want none", n)
	}
	summary := func(p *Plan) string {
		var b strings.Builder
		for _, o := range p.Create {
			b.WriteString("+" + o.ID.String() + " ")
		}
		for _, o := range p.Change {
			b.WriteString("~" + o.ID.String() + " ")
		}
		for _, o := range p.Prune {
			b.WriteString("-" + o.ID.String() + " ")
		}
		return fmt.Sprintf("%s untouched %d", b.String(), p.Untouched)
	}
	ns := f.ns
	want := fmt.Sprintf("+ConfigMap/%[1]s/extra ~Deployment/%[1]s/web -Secret/%[1]s/creds  untouched 2", ns)
	if got := summary(p); got != want {
		t.Errorf("plan of the change:\n got %s\nwant %s", got, want)
	}
	if s := p.Summary(); !strings.HasSuffix(s, "; 2 untouched by the change") {
		t.Errorf("summary %q does not count what the change leaves", s)
	}

	// The whole state's plan shows the drifted ConfigMap too, and the
	// same creates and prunes.
	full, err := f.reconciler(t).Plan(t.Context(), head, "rev2")
	if err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("+ConfigMap/%[1]s/extra ~ConfigMap/%[1]s/settings ~Deployment/%[1]s/web -Secret/%[1]s/creds  untouched 0", ns)
	if got := summary(full); got != want {
		t.Errorf("plan of the whole state:\n got %s\nwant %s", got, want)
	}

	// An object the change repeats is compared, so that the repeat is
	// reported, even where one of the two is as the base has it.
	twice := append(objects(t, f.ns, planBefore), objects(t, f.ns, planBefore)[0])
	p, err = f.reconciler(t).PlanChange(t.Context(), SplitChange(base, twice), "rev3")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Fail) != 1 || !strings.Contains(p.Fail[0].Message, "appears twice") || p.Untouched != 3 {
		t.Errorf("plan of a repeated object: fail %+v, untouched %d; want the repeat rejected, 3 untouched", p.Fail, p.Untouched)
	}
}
