package manifest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"gitvend.yaml":                           "apiVersion: gitvend.dev/v1alpha1\nkind: Config\n",
		"requests/dev/a/web.yaml":                "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: web}\n",
		"requests/dev/a/web/kustomization.yaml":  "resources:\n- deployment-web.yaml\n",
		"requests/dev/a/web/deployment-web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: a\n",
		"environments/dev/kustomization.yaml":    "resources:\n- ../../requests/dev/a/web\n- extra.yaml\n",
		"environments/dev/extra.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: a}\n",
		"blueprints/x/blueprint.yaml":            "apiVersion: gitvend.dev/v1alpha1\nkind: Blueprint\n",
		"blueprints/x/base/cm.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\n",
		".github/workflows/ci.yaml":              "on: push\n",
		"loose/bad.yaml":                         "apiVersion: v1\nkind: [\n",
		"loose/notes.txt":                        "not yaml",
	})
	objs, err := Load(dir + "/...")
	var got []string
	for _, o := range objs {
		rel, _ := filepath.Rel(dir, o.File)
		got = append(got, o.ID.String()+" "+rel+":"+strconv.Itoa(o.Line))
	}
	want := []string{
		"Deployment/a/web requests/dev/a/web/deployment-web.yaml:1",
		"ConfigMap/a/extra environments/dev/extra.yaml:1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	errs := field.All(err)
	if len(errs) != 1 || !strings.HasSuffix(errs[0].File, "loose/bad.yaml") || errs[0].Line == 0 {
		t.Errorf("errors = %v, want one syntax error in loose/bad.yaml with a line", err)
	}
}

func TestLoadMissingPathAndBrokenKustomization(t *testing.T) {
	dir := writeTree(t, map[string]string{"k/kustomization.yaml": "resources:\n- missing.yaml\n"})
	_, err := Load(filepath.Join(dir, "nope"), filepath.Join(dir, "k"))
	errs := field.All(err)
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want two", err)
	}
	if !strings.Contains(errs[0].Error(), "no such file or directory") {
		t.Errorf("first error = %v", errs[0])
	}
	if !strings.Contains(errs[1].Error(), "kustomize build failed") {
		t.Errorf("second error = %v", errs[1])
	}
}

func TestLoadRelativePathsKeepSources(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"app/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cm.yaml\n",
		"app/cm.yaml":            "# note\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
	})
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, filepath.Join(dir, "app"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Load(rel)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].File != filepath.Join(rel, "cm.yaml") || objs[0].Line != 2 {
		t.Fatalf("got %+v, want ConfigMap at %s:2", objs, filepath.Join(rel, "cm.yaml"))
	}
}
