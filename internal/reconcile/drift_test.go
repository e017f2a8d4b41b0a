package reconcile

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	wjsondiff "github.com/wI2L/jsondiff"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDrift(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, basicObjects)
	mustApply(t, r, objs, "rev1")
	deploy := "deployment/web"

	// Each check runs twice: with the Reconciler that applied, which
	// reuses comparisons of objects that did not change, and with a new
	// one, which dry-runs every object.
	check := func(t *testing.T, want []ObjectDrift) {
		t.Helper()
		for name, r := range map[string]*Reconciler{"same": r, "new": f.reconciler(t)} {
			rep, err := r.Drift(t.Context(), objs)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Checked != len(objs) {
				t.Errorf("%s reconciler checked %d objects, want %d", name, rep.Checked, len(objs))
			}
			if diff := cmp.Diff(want, unfingerprint(t, rep.Objects)); diff != "" {
				t.Errorf("%s reconciler: drift (-want +got):\n%s", name, diff)
			}
		}
	}
	cmID := idOf(objs[0])
	deployID := idOf(objs[2])
	for _, step := range []struct {
		name    string
		kubectl []string
		want    []ObjectDrift
	}{
		{name: "right after apply, defaults do not count"},
		{
			name:    "another manager scales replicas Git does not set",
			kubectl: []string{"-n", f.ns, "scale", deploy, "--replicas=5"},
		},
		{
			name:    "another manager adds a label",
			kubectl: []string{"-n", f.ns, "label", "configmap/settings", "team=search"},
		},
		{
			name:    "a field gitvend set is patched",
			kubectl: []string{"-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"turbo"}}`},
			want: []ObjectDrift{{ID: cmID, Changes: []FieldChange{
				{Path: "data.mode", Git: `"#fp"`, Live: `"#fp"`, Hidden: true},
			}}},
		},
		{
			name:    "the patch is reverted",
			kubectl: []string{"-n", f.ns, "patch", "configmap/settings", "-p", `{"data":{"mode":"fast"}}`},
		},
		{
			name:    "an edit of the image",
			kubectl: []string{"-n", f.ns, "set", "image", deploy, "app=ghcr.io/acme/web:6.6.6"},
			want: []ObjectDrift{{ID: deployID, Changes: []FieldChange{
				{Path: "spec.template.spec.containers[name=app].image", Git: `"ghcr.io/acme/web:1.0.0"`, Live: `"ghcr.io/acme/web:6.6.6"`},
			}}},
		},
		{
			name:    "an object is deleted by hand",
			kubectl: []string{"-n", f.ns, "delete", "configmap/settings"},
			want: []ObjectDrift{
				{ID: cmID, Missing: true},
				{ID: deployID, Changes: []FieldChange{
					{Path: "spec.template.spec.containers[name=app].image", Git: `"ghcr.io/acme/web:1.0.0"`, Live: `"ghcr.io/acme/web:6.6.6"`},
				}},
			},
		},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.kubectl != nil {
				f.kubectl(t, step.kubectl...)
			}
			check(t, step.want)
		})
	}

	t.Run("heal restores Git's state and keeps other managers' fields", func(t *testing.T) {
		res, err := r.Heal(t.Context())
		if err != nil {
			t.Fatalf("Heal: %v (%v)", err, failures(res))
		}
		want := map[string]Action{
			"ConfigMap/" + f.ns + "/settings": Created,
			"Service/" + f.ns + "/web":        Unchanged,
			"Deployment/" + f.ns + "/web":     Configured,
		}
		checkActions(t, res, want)
		check(t, nil)
		live, _ := f.get(t, "apps/v1", "Deployment", f.ns, "web")
		if n, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas"); n != 5 {
			t.Errorf("replicas = %d after heal, want the 5 another manager set", n)
		}
	})
}

