package manifest

import (
	"path/filepath"
	"strings"
)

// Stamps name what the folders and files of a tree hold, as the index of
// the commit a checkout was exported from does (gitrepo.Index gives Git's
// object ids): two folders, or two files, with equal stamps hold the same
// names, modes and contents. A tree given stamps trusts them for what is
// on disk, so that the work of a pull request check or build grows with
// what changed rather than with the repository:
//   - Digest hashes the folders' stamps instead of reading their files;
//   - a folder's vetted kustomization, and the build of a folder whose
//     kustomization lists only its own files, are taken from the
//     BuildCache by the folder's stamp without reading it;
//   - a path the stamps know as a folder is one, without asking the disk;
//   - a Loader takes a file's objects from the BuildCache by its stamp,
//     and the objects of a folder it reads (without a kustomization) by
//     the folder's stamp and the folders under it it skips;
//   - Folders answers from the BuildCache while the stamps of the folder
//     and of every path its kustomizations name outside their folders
//     hold, and vet passes over a kustomization that includes only
//     files under its folder.
//
// A tree with a symbolic link anywhere takes no stamps: what a link leads
// to can change while the folder holding it keeps its stamp.
type Stamps interface {
	// Folder returns the stamp of the folder rel (slash-separated,
	// relative to the tree), ok false when it is not a folder.
	Folder(rel string) (stamp string, ok bool)
	// File returns the stamp of the file rel, ok false when it is not a
	// regular file.
	File(rel string) (stamp string, ok bool)
	// Links tells how many symbolic links the tree holds.
	Links() int
}

// UseStamps makes the tree trust s for what its folder holds (see
// Stamps), from its next read on; s must describe exactly what the folder
// holds and the folder must not change while the tree is open. Stamps of a
// tree with links are not used.
func (t *Tree) UseStamps(s Stamps) {
	if s == nil || s.Links() > 0 {
		return
	}
	t.memoMu.Lock()
	defer t.memoMu.Unlock()
	t.stamps = s
}

// stamped returns the tree's stamps, nil when it has none or no
// BuildCache to keep what they name.
func (t *Tree) stamped() (Stamps, *BuildCache) {
	t.memoMu.Lock()
	defer t.memoMu.Unlock()
	if t.cache == nil {
		return nil, nil
	}
	return t.stamps, t.cache
}

// stampPath turns rel (relative to the tree, resolved or not) into the
// slash-separated path stamps know, when resolve would reach it as it is:
// clean, inside the tree and within the tree's depth bound. With no links
// in the tree, such a path resolves to itself.
func (t *Tree) stampPath(rel string) (string, bool) {
	p := filepath.ToSlash(filepath.Clean(rel))
	if p == "." {
		return p, true
	}
	if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") || strings.Count(p, "/")+1 > t.lim.Depth {
		return "", false
	}
	return p, true
}

// folderStamp returns the stamp of the folder rel, when the tree has
// stamps with a cache and rel is a folder of them.
func (t *Tree) folderStamp(rel string) (string, *BuildCache, bool) {
	s, c := t.stamped()
	if s == nil {
		return "", nil, false
	}
	p, ok := t.stampPath(rel)
	if !ok {
		return "", nil, false
	}
	id, ok := s.Folder(p)
	return id, c, ok
}

// fileStamp returns the stamp of the regular file rel, when the tree has
// stamps with a cache and rel is such a file of them.
func (t *Tree) fileStamp(rel string) (string, *BuildCache, bool) {
	s, c := t.stamped()
	if s == nil {
		return "", nil, false
	}
	p, ok := t.stampPath(rel)
	if !ok || p == "." {
		return "", nil, false
	}
	id, ok := s.File(p)
	return id, c, ok
}

// isStampedFolder tells whether the stamps know rel as a folder: resolve
// would give rel itself, a folder.
func (t *Tree) isStampedFolder(rel string) bool {
	_, _, ok := t.folderStamp(rel)
	return ok
}

// folderInfo is what entry tells of a folder the stamps know.
type folderInfo struct{}

func (folderInfo) IsDir() bool { return true }
