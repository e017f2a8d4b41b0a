package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/gitvend/gitvend/internal/retry"
)

// maxIndexes bounds the commit indexes a clone keeps: the default
// branch's head and the pull request heads being checked.
const maxIndexes = 4

// Index is what the tree of one commit holds, read from Git's objects
// without reading any file but links: the mode and object id of every
// file and folder by slash-separated path, and where each symbolic link
// points. Every path is clean and every link is one Export follows (see
// Export); a commit that breaks either has no Index. An Index is never
// changed once made and is safe for concurrent use.
type Index struct {
	repo    *Repo // the clone it was read from, for ChangedSince
	commit  string
	entries entrySet          // "." is the root folder
	links   map[string]string // target by link
	// since holds, for a few commits this index was derived from,
	// directly or through others, the nearest first, the files that may
	// differ since (every file changed on the way), so that ChangedSince
	// answers for those commits and their other descendants without
	// reading Git.
	since []changesSince
}

// changesSince are the files that may differ since a commit.
type changesSince struct {
	commit string
	files  []string
}

// changedSince returns the files that may differ since commit c, when
// the index remembers them.
func (ix *Index) changedSince(c string) ([]string, bool) {
	for _, s := range ix.since {
		if s.commit == c {
			return s.files, true
		}
	}
	return nil, false
}

// maxSince bounds the commits an Index remembers the changes since.
const maxSince = 8

// indexEntry is one file or folder of an Index.
type indexEntry struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

// entrySet is the entries of an Index by path: a map of every entry of
// some earlier index, shared and never changed, and what differs from it
// (removals kept as tombstones). An index derived from another copies
// only what differs, so deriving costs what changed since the shared map,
// not the size of the tree; once the differences outgrow an eighth of the
// shared map, a derived index starts a new one.
type entrySet struct {
	base map[string]indexEntry
	over map[string]overEntry // nil while the set is being read whole
}

// overEntry is an entry set over the shared map, or the removal of one.
type overEntry struct {
	e    indexEntry
	gone bool
}

func (s *entrySet) get(p string) (indexEntry, bool) {
	if o, ok := s.over[p]; ok {
		return o.e, !o.gone
	}
	e, ok := s.base[p]
	return e, ok
}

func (s *entrySet) set(p string, e indexEntry) {
	if s.over == nil {
		s.base[p] = e
		return
	}
	s.over[p] = overEntry{e: e}
}

func (s *entrySet) remove(p string) {
	if s.over == nil {
		delete(s.base, p)
		return
	}
	if _, shared := s.base[p]; shared {
		s.over[p] = overEntry{gone: true}
	} else {
		delete(s.over, p)
	}
}

// derived returns a copy of s to change for a derived index.
func (s *entrySet) derived() entrySet {
	if len(s.over) <= len(s.base)/8+64 {
		over := make(map[string]overEntry, len(s.over))
		maps.Copy(over, s.over)
		return entrySet{base: s.base, over: over}
	}
	return entrySet{base: s.flat(), over: map[string]overEntry{}}
}

// flat returns every entry of s in a new map.
func (s *entrySet) flat() map[string]indexEntry {
	all := maps.Clone(s.base)
	for p, o := range s.over {
		if o.gone {
			delete(all, p)
		} else {
			all[p] = o.e
		}
	}
	return all
}

// root is the id of the commit's root folder.
func (ix *Index) root() plumbing.Hash {
	e, _ := ix.entries.get(".")
	return e.hash
}

// Commit is the commit the index describes.
func (ix *Index) Commit() string { return ix.commit }

// Folder returns the Git tree id of the folder rel (slash-separated,
// relative to the repository, "." for its root): two folders of any
// commits hold the same names, modes and contents exactly when their ids
// are equal. ok is false when rel is not a folder of the commit.
func (ix *Index) Folder(rel string) (id string, ok bool) {
	e, ok := ix.entries.get(path.Clean(rel))
	if !ok || e.mode != filemode.Dir {
		return "", false
	}
	return e.hash.String(), true
}

// File returns the Git blob id of the regular (or executable) file rel:
// two files of any commits hold the same bytes exactly when their ids are
// equal. ok is false when rel is not such a file of the commit.
func (ix *Index) File(rel string) (id string, ok bool) {
	e, ok := ix.entries.get(path.Clean(rel))
	if !ok || (e.mode != filemode.Regular && e.mode != filemode.Executable && e.mode != filemode.Deprecated) {
		return "", false
	}
	return e.hash.String(), true
}

// Links tells how many symbolic links the commit holds.
func (ix *Index) Links() int { return len(ix.links) }

