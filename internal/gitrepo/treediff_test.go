package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// spec describes a tree by path: the mode of each entry and its content,
// the text of a blob or, for a submodule, the commit id it pins. A folder
// given its own path with mode Dir and no files below it is empty.
type spec map[string]specEntry

type specEntry struct {
	mode    filemode.FileMode
	content string
}

func file(s string) specEntry { return specEntry{filemode.Regular, s} }

// countingStorer counts the reads of each object.
type countingStorer struct {
	storer.EncodedObjectStorer
	reads map[plumbing.Hash]int
}

func (s *countingStorer) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	s.reads[h]++
	return s.EncodedObjectStorer.EncodedObject(t, h)
}

// writeSpec stores the tree sp describes in s and returns its id.
func writeSpec(t *testing.T, s storer.EncodedObjectStorer, sp spec) plumbing.Hash {
	t.Helper()
	h, err := writeFolder(s, sp, "")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// writeFolder writes the folder dir ("" for the root) of sp.
func writeFolder(s storer.EncodedObjectStorer, sp spec, dir string) (plumbing.Hash, error) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	children := map[string]filemode.FileMode{}
	for p, e := range sp {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || rest == "" {
			continue
		}
		name, _, deeper := strings.Cut(rest, "/")
		if deeper {
			children[name] = filemode.Dir
		} else if _, seen := children[name]; !seen {
			children[name] = e.mode
		}
	}
	tree := &object.Tree{}
	for name, mode := range children {
		h, err := writeEntry(s, sp, joinPath(dir, name), mode)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: name, Mode: mode, Hash: h})
	}
	sort.Slice(tree.Entries, func(i, j int) bool { return gitOrder(tree.Entries[i]) < gitOrder(tree.Entries[j]) })
	return store(s, tree)
}

