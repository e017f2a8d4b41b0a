package manifest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFoldersAndDigest: the folders of a build are its root and what its
// kustomizations include; their digest changes with a file under them
// and not with a file elsewhere.
func TestFoldersAndDigest(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, data string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("env/kustomization.yaml", "resources:\n- cm.yaml\n- ../req/a\n")
	write("env/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	write("req/a/kustomization.yaml", "resources:\n- cm.yaml\n- ../../base\n")
	write("req/a/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
	write("base/kustomization.yaml", "resources: []\n")
	write("req/b/kustomization.yaml", "resources: []\n")

	digest := func() (string, []string) {
		t.Helper()
		tree, err := OpenTree(context.Background(), dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		folders, err := tree.Folders("env")
		if err != nil {
			t.Fatal(err)
		}
		d, err := tree.Digest(folders)
		if err != nil {
			t.Fatal(err)
		}
		return d, folders
	}
	first, folders := digest()
	if want := []string{"base", "env", "req/a"}; !slices.Equal(folders, want) {
		t.Fatalf("folders %v, want %v", folders, want)
	}
	write("req/b/kustomization.yaml", "resources: [x.yaml]\n")
	if d, _ := digest(); d != first {
		t.Error("a file the build does not read changed the digest")
	}
	write("base/kustomization.yaml", "resources: []\n# changed\n")
	second, _ := digest()
	if second == first {
		t.Error("a file of an included folder did not change the digest")
	}
	write("req/a/new.yaml", "")
	if d, _ := digest(); d == second {
		t.Error("a new file in an included folder did not change the digest")
	}
}
