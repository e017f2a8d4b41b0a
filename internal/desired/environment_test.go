package desired

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
)

func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildEnvironment(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: a}\nspec: {containers: [{name: c, image: c:1}]}\n"
	dir := writeRepo(t, map[string]string{
		"environments/dev/kustomization.yaml": "resources: [pod.yaml, request.yaml]\n",
		"environments/dev/pod.yaml":           strings.Replace(pod, "%s", "dev", 1),
		"environments/dev/request.yaml":       "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: r}\n",
		".x/dev/kustomization.yaml":           "resources: [pod.yaml]\n",
		".x/dev/pod.yaml":                     strings.Replace(pod, "%s", "hidden", 1),
		"empty/notes.yaml":                    "",
		"remote/kustomization.yaml":           "resources:\n- https://example.com/pod.yaml\n",
	})
	tree, err := manifest.OpenTree(context.Background(), dir, manifest.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()

	objs, err := BuildEnvironment(tree, config.Environment{Name: "dev", Root: "environments/dev"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.ID.String())
	}
	if diff := cmp.Diff([]string{"Pod/a/dev"}, names); diff != "" {
		t.Errorf("objects (-want +got; gitvend's records left out):\n%s", diff)
	}

	tests := []struct {
		root, want string
	}{
		{".x/dev", `gitvend.yaml: environment dev root: must be a plain relative path inside the repository`},
		{"../dev", `gitvend.yaml: environment dev root: must be a plain relative path`},
		{"empty", `empty: environment dev: its root empty holds no kustomization.yaml`},
		{"missing", `missing: environment dev: its root missing holds no kustomization.yaml`},
		{"remote", `remote/kustomization.yaml:2: resources[0]: remote reference "https://example.com/pod.yaml" is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			objs, err := BuildEnvironment(tree, config.Environment{Name: "dev", Root: tt.root})
			fes := field.All(err)
			if len(objs) != 0 || len(fes) != 1 {
				t.Fatalf("objects %d, err %v; want none and one field error", len(objs), err)
			}
			rel, _ := filepath.Rel(dir, fes[0].File)
			fes[0].File = filepath.ToSlash(rel)
			if got := fes[0].Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error = %q, want %q...", got, tt.want)
			}
		})
	}
}
