package manifest

import (
	"context"
	"maps"
	"reflect"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest/stamptest"
)

// TestFoldersKeptWhileStampsHold finds the folders of an environment with
// stamps and a shared cache, then again in trees that differ from it: in
// a folder it includes, in a folder a folder it includes reaches through
// "..", and where a path one of its kustomizations names outside its own
// folder turns from a file into a folder. Each answer must be what a
// tree without stamps finds, and the unchanged tree must be answered from
// the cache without reading a kustomization.
func TestFoldersKeptWhileStampsHold(t *testing.T) {
	base := map[string]string{
		"env/kustomization.yaml":         kust("../apps/a", "../apps/b"),
		"apps/a/kustomization.yaml":      kust("cm.yaml", "../../shared/base", "../../extra"),
		"apps/a/cm.yaml":                 cm("a"),
		"apps/b/kustomization.yaml":      kust("cm.yaml"),
		"apps/b/cm.yaml":                 cm("b"),
		"shared/base/kustomization.yaml": kust("cm.yaml"),
		"shared/base/cm.yaml":            cm("shared"),
		"extra":                          cm("extra"), // a file named by a kustomization
	}
	with := func(change map[string]string, drop ...string) map[string]string {
		return withFiles(base, change, drop...)
	}
	var cache *BuildCache
	folders := func(dir string, stamped bool) ([]string, int) {
		tree, err := OpenTree(context.Background(), dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		if stamped {
			tree.UseCache(cache)
			tree.UseStamps(stamptest.Of(t, dir))
		}
		got, err := tree.Folders("env")
		if err != nil {
			t.Fatal(err)
		}
		return got, tree.files
	}
	baseDir := writeTree(t, base)
	cache = NewBuildCache(100)
	want, _ := folders(baseDir, false)
	if got, _ := folders(baseDir, true); !reflect.DeepEqual(got, want) {
		t.Fatalf("stamped folders %v, want %v", got, want)
	}
	if got, read := folders(writeTree(t, base), true); !reflect.DeepEqual(got, want) || read != 0 {
		t.Errorf("same files again: %v after reading %d files, want %v from the cache", got, read, want)
	}
	for name, files := range map[string]map[string]string{
		"an included folder includes another": with(map[string]string{
			"apps/b/kustomization.yaml": kust("cm.yaml", "../c"),
			"apps/c/kustomization.yaml": kust("cm.yaml"), "apps/c/cm.yaml": cm("c")}),
		"a folder reached through .. includes another": with(map[string]string{
			"shared/base/kustomization.yaml": kust("cm.yaml", "../more"),
			"shared/more/kustomization.yaml": kust("cm.yaml"), "shared/more/cm.yaml": cm("more")}),
		"a named file turns into a folder": with(map[string]string{
			"extra/kustomization.yaml": kust("cm.yaml"), "extra/cm.yaml": cm("extra")}, "extra"),
	} {
		t.Run(name, func(t *testing.T) {
			cache = NewBuildCache(100)
			folders(baseDir, true) // what the cache keeps is the base's
			dir := writeTree(t, files)
			want, _ := folders(dir, false)
			if reflect.DeepEqual(want, folders0(t, baseDir)) {
				t.Fatalf("the change leaves the folders as they were (%v): the case means nothing", want)
			}
			if got, _ := folders(dir, true); !reflect.DeepEqual(got, want) {
				t.Errorf("stamped folders %v, want %v", got, want)
			}
		})
	}
}

// folders0 returns the folders of env in dir, found without stamps.
func folders0(t *testing.T, dir string) []string {
	t.Helper()
	tree, err := OpenTree(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	got, err := tree.Folders("env")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestLeafKustomizations: a kustomization is a leaf, which vet passes
// over, only when the stamps know everything it includes as a file under
// its folder.
func TestLeafKustomizations(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"files/kustomization.yaml":      kust("cm.yaml", "more/cm.yaml"),
		"files/cm.yaml":                 cm("a"),
		"files/more/cm.yaml":            cm("b"),
		"folder/kustomization.yaml":     kust("sub"),
		"folder/sub/kustomization.yaml": kust("cm.yaml"),
		"folder/sub/cm.yaml":            cm("c"),
		"outside/kustomization.yaml":    kust("../files/cm.yaml"),
		"missing/kustomization.yaml":    kust("gone.yaml"),
	})
	for _, stamped := range []bool{true, false} {
		tree, err := OpenTree(context.Background(), dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if stamped {
			tree.UseCache(NewBuildCache(10))
			tree.UseStamps(stamptest.Of(t, dir))
		}
		for folder, want := range map[string]bool{"files": true, "folder": false, "folder/sub": true, "outside": false, "missing": false} {
			v, err := tree.vetted(folder)
			if err != nil || v == nil {
				t.Fatalf("%s: %v", folder, err)
			}
			if v.leaf != (want && stamped) {
				t.Errorf("%s (stamps %v): leaf %v, want %v", folder, stamped, v.leaf, want && stamped)
			}
		}
		tree.Close()
	}
}

// withFiles returns the files of base with change written over them and
// drop left out.
func withFiles(base, change map[string]string, drop ...string) map[string]string {
	out := maps.Clone(base)
	for _, k := range drop {
		delete(out, k)
	}
	maps.Copy(out, change)
	return out
}
