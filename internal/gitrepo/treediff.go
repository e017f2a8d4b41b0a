package gitrepo

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// treeReader reads the tree objects of one comparison (or of one push),
// decoding each at most once: a tree met again, at another place or as
// the other side of a later comparison, is taken from what was decoded.
type treeReader struct {
	s     storer.EncodedObjectStorer
	trees map[plumbing.Hash][]object.TreeEntry
}

// newTreeReader returns a treeReader over the objects of s.
func newTreeReader(s storer.EncodedObjectStorer) *treeReader {
	return &treeReader{s: s, trees: map[plumbing.Hash][]object.TreeEntry{}}
}

// entries returns the entries of tree h, in the tree's order; none when h
// is zero, which stands for no tree at all.
func (tr *treeReader) entries(h plumbing.Hash) ([]object.TreeEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	if es, ok := tr.trees[h]; ok {
		return es, nil
	}
	t, err := object.GetTree(tr.s, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	tr.trees[h] = t.Entries
	return t.Entries, nil
}

// pairFunc receives one name of two trees compared and its entry in each:
// nil on the side that has no such name.
type pairFunc func(name string, from, to *object.TreeEntry) error

// eachPair calls fn for every name of the trees from and to (zero: no
// tree): the names of to in its order, then those only from has. The
// entries handed over belong to the reader and must not be changed.
func (tr *treeReader) eachPair(from, to plumbing.Hash, fn pairFunc) error {
	a, err := tr.entries(from)
	if err != nil {
		return err
	}
	b, err := tr.entries(to)
	if err != nil {
		return err
	}
	if sameNames(a, b) {
		for i := range b {
			if err := fn(b[i].Name, &a[i], &b[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return pairByName(a, b, fn)
}

// sameNames tells whether two listings hold the same names in the same
// order, as two versions of a folder do unless an entry came, went or
// turned from a file into a folder or back.
func sameNames(a, b []object.TreeEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// pairByName is eachPair for listings whose names differ. A name that is
// a file on one side and a folder on the other sorts at different places
// in the two, so entries are matched by name rather than by position.
func pairByName(a, b []object.TreeEntry, fn pairFunc) error {
	byName := make(map[string]int, len(a))
	for i := range a {
		byName[a[i].Name] = i
	}
	matched := make([]bool, len(a))
	for i := range b {
		var from *object.TreeEntry
		if j, ok := byName[b[i].Name]; ok && !matched[j] {
			from, matched[j] = &a[j], true
		}
		if err := fn(b[i].Name, from, &b[i]); err != nil {
			return err
		}
	}
	for j := range a {
		if !matched[j] {
			if err := fn(a[j].Name, &a[j], nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// treeChange is one path whose entry differs between two trees; From or
// To is nil where the path is absent. Their Name is the last element of
// Path.
type treeChange struct {
	Path     string
	From, To *object.TreeEntry
}

// treeDelta is what differs between two trees.
type treeDelta struct {
	// Files lists the files, links and submodules that differ, as Git
	// compares trees: a file inserted (From nil), deleted (To nil) or
	// modified in content or mode. A file that became a folder or back is
	// a deletion and an insertion; a folder inserted or deleted is listed
	// as the files it holds.
	Files []treeChange
	// Folders lists every folder that came, went or changed: To a folder
	// with its new id, or From a folder that is gone or a file now.
	Folders []treeChange
}

// paths lists the files that differ, slash-separated, sorted, each once.
func (d *treeDelta) paths() []string {
	out := make([]string, len(d.Files))
	for i, ch := range d.Files {
		out[i] = ch.Path
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// compareTrees reports what differs between the trees from and to (zero:
// an empty tree). It reads two folders only where their ids differ, so
// that it costs what changed, not the size of the trees.
func compareTrees(ctx context.Context, tr *treeReader, from, to plumbing.Hash) (*treeDelta, error) {
	c := &treeComparison{ctx: ctx, tr: tr}
	if err := c.folder("", from, to); err != nil {
		return nil, err
	}
	return &c.delta, nil
}

// treeComparison is one run of compareTrees.
type treeComparison struct {
	ctx   context.Context
	tr    *treeReader
	delta treeDelta
}

// folder compares the folder at dir (empty for the root) between trees
// from and to, either zero when the folder is absent on that side.
func (c *treeComparison) folder(dir string, from, to plumbing.Hash) error {
	if from == to {
		return nil
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	return c.tr.eachPair(from, to, func(name string, f, t *object.TreeEntry) error {
		return c.entry(joinPath(dir, name), f, t)
	})
}

// entry compares the entries at p, recording a file-like side as a file
// change and descending into a folder side.
func (c *treeComparison) entry(p string, from, to *object.TreeEntry) error {
	if sameEntry(from, to) {
		return nil
	}
	fromFile, fromDir := splitEntry(from)
	toFile, toDir := splitEntry(to)
	if fromFile != nil || toFile != nil {
		c.delta.Files = append(c.delta.Files, treeChange{Path: p, From: fromFile, To: toFile})
	}
	if fromDir.IsZero() && toDir.IsZero() {
		return nil
	}
	c.delta.Folders = append(c.delta.Folders, treeChange{Path: p, From: from, To: to})
	return c.folder(p, fromDir, toDir)
}

// sameEntry tells whether two entries are present and hold the same
// object in the same mode. Modes are as go-git reads them: one of Git's
// five, the deprecated group-writable regular mode read as regular.
func sameEntry(a, b *object.TreeEntry) bool {
	return a != nil && b != nil && a.Hash == b.Hash && a.Mode == b.Mode
}

// splitEntry returns e when it is file-like, or the id of the folder it
// is; nil and zero when e is nil.
func splitEntry(e *object.TreeEntry) (*object.TreeEntry, plumbing.Hash) {
	switch {
	case e == nil:
		return nil, plumbing.ZeroHash
	case e.Mode == filemode.Dir:
		return nil, e.Hash
	default:
		return e, plumbing.ZeroHash
	}
}

// joinPath is dir/name, or name at the root.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
