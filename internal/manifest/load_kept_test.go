package manifest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/manifest/stamptest"
)

// TestFolderReadsKeptWhileStampsHold reads a repository folder by folder
// with stamps and a shared cache, then reads trees that differ from it,
// and wants from each what a read without stamps finds: a file changed
// deep down, a folder skipped in one read and not in another, and a
// kustomization (which a read builds) whose base outside its folder
// changed. The unchanged tree is read again without opening a file.
func TestFolderReadsKeptWhileStampsHold(t *testing.T) {
	base := map[string]string{
		"records/a.yaml":               cm("a"),
		"records/deep/b.yaml":          cm("b"),
		"records/deep/skipme/c.yaml":   cm("c"),
		"apps/web/kustomization.yaml":  kust("../../bases/web"),
		"bases/web/kustomization.yaml": kust("cm.yaml"),
		"bases/web/cm.yaml":            cm("web"),
	}
	with := func(k, v string) map[string]string { return withFiles(base, map[string]string{k: v}) }
	var cache *BuildCache
	read := func(dir string, stamped bool, skip ...string) ([]Object, int) {
		tree, err := OpenTree(context.Background(), dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		if stamped {
			tree.UseCache(cache)
			tree.UseStamps(stamptest.Of(t, dir))
		}
		l := NewLoader()
		for _, s := range skip {
			l.Skip(tree.Path(s))
		}
		l.Read(tree, ".")
		objs, err := l.Objects()
		if err != nil {
			t.Fatal(err)
		}
		for i := range objs {
			objs[i].File = objs[i].File[len(dir):]
		}
		return objs, tree.files
	}
	same := func(t *testing.T, got, want []Object) {
		t.Helper()
		ids := func(objs []Object) []string {
			var out []string
			for _, o := range objs {
				out = append(out, o.File+" "+o.ID.String()+" "+o.Digest())
			}
			return out
		}
		if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	}
	baseDir := writeTree(t, base)
	cache = NewBuildCache(100)
	want, _ := read(baseDir, false)
	got, _ := read(baseDir, true)
	same(t, got, want)
	// Everything but the kustomization, which is built every time.
	got, opened := read(writeTree(t, base), true)
	same(t, got, want)
	if opened > 3 {
		t.Errorf("the same files read again opened %d files, want at most the kustomization's 3", opened)
	}
	for name, c := range map[string]struct {
		files map[string]string
		skip  []string
	}{
		"a file deep down changes":             {files: with("records/deep/skipme/c.yaml", cm("c-changed"))},
		"a folder skipped":                     {files: base, skip: []string{"records/deep/skipme"}},
		"a built kustomization's base changes": {files: with("bases/web/cm.yaml", cm("web-changed"))},
	} {
		t.Run(name, func(t *testing.T) {
			cache = NewBuildCache(100)
			read(baseDir, true) // what the cache keeps is the base's
			dir := writeTree(t, c.files)
			want, _ := read(dir, false, c.skip...)
			got, _ := read(dir, true, c.skip...)
			same(t, got, want)
		})
	}
}