// ChangedSince lists, slash-separated, the files that differ between the
// commit earlier and the index's commit: files, links and submodules
// inserted, deleted or changed in content or mode, a folder that came or
// went as the files it holds. It reads only the folders whose ids differ,
// so it costs what changed. ok is false when the clone has no such commit
// or cannot read the trees.
//
// When earlier is an Index this one shares an ancestor with (both derived
// from it), the answer comes without reading Git: the files changed on
// the way from the ancestor to either, which holds every file that
// differs and may hold some that do not (changed the same way on both
// ways). Otherwise the two trees are compared under the clone's lock.
func (ix *Index) ChangedSince(ctx context.Context, earlier interface{ Commit() string }) (files []string, ok bool) {
	r := ix.repo
	if r == nil {
		return nil, false
	}
	if files, ok := ix.sinceKnown(earlier); ok {
		return files, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(earlier.Commit())
	if err != nil {
		return nil, false
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, false
	}
	delta, err := compareTrees(ctx, newTreeReader(r.repo.Storer), tree.Hash, ix.root())
	if err != nil {
		return nil, false
	}
	return delta.paths(), true
}

// sinceKnown answers ChangedSince from what the indexes remember of the
// commits they were derived from.
func (ix *Index) sinceKnown(earlier interface{ Commit() string }) ([]string, bool) {
	c := earlier.Commit()
	if c == ix.commit {
		return []string{}, true
	}
	if files, ok := ix.changedSince(c); ok {
		return files, true
	}
	other, ok := earlier.(*Index)
	if !ok || other.repo != ix.repo {
		return nil, false
	}
	if files, ok := other.changedSince(ix.commit); ok {
		return files, true
	}
	for _, mine := range ix.since {
		if theirs, ok := other.changedSince(mine.commit); ok {
			return union(mine.files, theirs), true
		}
	}
	return nil, false
}

// union returns the paths of a and b, sorted, each once.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// deriveSince works out what the index of a commit derived from from by
// the changed files remembers: from's commit and, through it, the
// commits from remembers, the nearest first, at most maxSince.
func deriveSince(from *Index, changed []string) []changesSince {
	out := []changesSince{{from.commit, changed}}
	for _, s := range from.since {
		if len(out) >= maxSince {
			break
		}
		out = append(out, changesSince{s.commit, union(s.files, changed)})
	}
	return out
}

// newIndexes returns an empty keep of at most maxIndexes indexes.
func newIndexes() *simplelru.LRU[string, *Index] {
	l, err := simplelru.NewLRU[string, *Index](maxIndexes, nil)
	if err != nil {
		panic(fmt.Sprintf("index keep of size %d: %v", maxIndexes, err))
	}
	return l
}

// index returns the index of commit sha: kept, derived from a kept index
// of another commit by what differs (a few files for the commits of one
// pull request), or read whole. Callers hold r.mu.
func (r *Repo) index(ctx context.Context, sha string) (*Index, *object.Tree, error) {
	c, err := r.commit(sha)
	if err != nil {
		return nil, nil, err
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("read tree of %s: %w", sha, err)
	}
	if ix, ok := r.keptIndex(sha); ok {
		return ix, tree, nil
	}
	var ix *Index
	r.ixMu.Lock()
	_, from, ok := r.indexes.GetOldest()
	r.ixMu.Unlock()
	if ok {
		// GetOldest is as good as any: every kept index is recent.
		ix, err = deriveIndex(ctx, r, from, sha, tree)
	} else {
		ix, err = readIndex(r, sha, tree)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("export %s: %w", sha, err)
	}
	if err := ix.checkLinks(); err != nil {
		return nil, nil, retry.Terminal(fmt.Errorf("export %s: %w", sha, err))
	}
	r.ixMu.Lock()
	r.indexes.Add(sha, ix)
	r.ixMu.Unlock()
	return ix, tree, nil
}

// keptIndex returns the index of sha when it is kept; it waits for no
// other use of the clone.
func (r *Repo) keptIndex(sha string) (*Index, bool) {
	r.ixMu.Lock()
	defer r.ixMu.Unlock()
	return r.indexes.Get(sha)
}

// Index returns the index of commit sha; a commit Export refuses has
// none, and the error is Export's. A kept index is returned at once, even
// while a push or a fetch holds the clone.
func (r *Repo) Index(ctx context.Context, sha string) (*Index, error) {
	if ix, ok := r.keptIndex(sha); ok {
		return ix, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ix, _, err := r.index(ctx, sha)
	return ix, err
}

// readIndex reads the whole tree of commit sha, folders and entries only.
func readIndex(r *Repo, sha string, tree *object.Tree) (*Index, error) {
	ix := &Index{repo: r, commit: sha, entries: entrySet{base: map[string]indexEntry{".": {mode: filemode.Dir, hash: tree.Hash}}}, links: map[string]string{}}
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return ix, nil
		}
		if err != nil {
			return nil, fmt.Errorf("walk tree: %w", err)
		}
		if err := ix.add(r, name, e); err != nil {
			return nil, err
		}
	}
}

