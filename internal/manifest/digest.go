package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
)

// Folders returns the folders of the tree (slash-separated, relative to
// it, sorted) that a build of the kustomization in rel may read: rel and
// every folder its kustomizations include as resources, bases or
// components, transitively. kustomize reads files of a kustomization only
// under its own folder (the build's root-only restriction), so the files
// under these folders are everything the build depends on.
func (t *Tree) Folders(rel string) ([]string, error) {
	res, fi, err := t.resolve(filepath.Clean(filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	if fi == nil || !fi.IsDir() {
		return nil, fmt.Errorf("folders of %s: not a folder", t.Path(rel))
	}
	if out, ok := t.keptFoldersOf(res); ok {
		return out, nil
	}
	seen := map[string]bool{}
	if err := t.vet(res, seen); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for dir := range seen {
		out = append(out, filepath.ToSlash(dir))
	}
	sort.Strings(out)
	t.keepFolders(res, out)
	return append([]string(nil), out...), nil
}

// Digest hashes the names and contents of every file under the folders
// dirs of the tree, so that two trees whose folders hold the same files
// give the same digest. It reads through the tree's confined root;
// links are hashed as what they resolve to inside the tree, or as
// unreadable.
func (t *Tree) Digest(dirs []string) (string, error) {
	if d, ok := t.stampDigest(dirs); ok {
		return d, nil
	}
	h := sha256.New()
	fsys := t.root.FS()
	for _, dir := range dirs {
		fmt.Fprintf(h, "dir\x00%s\x00", dir)
		err := fs.WalkDir(fsys, path.Clean(dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(h, "error\x00%s\x00", p)
				return nil
			}
			if d.IsDir() {
				fmt.Fprintf(h, "folder\x00%s\x00", p)
				return t.check()
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				fmt.Fprintf(h, "unreadable\x00%s\x00", p)
				return nil
			}
			fmt.Fprintf(h, "file\x00%s\x00%d\x00", p, len(data))
			h.Write(data)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stampDigest is Digest from the folders' stamps, when the tree has them
// for every folder of dirs. It differs from the digest of the same files
// read, so a digest made one way never stands for one made the other.
func (t *Tree) stampDigest(dirs []string) (string, bool) {
	h := sha256.New()
	h.Write([]byte("stamps\x00"))
	for _, dir := range dirs {
		id, _, ok := t.folderStamp(dir)
		if !ok {
			return "", false
		}
		fmt.Fprintf(h, "dir\x00%s\x00%s\x00", dir, id)
	}
	return hex.EncodeToString(h.Sum(nil)), true
}