func TestDriftMasksSecrets(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	objs := objects(t, f.ns, `
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: %[1]s}
stringData:
  password: git-secret-value
  user: admin-user-value
`)
	mustApply(t, r, objs, "rev1")
	// "stolen-value" and "added-value", base64-encoded.
	f.kubectl(t, "-n", f.ns, "patch", "secret/creds", "-p",
		`{"data":{"password":"c3RvbGVuLXZhbHVl","extra":"YWRkZWQtdmFsdWU="},"metadata":{"annotations":{"note":"leaked-annotation"}}}`)
	rep, err := r.Drift(t.Context(), objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Objects) != 1 || len(rep.Objects[0].Changes) == 0 {
		t.Fatalf("drift = %+v, want changes to the Secret", rep.Objects)
	}
	paths := map[string]bool{}
	for _, c := range rep.Objects[0].Changes {
		paths[c.Path] = true
	}
	if !paths["data.password"] {
		t.Errorf("changes %+v do not name data.password", rep.Objects[0].Changes)
	}
	// Every presentation of the report (the JSON of `gitvend drift`, the
	// drift issue's body) renders these values, so none may hold a secret.
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{
		"git-secret-value", "Z2l0LXNlY3JldC12YWx1ZQ", // Git's value, plain and base64
		"stolen-value", "c3RvbGVuLXZhbHVl",
		"added-value", "YWRkZWQtdmFsdWU",
		"admin-user-value", "YWRtaW4tdXNlci12YWx1ZQ",
	} {
		if strings.Contains(string(js), secret) {
			t.Errorf("report contains the secret value %q:\n%s", secret, js)
		}
	}
	if !strings.Contains(string(js), Masked) {
		t.Errorf("report does not show masked values:\n%s", js)
	}
}