// add records the entry e at name, reading where a link points.
func (ix *Index) add(r *Repo, name string, e object.TreeEntry) error {
	if err := checkPath(name); err != nil {
		return fmt.Errorf("tree entry: %w", err)
	}
	ix.entries.set(name, indexEntry{mode: e.Mode, hash: e.Hash})
	if e.Mode != filemode.Symlink {
		return nil
	}
	b, err := object.GetBlob(r.repo.Storer, e.Hash)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	rd, err := b.Reader()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer rd.Close()
	target, err := io.ReadAll(io.LimitReader(rd, 4096))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	ix.links[name] = string(target)
	return nil
}

// deriveIndex makes the index of commit sha, whose tree is to, from the
// index of another commit and what differs between the two trees, read
// without reading the folders both commits share.
func deriveIndex(ctx context.Context, r *Repo, from *Index, sha string, to *object.Tree) (*Index, error) {
	delta, err := compareTrees(ctx, newTreeReader(r.repo.Storer), from.root(), to.Hash)
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: %w", from.commit, sha, err)
	}
	ix := &Index{repo: r, commit: sha, entries: from.entries.derived(), links: maps.Clone(from.links)}
	ix.entries.set(".", indexEntry{mode: filemode.Dir, hash: to.Hash})
	for _, ch := range delta.Files {
		if ch.From != nil {
			ix.entries.remove(ch.Path)
			delete(ix.links, ch.Path)
		}
	}
	for _, ch := range delta.Files {
		if ch.To != nil {
			if err := ix.add(r, ch.Path, *ch.To); err != nil {
				return nil, err
			}
		}
	}
	for _, ch := range delta.Folders {
		ix.setFolder(ch)
	}
	ix.since = deriveSince(from, delta.paths())
	return ix, nil
}

// setFolder records the folder change ch: the folder's new id, or its
// removal unless a file, added before, took its place.
func (ix *Index) setFolder(ch treeChange) {
	switch {
	case ch.To != nil && ch.To.Mode == filemode.Dir:
		ix.entries.set(ch.Path, indexEntry{mode: filemode.Dir, hash: ch.To.Hash})
	default:
		if e, ok := ix.entries.get(ch.Path); ok && e.mode == filemode.Dir {
			ix.entries.remove(ch.Path)
		}
	}
}

// checkLinks refuses the commit when one of its links leads where Export
// does not follow, naming the first such link in path order.
func (ix *Index) checkLinks() error {
	names := make([]string, 0, len(ix.links))
	for name := range ix.links {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := ix.checkLink(name); err != nil {
			return err
		}
	}
	return nil
}

// checkLink resolves the link name through the tree as the file system
// will, and refuses it when it leads outside the tree or to a folder.
func (ix *Index) checkLink(name string) error {
	target := ix.links[name]
	if path.IsAbs(target) {
		return fmt.Errorf("symbolic link %s -> %s points outside the repository (an absolute path)", name, target)
	}
	var done []string // the folder resolved so far, never through a link
	if d := path.Dir(name); d != "." {
		done = strings.Split(d, "/")
	}
	rest := strings.FieldsFunc(target, isSlash)
	hops := 1
	for len(rest) > 0 {
		seg := rest[0]
		rest = rest[1:]
		switch seg {
		case ".":
			continue
		case "..":
			if len(done) == 0 {
				return fmt.Errorf("symbolic link %s -> %s points outside the repository", name, target)
			}
			done = done[:len(done)-1]
			continue
		}
		next := path.Join(append(append([]string{}, done...), seg)...)
		switch e, ok := ix.entries.get(next); {
		case ok && e.mode == filemode.Dir:
			done = append(done, seg)
		case ok && e.mode == filemode.Symlink:
			if hops++; hops > maxLinks {
				return fmt.Errorf("symbolic link %s -> %s: more than %d links to follow", name, target, maxLinks)
			}
			t := ix.links[next]
			if path.IsAbs(t) {
				return fmt.Errorf("symbolic link %s -> %s points outside the repository through %s", name, target, next)
			}
			rest = append(strings.FieldsFunc(t, isSlash), rest...)
		default:
			// A file (the end, or used as a folder: nothing), or
			// nothing of the tree.
			return nil
		}
	}
	return fmt.Errorf("symbolic link %s -> %s points to a folder; gitvend exports links to files only", name, target)
}

func isSlash(r rune) bool { return r == '/' }