// gitOrder is the key Git sorts tree entries by: a folder's name as if it
// ended in a slash.
func gitOrder(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// writeEntry writes the entry at p and returns its id.
func writeEntry(s storer.EncodedObjectStorer, sp spec, p string, mode filemode.FileMode) (plumbing.Hash, error) {
	switch mode {
	case filemode.Dir:
		return writeFolder(s, sp, p)
	case filemode.Submodule:
		return plumbing.NewHash(sp[p].content), nil
	}
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := io.WriteString(w, sp[p].content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// store encodes o into s.
func store(s storer.EncodedObjectStorer, o interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// trickyTrees are trees that compare in awkward ways with one another.
func trickyTrees() map[string]spec {
	const sub1, sub2 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	base := spec{
		"a/b/c.txt":              file("c"),
		"a/d.txt":                file("d"),
		"a-b":                    file("sorts between a and a/"),
		"a.b":                    file("sorts before a/"),
		"x":                      file("x"),
		"run.sh":                 file("#!/bin/sh\n"),
		"link":                   {filemode.Symlink, "a/d.txt"},
		"deep/1/2/3/4/f.txt":     file("f"),
		"deep/1/2/3/4/g.txt":     file("g"),
		"mod":                    {filemode.Submodule, sub1},
		"old.txt":                {filemode.Deprecated, "old"},
		"same/one.txt":           file("1"),
		"same/two/three.txt":     file("3"),
		"requests/dev/ns/a.yaml": file("kind: Request\n"),
	}
	with := func(change func(spec)) spec {
		s := maps.Clone(base)
		change(s)
		return s
	}
	return map[string]spec{
		"empty": {},
		"base":  base,
		"file to folder": with(func(s spec) {
			delete(s, "x")
			s["x/y.txt"] = file("x")
			delete(s, "a/d.txt")
			s["a/d.txt/inner/z"] = file("d")
		}),
		"folder to file": with(func(s spec) {
			delete(s, "a/b/c.txt")
			s["a/b"] = file("c")
			delete(s, "same/two/three.txt")
			s["same/two"] = specEntry{filemode.Symlink, "one.txt"}
		}),
		"modes": with(func(s spec) {
			s["run.sh"] = specEntry{filemode.Executable, "#!/bin/sh\n"}
			s["link"] = file("a/d.txt")
			s["a/d.txt"] = specEntry{filemode.Symlink, "d"}
			s["old.txt"] = file("old")
			s["x"] = specEntry{filemode.Deprecated, "x2"}
		}),
		"deep rename": with(func(s spec) {
			delete(s, "deep/1/2/3/4/f.txt")
			delete(s, "deep/1/2/3/4/g.txt")
			s["deep/1/2/x/4/f.txt"] = file("f")
			s["deep/1/2/x/4/g.txt"] = file("g")
			s["deep/one/2/3/4/f.txt"] = file("f")
		}),
		"submodules": with(func(s spec) {
			s["mod"] = specEntry{filemode.Submodule, sub2}
			delete(s, "same/two/three.txt")
			s["same/two"] = specEntry{filemode.Submodule, sub1}
			s["x"] = specEntry{filemode.Submodule, sub1}
		}),
		"submodule to folder": with(func(s spec) {
			delete(s, "mod")
			s["mod/inside.txt"] = file("in")
		}),
		"empty folders": with(func(s spec) {
			s["hollow"] = specEntry{mode: filemode.Dir}
			s["a/b/hollow"] = specEntry{mode: filemode.Dir}
			delete(s, "same/two/three.txt")
			s["same/two"] = specEntry{mode: filemode.Dir}
		}),
		"one file": with(func(s spec) {
			s["requests/dev/ns/a.yaml"] = file("kind: Request\nname: a\n")
		}),
		"only links": {"l": {filemode.Symlink, "nowhere"}, "a/l": {filemode.Symlink, "../l"}},
	}
}

// change is a treeChange or go-git change in comparable form.
type change struct {
	path             string
	fromMode, toMode filemode.FileMode
	fromHash, toHash plumbing.Hash
}

func (c change) String() string {
	return fmt.Sprintf("%s %v:%.7s→%v:%.7s", c.path, c.fromMode, c.fromHash, c.toMode, c.toHash)
}

func changeOf(path string, from, to *object.TreeEntry) change {
	c := change{path: path}
	if from != nil {
		c.fromMode, c.fromHash = from.Mode, from.Hash
	}
	if to != nil {
		c.toMode, c.toHash = to.Mode, to.Hash
	}
	return c
}

// goGitChanges compares two trees with go-git's DiffTree.
func goGitChanges(t *testing.T, s storer.EncodedObjectStorer, from, to plumbing.Hash) map[change]bool {
	t.Helper()
	var trees [2]*object.Tree
	for i, h := range []plumbing.Hash{from, to} {
		if h.IsZero() {
			continue
		}
		tree, err := object.GetTree(s, h)
		if err != nil {
			t.Fatal(err)
		}
		trees[i] = tree
	}
	chs, err := object.DiffTree(trees[0], trees[1])
	if err != nil {
		t.Fatal(err)
	}
	got := map[change]bool{}
	for _, ch := range chs {
		c := change{path: ch.To.Name}
		if ch.From.Name != "" {
			c.path, c.fromMode, c.fromHash = ch.From.Name, ch.From.TreeEntry.Mode, ch.From.TreeEntry.Hash
		}
		if ch.To.Name != "" {
			c.toMode, c.toHash = ch.To.TreeEntry.Mode, ch.To.TreeEntry.Hash
		}
		got[c] = true
	}
	return got
}

// fullListing is every entry of tree h by path, folders included, read
// whole.
func fullListing(t *testing.T, s storer.EncodedObjectStorer, h plumbing.Hash) map[string]indexEntry {
	t.Helper()
	all := map[string]indexEntry{}
	if h.IsZero() {
		return all
	}
	tree, err := object.GetTree(s, h)
	if err != nil {
		t.Fatal(err)
	}
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return all
		}
		if err != nil {
			t.Fatal(err)
		}
		all[name] = indexEntry{mode: e.Mode, hash: e.Hash}
	}
}

// apply changes a full listing by delta, as deriveIndex changes an index.
func apply(listing map[string]indexEntry, delta *treeDelta) map[string]indexEntry {
	ix := &Index{entries: entrySet{base: listing, over: map[string]overEntry{}}}
	for _, ch := range delta.Files {
		if ch.From != nil {
			ix.entries.remove(ch.Path)
		}
	}
	for _, ch := range delta.Files {
		if ch.To != nil {
			ix.entries.set(ch.Path, indexEntry{mode: ch.To.Mode, hash: ch.To.Hash})
		}
	}
	for _, ch := range delta.Folders {
		ix.setFolder(ch)
	}
	return ix.entries.flat()
}

// TestCompareTreesAsGoGit compares every pair of tricky trees (and no tree
// at all) both ways: the files compareTrees reports are the changes
// go-git's DiffTree reports, its folders turn the full listing of one tree
// into the other's, and no tree is read twice.
func TestCompareTreesAsGoGit(t *testing.T) {
	ctx := context.Background()
	s := &countingStorer{EncodedObjectStorer: memory.NewStorage(), reads: map[plumbing.Hash]int{}}
	ids := map[string]plumbing.Hash{"none": plumbing.ZeroHash}
	for name, sp := range trickyTrees() {
		ids[name] = writeSpec(t, s, sp)
	}
	for fromName, from := range ids {
		for toName, to := range ids {
			clear(s.reads)
			delta, err := compareTrees(ctx, newTreeReader(s), from, to)
			if err != nil {
				t.Fatalf("%s → %s: %v", fromName, toName, err)
			}
			for h, n := range s.reads {
				if n > 1 {
					t.Errorf("%s → %s: tree %s read %d times", fromName, toName, h, n)
				}
			}
			got := map[change]bool{}
			for _, ch := range delta.Files {
				got[changeOf(ch.Path, ch.From, ch.To)] = true
			}
			if want := goGitChanges(t, s, from, to); !maps.Equal(got, want) {
				t.Errorf("%s → %s: changes\n%v\nwant (go-git)\n%v", fromName, toName, sortedKeys(got), sortedKeys(want))
			}
			if from == to && (len(delta.Files) > 0 || len(delta.Folders) > 0) {
				t.Errorf("%s → %s: identical trees differ: %+v", fromName, toName, delta)
			}
			got2, want2 := apply(fullListing(t, s, from), delta), fullListing(t, s, to)
			if !maps.Equal(got2, want2) {
				t.Errorf("%s → %s: listing after the changes\n%v\nwant\n%v", fromName, toName, got2, want2)
			}
		}
	}
}

func sortedKeys(m map[change]bool) []string {
	var out []string
	for c := range m {
		out = append(out, c.String())
	}
	sort.Strings(out)
	return out
}

// TestCompareTreesReadsOnlyChanges changes one file of a wide, deep tree
// and expects compareTrees to read only the folders on its path, on both
// sides.
func TestCompareTreesReadsOnlyChanges(t *testing.T) {
	s := &countingStorer{EncodedObjectStorer: memory.NewStorage(), reads: map[plumbing.Hash]int{}}
	sp := spec{}
	for i := range 200 {
		sp[fmt.Sprintf("requests/dev/team-%d/svc-%d/deployment.yaml", i/20, i)] = file(fmt.Sprint(i))
	}
	from := writeSpec(t, s, sp)
	sp["requests/dev/team-3/svc-70/deployment.yaml"] = file("changed")
	to := writeSpec(t, s, sp)
	clear(s.reads)
	delta, err := compareTrees(context.Background(), newTreeReader(s), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(delta.Files) != 1 || delta.Files[0].Path != "requests/dev/team-3/svc-70/deployment.yaml" {
		t.Errorf("changes %+v, want the one file", delta.Files)
	}
	if len(delta.Folders) != 4 {
		t.Errorf("folders %+v, want the four on the file's path", delta.Folders)
	}
	if len(s.reads) != 10 {
		t.Errorf("read %d objects, want 10 trees: the root and four folders on each side", len(s.reads))
	}
}

// TestCompareTreesBadInput expects errors, not panics, for a folder entry
// that is not a tree, a missing tree and a cancelled comparison.
func TestCompareTreesBadInput(t *testing.T) {
	ctx := context.Background()
	s := memory.NewStorage()
	good := writeSpec(t, s, spec{"a/b": file("b")})
	blob := writeSpec(t, s, spec{"a": file("a")})
	tree, err := object.GetTree(s, blob)
	if err != nil {
		t.Fatal(err)
	}
	// A folder entry pointing at a blob.
	bad, err := store(s, &object.Tree{Entries: []object.TreeEntry{{Name: "a", Mode: filemode.Dir, Hash: tree.Entries[0].Hash}}})
	if err != nil {
		t.Fatal(err)
	}
	missing := plumbing.NewHash("3333333333333333333333333333333333333333")
	for name, pair := range map[string][2]plumbing.Hash{"not a tree": {good, bad}, "missing": {good, missing}} {
		if _, err := compareTrees(ctx, newTreeReader(s), pair[0], pair[1]); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := compareTrees(cancelled, newTreeReader(s), good, blob); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

// TestEntrySetAsMap: entry sets derived one from another, through many
// generations and past the point where a new shared map is started, hold
// what plain maps changed the same way hold, and a derived set leaves the
// one it came from as it was.
func TestEntrySetAsMap(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	key := func() string { return fmt.Sprintf("f%d", rnd.IntN(400)) }
	want := map[string]indexEntry{}
	s := entrySet{base: map[string]indexEntry{}}
	for range 300 {
		k := key()
		e := indexEntry{mode: filemode.Regular, hash: plumbing.NewHash(fmt.Sprintf("%040x", rnd.IntN(1<<30)))}
		want[k] = e
		s.set(k, e)
	}
	type generation struct {
		set  entrySet
		want map[string]indexEntry
	}
	var gens []generation
	for g := range 60 {
		gens = append(gens, generation{set: s, want: maps.Clone(want)})
		s = s.derived()
		for range 1 + g%20 {
			k := key()
			if rnd.IntN(3) == 0 {
				delete(want, k)
				s.remove(k)
				continue
			}
			e := indexEntry{mode: filemode.Regular, hash: plumbing.NewHash(fmt.Sprintf("%040x", rnd.IntN(1<<30)))}
			want[k] = e
			s.set(k, e)
		}
	}
	gens = append(gens, generation{set: s, want: want})
	for i, g := range gens {
		if got := g.set.flat(); !maps.Equal(got, g.want) {
			t.Fatalf("generation %d: %d entries, want %d", i, len(got), len(g.want))
		}
		for n := range 400 {
			k := fmt.Sprintf("f%d", n)
			e, ok := g.set.get(k)
			w, wok := g.want[k]
			if ok != wok || e != w {
				t.Fatalf("generation %d: get(%s) = %v, %v; want %v, %v", i, k, e, ok, w, wok)
			}
		}
	}
}