func TestDriftIgnoresRefusedObjects(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	rep, err := r.Drift(t.Context(), []*unstructured.Unstructured{configMapObject("kube-public", "elsewhere")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 0 || rep.HasDrift() {
		t.Errorf("refused object was compared: %+v", rep)
	}
}

// fingerprintRE matches the fingerprint of a hidden value.
var fingerprintRE = regexp.MustCompile(`#[0-9a-f]{8}`)

// unfingerprint returns a copy of drift with every fingerprint replaced by
// "#fp", checking that the two sides of a hidden change differ.
func unfingerprint(t testing.TB, drift []ObjectDrift) []ObjectDrift {
	t.Helper()
	var out []ObjectDrift
	for _, d := range drift {
		d.Changes = slices.Clone(d.Changes)
		for i, c := range d.Changes {
			if c.Hidden && c.Git != "" && c.Git == c.Live {
				t.Errorf("%s %s: hidden values %s and %s do not differ", d.ID, c.Path, c.Git, c.Live)
			}
			d.Changes[i].Git = fingerprintRE.ReplaceAllString(c.Git, "#fp")
			d.Changes[i].Live = fingerprintRE.ReplaceAllString(c.Live, "#fp")
		}
		out = append(out, d)
	}
	return out
}

func TestChanges(t *testing.T) {
	live := map[string]any{
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "app", "image": "x:1", "env": []any{map[string]any{"name": "TOKEN", "value": "old-token"}}},
			map[string]any{"image": "y:1"},
		}}}},
		"data": map[string]any{"password": "bGl2ZQ=="},
	}
	patch := wjsondiff.Patch{
		{Type: wjsondiff.OperationReplace, Path: "/spec/template/spec/containers/0/image", Value: "x:2", OldValue: "x:1"},
		{Type: wjsondiff.OperationReplace, Path: "/spec/template/spec/containers/1/image", Value: "y:2", OldValue: "y:1"},
		{Type: wjsondiff.OperationReplace, Path: "/spec/template/spec/containers/0/env/0/value", Value: "new-token", OldValue: "old-token"},
		{Type: wjsondiff.OperationAdd, Path: "/spec/template/spec/containers/0/resources", Value: map[string]any{"limits": map[string]any{"cpu": "1"}}},
		{Type: wjsondiff.OperationReplace, Path: "/spec/replicas", Value: 3.0, OldValue: 2.0},
		{Type: wjsondiff.OperationAdd, Path: "/metadata/labels/a~1b", Value: "v"},
		{Type: wjsondiff.OperationAdd, Path: "/metadata/annotations/note", Value: "annotated"},
		{Type: wjsondiff.OperationRemove, Path: "/data/password", OldValue: "bGl2ZQ=="},
		{Type: wjsondiff.OperationAdd, Path: "/data", Value: map[string]any{"k": "c2VjcmV0"}},
	}
	r := &Reconciler{maskKey: []byte("test key")}
	fp := func(v any) string { return `"` + r.fingerprint(v) + `"` }
	cleartext := []FieldChange{
		{Path: "metadata.labels[a/b]", Git: `"v"`},
		{Path: "spec.replicas", Git: "3", Live: "2"},
		{Path: "spec.template.spec.containers[1].image", Git: `"y:2"`, Live: `"y:1"`},
		{Path: "spec.template.spec.containers[name=app].image", Git: `"x:2"`, Live: `"x:1"`},
		{Path: "spec.template.spec.containers[name=app].resources", Git: `{"limits":{"cpu":"1"}}`},
	}
	for _, tc := range []struct {
		name   string
		secret bool
		want   []FieldChange
	}{
		{"plain", false, append([]FieldChange{
			{Path: "data", Git: `{"k":` + fp("c2VjcmV0") + `}`, Hidden: true},
			{Path: "data.password", Live: fp("bGl2ZQ=="), Hidden: true},
			{Path: "metadata.annotations.note", Git: fp("annotated"), Hidden: true},
			{Path: "spec.template.spec.containers[name=app].env[name=TOKEN].value", Git: fp("new-token"), Live: fp("old-token"), Hidden: true},
		}, cleartext...)},
		{"secret", true, append([]FieldChange{
			{Path: "data", Git: `{"k":"(masked)"}`, Hidden: true},
			{Path: "data.password", Live: `"(masked)"`, Hidden: true},
			{Path: "metadata.annotations.note", Git: `"(masked)"`, Hidden: true},
			{Path: "spec.template.spec.containers[name=app].env[name=TOKEN].value", Git: fp("new-token"), Live: fp("old-token"), Hidden: true},
		}, cleartext...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := changes(patch, live, tc.secret, r.fingerprint)
			sortChanges := cmpopts.SortSlices(func(a, b FieldChange) bool { return a.Path < b.Path })
			if diff := cmp.Diff(tc.want, got, sortChanges); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, c := range got {
				for _, value := range []string{"new-token", "old-token", "annotated", "c2VjcmV0", "bGl2ZQ=="} {
					if strings.Contains(c.Git+c.Live, value) {
						t.Errorf("%s shows the value %q", c.Path, value)
					}
				}
			}
		})
	}
}

func TestShownInClear(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/metadata/labels/app", true},
		{"/metadata/labels", true},
		{"/metadata/annotations/note", false},
		{"/metadata", false},
		{"/spec/replicas", true},
		{"/spec/selector/matchLabels/app", true},
		{"/spec/ports/0/port", true},
		{"/spec/resources/requests/storage", true},
		{"/spec/template/spec/containers/0/image", true},
		{"/spec/template/spec/initContainers/1/imagePullPolicy", true},
		{"/spec/jobTemplate/spec/template/spec/containers/0/resources/limits/memory", true},
		{"/spec/template/spec/containers/0/ports/0/containerPort", true},
		{"/spec/template/spec/containers/0/env/0/value", false},
		{"/spec/template/spec/containers/0/args", false},
		{"/spec/template/spec/containers/0", false},
		{"/spec/template/spec/containers", false},
		{"/spec/template/spec/containers/0/image/extra", false},
		{"/spec/template/metadata/annotations/checksum", false},
		{"/spec/template/metadata/labels/app", true},
		{"/data/key", false},
		{"/binaryData/key", false},
		{"/spec", false},
		{"", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := shownInClear(pointerTokens(tc.path)); got != tc.want {
				t.Errorf("shownInClear(%s) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}
