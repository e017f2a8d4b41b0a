package manifest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/field"
)

// link makes the symbolic link name -> target under dir.
func link(t *testing.T, dir, name, target string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// messages returns the field errors of err as "FILE: MSG" with FILE
// relative to dir.
func messages(dir string, err error) []string {
	var out []string
	for _, e := range field.All(err) {
		rel, relErr := filepath.Rel(dir, e.File)
		if relErr != nil {
			rel = e.File
		}
		out = append(out, filepath.ToSlash(rel)+": "+e.Msg)
	}
	return out
}

func containsAll(got []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			return false
		}
	}
	return true
}

const configMapDoc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: a}\n"

func cm(name string) string { return strings.Replace(configMapDoc, "%s", name, 1) }

// TestLoadThreeLinksToTheFolder is the attack of three links to their own
// folder, which made a check walk an endless tree of paths: each link is
// refused, naming it, at once.
func TestLoadThreeLinksToTheFolder(t *testing.T) {
	dir := writeTree(t, map[string]string{"environments/dev/cm.yaml": cm("a")})
	for _, l := range []string{"l1", "l2", "l3"} {
		link(t, dir, "environments/dev/"+l, ".")
	}
	start := time.Now()
	objs, err := Load(dir)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("load took %s", d)
	}
	if len(objs) != 1 {
		t.Errorf("objects = %d, want the one ConfigMap", len(objs))
	}
	got := messages(dir, err)
	if len(got) != 3 || !containsAll(got, "environments/dev/l1: symbolic link to a folder", "environments/dev/l2: ", "environments/dev/l3: ") {
		t.Errorf("errors = %q, want one per link naming it", got)
	}
}

func TestBuildThroughLinksToTheFolder(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"env/kustomization.yaml": "resources:\n- l1/l2/l3/cm.yaml\n",
		"env/cm.yaml":            cm("a"),
	})
	for _, l := range []string{"l1", "l2", "l3"} {
		link(t, dir, "env/"+l, ".")
	}
	objs, err := Load(dir)
	got := messages(dir, err)
	if len(objs) != 0 || len(got) != 1 || !strings.HasPrefix(got[0], "env/l1: symbolic link used as a folder") {
		t.Errorf("objects %d, errors %q; want none and the link l1 refused", len(objs), got)
	}
}

// TestLinkChainOutOfTheTree reads a file outside the tree through a chain
// of links whose text stays inside: every way is refused, and nothing
// outside is read.
func TestLinkChainOutOfTheTree(t *testing.T) {
	outside := writeTree(t, map[string]string{"secret.yaml": cm("stolen")})
	dir := filepath.Join(outside, "repo")
	for name, body := range map[string]string{
		"a/kustomization.yaml": "resources:\n- leak.yaml\n",
		"b/kustomization.yaml": "resources:\n- hop1.yaml\n",
		"c/kustomization.yaml": "resources:\n- ../../secret.yaml\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link(t, dir, "a/up", "..")                          // the repository itself
	link(t, dir, "a/leak.yaml", "up/../../secret.yaml") // reads as a/secret.yaml... through a/up it is outside
	link(t, dir, "b/hop1.yaml", "hop2.yaml")
	link(t, dir, "b/hop2.yaml", "../../secret.yaml")
	link(t, dir, "loose.yaml", "b/hop1.yaml")

	objs, err := Load(dir)
	for _, o := range objs {
		if o.Name == "stolen" {
			t.Fatalf("read %s from outside the tree", o.File)
		}
	}
	got := messages(dir, err)
	want := []string{
		"a/up: symbolic link used as a folder",
		"b/hop1.yaml: ", // the chain leads outside
		"secret.yaml: lies outside",
		"loose.yaml: ",
	}
	if !containsAll(got, want...) {
		t.Errorf("errors = %q, want each way refused: %q", got, want)
	}
	// os.Root refuses on its own what resolution would let through.
	tree, err := OpenTree(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if _, err := tree.root.ReadFile(filepath.Join("a", "up", "..", "secret.yaml")); err == nil {
		t.Error("os.Root read outside the tree")
	}
}

func TestTreeLimits(t *testing.T) {
	files := map[string]string{}
	for i := range 5 {
		files["f"+string(rune('0'+i))+".yaml"] = cm("c" + string(rune('0'+i)))
	}
	deep := strings.Repeat("d/", 6) + "cm.yaml"
	files[deep] = cm("deep")
	dir := writeTree(t, files)
	tests := []struct {
		name string
		lim  Limits
		want string
	}{
		{"files", Limits{Files: 3}, "more than 3 files and folders in one check or build (limit MaxFiles)"},
		{"bytes", Limits{Bytes: 100}, "more than 100 bytes in one check or build (limit MaxBytes)"},
		{"objects", Limits{Objects: 2}, "more than 2 objects in one check or build (limit MaxObjects)"},
		{"depth", Limits{Depth: 4}, "more than 4 nested folders in one check or build (limit MaxFolderDepth)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := OpenTree(context.Background(), dir, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			defer tree.Close()
			l := NewLoader()
			l.Read(tree, ".")
			_, err = l.Objects()
			if got := messages(dir, err); !containsAll(got, tt.want) {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
			if tree.Err() == nil {
				t.Error("the tree was not stopped")
			}
		})
	}
}

func TestTreeStopsWithItsContext(t *testing.T) {
	dir := writeTree(t, map[string]string{"cm.yaml": cm("a")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	objs, err := LoadContext(ctx, dir)
	if len(objs) != 0 || err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Errorf("objects %d, err %v; want none and the context's error", len(objs), err)
	}
}

func TestTreeFollowsLinksToFilesInside(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"base/cm.yaml":           cm("shared"),
		"env/kustomization.yaml": "resources:\n- cm.yaml\n",
	})
	link(t, dir, "env/cm.yaml", "../base/cm.yaml")
	tree, err := OpenTree(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	// Kustomize's root-only restriction sees where the link leads: outside
	// the kustomization's folder.
	if _, err := tree.Build("env"); err == nil || !strings.Contains(err.Error(), "is not in or below") {
		t.Errorf("build = %v, want kustomize's root-only refusal", err)
	}
	l := NewLoader()
	l.Read(tree, "env/cm.yaml")
	objs, err := l.Objects()
	if err != nil || len(objs) != 1 || objs[0].Name != "shared" {
		t.Errorf("load of the link = %d objects, %v", len(objs), err)
	}
}
