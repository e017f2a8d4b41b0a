package manifest

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// keptFolders is what Folders found for a folder of a tree with stamps:
// the folders a build of it reads, and what the stamps said of every path
// a kustomization among them names outside its own folder. While the
// folder's stamp and these are the same, the walk through the
// kustomizations goes the same way (a folder's stamp covers its
// kustomization and everything under it, and every other folder the walk
// enters is such a path), and finds the same folders.
type keptFolders struct {
	folders []string // sorted, slash-separated
	probes  []probe
}

// probe is a path a kustomization names outside its folder, and what the
// stamps know it as: a file, a folder or neither ("" for not one).
type probe struct{ path, file, folder string }

// foldersKey names the folders of the folder rel (resolved) with stamp
// id, under the tree's bounds, which stop the walk.
func (t *Tree) foldersKey(rel, id string) string {
	return fmt.Sprintf("folders\x00%s\x00%s\x00%d\x00%d", filepath.ToSlash(rel), id, t.lim.Files, t.lim.Depth)
}

// keptFoldersOf returns the folders kept for the folder rel (resolved)
// when the tree has stamps and they still hold.
func (t *Tree) keptFoldersOf(rel string) ([]string, bool) {
	id, cache, ok := t.folderStamp(rel)
	if !ok {
		return nil, false
	}
	k, ok := cache.keptFolders(t.foldersKey(rel, id))
	if !ok {
		return nil, false
	}
	for _, p := range k.probes {
		if t.probe(p.path) != p {
			return nil, false
		}
	}
	return append([]string(nil), k.folders...), true
}

// keepFolders keeps folders, which Folders found for the folder rel
// (resolved), when the tree has stamps for them all.
func (t *Tree) keepFolders(rel string, folders []string) {
	id, cache, ok := t.folderStamp(rel)
	if !ok {
		return
	}
	k := &keptFolders{folders: folders}
	for _, f := range folders {
		if !t.isStampedFolder(filepath.FromSlash(f)) {
			return
		}
		v, err := t.vetted(filepath.FromSlash(f))
		if err != nil {
			return
		}
		if v == nil || v.leaf {
			continue // nothing named outside the folder
		}
		for _, inc := range v.includes {
			if sub := path.Join(f, inc); !under(f, sub) {
				k.probes = append(k.probes, t.probe(sub))
			}
		}
	}
	cache.keepFolders(t.foldersKey(rel, id), k)
}

// probe tells what the stamps know the path p as.
func (t *Tree) probe(p string) probe {
	pr := probe{path: p}
	pr.file, _, _ = t.fileStamp(filepath.FromSlash(p))
	pr.folder, _, _ = t.folderStamp(filepath.FromSlash(p))
	return pr
}

// under tells whether the clean path p is the folder f or lies under it,
// where f's stamp covers it.
func under(f, p string) bool {
	if f == "." {
		return p != ".." && !strings.HasPrefix(p, "../")
	}
	return p == f || strings.HasPrefix(p, f+"/")
}
