package reconcile

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/manifest"
)

// coldObjects is the desired state of TestColdPathsAgree: %[1]s the
// namespace, LABEL a label Git sets, FROZEN the data of an immutable
// ConfigMap, and LEAVING an object that Git later drops.
const coldObjects = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: %[1]s
  labels: {tier: LABEL}
data:
  mode: fast
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: %[1]s}
stringData:
  password: git-secret-value
---
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen, namespace: %[1]s}
immutable: true
data: {k: FROZEN}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: %[1]s
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
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
        image: ghcr.io/acme/web:1.0.0
LEAVING`

const coldLeaving = `---
apiVersion: v1
kind: ConfigMap
metadata: {name: leaving, namespace: %[1]s}
data: {k: v}
`

// TestColdPathsAgree runs every case of the drift and apply tests twice
// (a plan, a drift check and an apply each time),
// on two namespaces brought to the same state: once with a new Reconciler
// that ignores the inventory's records and dry-runs every object (gitvend
// before it kept them), once with a new Reconciler that uses them (a
// restart, or a CLI run). Drift reports and apply results must agree; the
// second must dry-run only what changed.
func TestColdPathsAgree(t *testing.T) {
	full, fast := newFixture(t), newFixture(t)
	type git struct {
		label, frozen string
		leaving       bool
	}
	desired := func(f *fixture, g git) []*unstructured.Unstructured {
		text := strings.NewReplacer("LABEL", g.label, "FROZEN", g.frozen).Replace(coldObjects)
		leaving := ""
		if g.leaving {
			leaving = coldLeaving
		}
		return objects(t, f.ns, strings.Replace(text, "LEAVING", leaving, 1))
	}
	state := git{label: "one", frozen: "one", leaving: true}
	for _, f := range []*fixture{full, fast} {
		mustApply(t, f.reconciler(t), desired(f, state), "rev0")
	}
	// withoutNamespace names an object without the fixture's namespace,
	// so that the two fixtures' results compare.
	withoutNamespace := func(f *fixture, id manifest.ID) string {
		id.Namespace = strings.Replace(id.Namespace, f.ns, "NS", 1)
		return id.String()
	}
	type outcome struct {
		Plan    []string
		Drift   []ObjectDrift
		Actions map[string]string
	}
	// run plans, checks drift and applies, each with a new Reconciler on
	// f, and returns what they found, and how many dry-runs the plan
	// made, and the drift check and apply together.
	run := func(t *testing.T, f *fixture, records bool, g git) (outcome, int64, int64) {
		t.Helper()
		objs := desired(f, g)
		out := outcome{Actions: map[string]string{}}
		f.writes.dryRuns.Store(0)
		r := f.reconciler(t)
		r.noRecords = !records
		p, err := r.Plan(t.Context(), objs, "rev")
		if err != nil {
			t.Fatal(err)
		}
		planned := f.writes.dryRuns.Swap(0)
		p.Target = "T"
		var text strings.Builder
		if err := p.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		out.Plan = strings.Split(fingerprintRE.ReplaceAllString(strings.ReplaceAll(text.String(), f.ns, "NS"), "#fp"), "\n")

		r = f.reconciler(t)
		r.noRecords = !records
		rep, err := r.Drift(t.Context(), objs)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range rep.Objects {
			// Fingerprints are keyed per Reconciler: compare their places.
			d.Changes = slices.Clone(d.Changes)
			for i, c := range d.Changes {
				d.Changes[i].Git = fingerprintRE.ReplaceAllString(c.Git, "#fp")
				d.Changes[i].Live = fingerprintRE.ReplaceAllString(c.Live, "#fp")
			}
			d.ID.Namespace = strings.Replace(d.ID.Namespace, f.ns, "NS", 1)
			d.Error = strings.ReplaceAll(d.Error, f.ns, "NS")
			out.Drift = append(out.Drift, d)
		}
		// A second Reconciler, as a second CLI run would be.
		r = f.reconciler(t)
		r.noRecords = !records
		res, _ := r.Apply(t.Context(), objs, "rev")
		for _, o := range res.Objects {
			out.Actions[withoutNamespace(f, o.ID)] = string(o.Action) + " " + strings.ReplaceAll(o.Message, f.ns, "NS")
		}
		return out, planned, f.writes.dryRuns.Load()
	}
	both := func(args ...string) {
		for _, f := range []*fixture{full, fast} {
			f.kubectl(t, append([]string{"-n", f.ns}, args...)...)
		}
	}
	for _, step := range []struct {
		name   string
		change func()
		// compared is how many dry-runs the fast path may make in its
		// drift check and apply together: two for each object changed
		// (for an object a list shows missing, none), and two for each
		// the previous step's apply configured or failed to apply, which
		// is not recorded as matching Git.
		compared int64
	}{
		{name: "nothing changed", compared: 0},
		{name: "a controller updates the status", change: func() {
			both("patch", "deployment/web", "--subresource=status", "--type=merge", "-p", `{"status":{"observedGeneration":1,"replicas":0}}`)
		}, compared: 0},
		{name: "another manager scales replicas Git does not set", change: func() {
			both("scale", "deployment/web", "--replicas=5")
		}, compared: 2},
		{name: "another manager adds a label", change: func() {
			both("label", "configmap/settings", "team=search")
		}, compared: 0},
		{name: "another manager sets a field the server defaulted", change: func() {
			both("patch", "deployment/web", "-p", `{"spec":{"revisionHistoryLimit":3}}`)
		}, compared: 2},
		{name: "a field gitvend set is edited by hand", change: func() {
			both("patch", "configmap/settings", "-p", `{"data":{"mode":"turbo"}}`)
		}, compared: 2},
		{name: "an edit of the image", change: func() {
			both("set", "image", "deployment/web", "app=ghcr.io/acme/web:6.6.6")
		}, compared: 4},
		{name: "a label gitvend set is changed by hand", change: func() {
			both("label", "--overwrite", "deployment/web", "app.kubernetes.io/managed-by=someone")
		}, compared: 2},
		{name: "a Secret is edited by hand", change: func() {
			both("patch", "secret/creds", "-p", `{"data":{"password":"c3RvbGVuLXZhbHVl"}}`)
		}, compared: 4},
		{name: "an object is deleted by hand", change: func() {
			both("delete", "configmap/settings")
		}, compared: 2},
		{name: "a label changes in Git", change: func() { state.label = "two" }, compared: 2},
		{name: "an immutable field changes in Git", change: func() { state.frozen = "two" }, compared: 4},
		{name: "the immutable field is back", change: func() { state.frozen = "one" }, compared: 2},
		{name: "an object leaves Git and is pruned", change: func() { state.leaving = false }, compared: 0},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.change != nil {
				step.change()
			}
			want, fullPlanned, fullDryRuns := run(t, full, false, state)
			got, fastPlanned, fastDryRuns := run(t, fast, true, state)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the fast path and the full dry-run disagree (-full +fast):\n%s", diff)
			}
			if fastDryRuns > step.compared {
				t.Errorf("the fast path made %d dry-runs, want at most %d (the full path made %d)", fastDryRuns, step.compared, fullDryRuns)
			}
			// The plan compares what drift does, and objects a list shows
			// missing too.
			if fastPlanned > step.compared/2+1 {
				t.Errorf("the fast path's plan made %d dry-runs, want at most %d (the full path's made %d)", fastPlanned, step.compared/2+1, fullPlanned)
			}
			if step.compared == 0 && fastPlanned != 0 {
				t.Errorf("the fast path's plan made %d dry-runs of unchanged objects", fastPlanned)
			}
			t.Logf("plan %q; drift %v; apply %v; dry-runs: full %d+%d, fast %d+%d", got.Plan, got.Drift, got.Actions, fullPlanned, fullDryRuns, fastPlanned, fastDryRuns)
		})
	}
}

// TestMarkSurvivesOnlyWritesThatKeepGitvendsFields checks the mark's
// fingerprint: a status update, another manager's field or a no-op keep
// it; a write to a field gitvend set, a new object of the same name and
// a change of the generation change it.
func TestMarkSurvivesOnlyWritesThatKeepGitvendsFields(t *testing.T) {
	at := metav1.Now()
	base := func() *metav1.ObjectMeta {
		return &metav1.ObjectMeta{UID: types.UID("u1"), Generation: 3, ResourceVersion: "10",
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply, APIVersion: "v1", Time: &at,
					FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{"f:mode":{}}}`)}},
			}}
	}
	before := markOf(base())
	if before.fields == (fieldsPrint{}) {
		t.Fatal("no fingerprint for an object gitvend manages")
	}
	for _, tc := range []struct {
		name string
		edit func(m *metav1.ObjectMeta)
		same bool
	}{
		{"a status update", func(m *metav1.ObjectMeta) {
			m.ResourceVersion = "11"
			m.ManagedFields = append(m.ManagedFields, metav1.ManagedFieldsEntry{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status"})
		}, true},
		{"another manager's label", func(m *metav1.ObjectMeta) {
			m.ResourceVersion = "12"
			m.ManagedFields = append(m.ManagedFields, metav1.ManagedFieldsEntry{Manager: "kubectl-label", Operation: metav1.ManagedFieldsOperationUpdate,
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{"f:team":{}}}}`)}})
		}, true},
		{"a field gitvend set taken by another manager", func(m *metav1.ObjectMeta) {
			m.ResourceVersion = "12"
			m.ManagedFields[0].FieldsV1 = &metav1.FieldsV1{Raw: []byte(`{"f:data":{}}`)}
		}, false},
		{"an update under gitvend's name", func(m *metav1.ObjectMeta) {
			m.ManagedFields = append(m.ManagedFields, metav1.ManagedFieldsEntry{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate})
		}, false},
		{"a new object of the same name", func(m *metav1.ObjectMeta) { m.UID = "u2" }, false},
		{"a new generation", func(m *metav1.ObjectMeta) { m.Generation = 4 }, false},
		{"gitvend applied again", func(m *metav1.ObjectMeta) {
			later := metav1.NewTime(at.Add(61e9))
			m.ManagedFields[0].Time = &later
		}, false},
		{"deletion under way", func(m *metav1.ObjectMeta) { m.DeletionTimestamp = &at }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(m)
			if got := markOf(m).sameFields(before); got != tc.same {
				t.Errorf("same fingerprint = %v, want %v", got, tc.same)
			}
		})
	}
	if (liveMark{rv: "1"}).sameFields(liveMark{rv: "2"}) {
		t.Error("two marks without fingerprints count as the same")
	}
}

// TestForgedRecordDoesNotHideDrift performs the attack on the records:
// someone who may write the inventory ConfigMap (but not read the record
// key's Secret) edits a managed object by hand and sets its record to the
// edited object's mark, so that the next start would take the edit for
// what gitvend applied. The next start still finds the drift, and the
// records show no plain hash of the objects.
func TestForgedRecordDoesNotHideDrift(t *testing.T) {
	f := newFixture(t)
	objs := objects(t, f.ns, basicObjects)
	mustApply(t, f.reconciler(t), objs, "rev1")
	f.kubectl(t, "-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"turbo"}}`)

	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(objs[0].GroupVersionKind())
	if err := f.client.Get(t.Context(), client.ObjectKeyFromObject(objs[0]), live); err != nil {
		t.Fatal(err)
	}
	r := f.reconciler(t)
	inv := inventoryOf(t, r)
	forged := 0
	for i, e := range inv.entries {
		if e.id == idOf(objs[0]) && e.rec.live.rv != "" {
			inv.entries[i].rec.live = markOf(live)
			forged++
		}
		// Plain SHA-256 of the desired content is nowhere in them.
		for _, o := range objs {
			it := &item{obj: o.DeepCopy()}
			d, err := digestOf(it.obj)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(e.rec.content[:], d[:len(e.rec.content)]) {
				t.Errorf("record of %s holds the plain hash of %s", e.id, idOf(o))
			}
		}
	}
	if forged != 1 {
		t.Fatalf("found %d records of the ConfigMap, want 1", forged)
	}
	if err := r.writeInventory(t.Context(), inv, nil); err != nil {
		t.Fatal(err)
	}
	if got := inventoryOf(t, r); !got.equal(inv) {
		t.Fatal("the forged inventory was not stored")
	}

	f.writes.dryRuns.Store(0)
	rep, err := f.reconciler(t).Drift(t.Context(), objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Objects) != 1 || rep.Objects[0].ID != idOf(objs[0]) || len(rep.Objects[0].Changes) != 1 {
		t.Fatalf("drift after the forged record = %+v, want the ConfigMap's edit", rep.Objects)
	}
	if n := f.writes.dryRuns.Load(); n != 1 {
		t.Errorf("%d dry-runs, want 1: the forged record is refused, the others used", n)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	id := func(name string) manifest.ID {
		return manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: name}
	}
	inv := newInventory("r1", []entry{
		{id: id("x"), origin: originCreated, rec: record{content: contentPrint{1, 2, 3}, live: liveMark{rv: "17", fields: fieldsPrint{9}}}},
		{id: id("y"), origin: originCreated, rec: record{content: contentPrint{4}, live: liveMark{rv: "18"}}},
		{id: id("z"), origin: originExisting},
	})
	data, err := inv.encode()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := inv.encodeRecords()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeInventory("r1", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.decodeRecords(recs); err != nil {
		t.Fatal(err)
	}
	if !got.equal(inv) {
		t.Errorf("round trip: %+v, want %+v", got.entries, inv.entries)
	}
	if none, err := newInventory("r1", created(id("x"))).encodeRecords(); err != nil || none != nil {
		t.Errorf("records of an inventory without any = %v, %v; want none", none, err)
	}

	for _, tc := range []struct{ name, line string }{
		{"too few fields", "v1\tConfigMap\ta\tx\tAQID\t17\n"},
		{"no resourceVersion", "v1\tConfigMap\ta\tx\tAQIDAAAAAAAAAAAAAAAAAA\t\t\n"},
		{"short print", "v1\tConfigMap\ta\tx\tAQID\t17\t\n"},
		{"not base64", "v1\tConfigMap\ta\tx\t!!!\t17\t\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write([]byte(tc.line))
			zw.Close()
			again, _ := decodeInventory("r1", data)
			if err := again.decodeRecords(b.Bytes()); err == nil {
				t.Error("damaged records decoded without an error")
			}
		})
	}
}

func TestRecordsFitBesideTheInventory(t *testing.T) {
	// The inventory's objects and records share one ConfigMap (1 MiB).
	const n = 10000
	entries := make([]entry, 0, n)
	for i := range n {
		var rec record
		rand.Read(rec.content[:])
		rand.Read(rec.live.fields[:])
		rec.live.rv = fmt.Sprint(1000000 + i*7)
		entries = append(entries, entry{origin: originCreated, rec: rec, id: manifest.ID{APIVersion: "v1", Kind: "ConfigMap",
			Namespace: fmt.Sprintf("team-%03d", i%300), Name: fmt.Sprintf("service-%05d-with-a-long-name", i)}})
	}
	inv := newInventory("0123456789abcdef0123456789abcdef01234567", entries)
	data, err := inv.encode()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := inv.encodeRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) > maxRecordsSize || len(data)+len(recs) > 900<<10 {
		t.Errorf("%d objects: %d bytes of objects and %d of records, want records within %d and both within 900 KiB",
			n, len(data), len(recs), maxRecordsSize)
	}
	t.Logf("%d objects: %d bytes of objects, %d of records", n, len(data), len(recs))
}

// TestDriftAfterARevertedHandEdit: a field gitvend set is edited by hand,
// put back by hand (the hand's manager now owns it, with Git's value), and
// edited again. The second edit leaves gitvend's managed fields as they
// were; it is drift all the same, for the Reconciler that saw the revert
// and for a new one.
func TestDriftAfterARevertedHandEdit(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)
	mustApply(t, r, objs, "rev1")
	edit := func(mode string) {
		f.kubectl(t, "-n", f.ns, "patch", "configmap/settings", "-p", fmt.Sprintf(`{"data":{"mode":%q}}`, mode))
	}
	drifted := func(r *Reconciler) bool {
		rep, err := r.Drift(t.Context(), objs)
		if err != nil {
			t.Fatal(err)
		}
		return rep.HasDrift()
	}
	edit("turbo")
	if !drifted(r) {
		t.Fatal("first edit: no drift")
	}
	edit("fast")
	if drifted(r) {
		t.Fatal("edit reverted: drift")
	}
	if res := mustApply(t, r, objs, "rev1"); res.Count(Unchanged) != len(objs) {
		t.Fatalf("apply after the revert: %s, want all unchanged", res.Summary())
	}
	edit("turbo")
	for name, r := range map[string]*Reconciler{"same": r, "new": f.reconciler(t)} {
		if !drifted(r) {
			t.Errorf("%s reconciler: the second edit is not drift", name)
		}
	}
}
