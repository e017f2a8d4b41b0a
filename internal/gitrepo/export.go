package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxLinks bounds the symbolic links followed to resolve one link.
const maxLinks = 40

// Export writes the tree of a commit into dir, which should be new or
// empty, through an os.Root confined to dir: regular files 0644,
// executables 0755, and symbolic links as links. Every link is resolved
// through the tree first, and the commit is refused (a terminal error
// naming the link) when one leads outside the tree, to a folder, or
// through more than 40 links: links to folders would let one file of a
// pull request stand for endless paths. A link to nothing of the tree is
// written as it is. Submodules are skipped.
func (r *Repo) Export(ctx context.Context, sha, dir string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ix, tree, err := r.index(ctx, sha)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create export directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open export directory: %w", err)
	}
	defer root.Close()
	err = tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return exportFile(root, f, ix.links[f.Name])
	})
	if err != nil {
		return fmt.Errorf("export %s into %s: %w", sha, dir, err)
	}
	return nil
}

// ExportOver makes dir, which holds exactly what Export wrote of commit
// from, hold what Export would write of commit sha: only the files that
// differ between the two trees are written or removed, so that moving a
// checkout between two commits of a big repository costs what changed,
// not the size of the tree. Links are checked over the whole tree of sha
// as Export checks them, and a refused commit leaves dir as it was. On any
// other error dir is in between and must not be used again.
func (r *Repo) ExportOver(ctx context.Context, from, sha, dir string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	idx, to, err := r.index(ctx, sha)
	if err != nil {
		return err
	}
	if from == sha {
		return nil
	}
	c, err := r.commit(from)
	if err != nil {
		return err
	}
	delta, err := compareTrees(ctx, newTreeReader(r.repo.Storer), c.TreeHash, to.Hash)
	if err != nil {
		return fmt.Errorf("compare %s with %s: %w", from, sha, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open export directory: %w", err)
	}
	defer root.Close()
	// Removals first: a file may give way to a folder of the same name.
	for _, ch := range delta.Files {
		if err := removeOld(root, ch); err != nil {
			return fmt.Errorf("export %s over %s: %w", sha, from, err)
		}
	}
	for _, ch := range delta.Files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("export %s into %s: %w", sha, dir, err)
		}
		if ch.To == nil || ch.To.Mode == filemode.Submodule {
			continue // removed above, or skipped as Export skips it
		}
		if err := writeNew(root, to, ch, idx.links[ch.Path]); err != nil {
			return fmt.Errorf("export %s into %s: %w", sha, dir, err)
		}
	}
	return nil
}

// removeOld removes the file ch.From of a checkout unless a file of the
// same mode replaces it, and the folders that leaves empty, as a fresh
// export has none. Submodules were never written.
func removeOld(root *os.Root, ch treeChange) error {
	if ch.From == nil || ch.From.Mode == filemode.Submodule || (ch.To != nil && ch.To.Mode == ch.From.Mode) {
		return nil
	}
	if err := root.Remove(ch.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", ch.Path, err)
	}
	for d := path.Dir(ch.Path); d != "."; d = path.Dir(d) {
		if root.Remove(d) != nil {
			break
		}
	}
	return nil
}

// writeNew writes the file ch.To of tree to under root; target is where
// a link points. A link changed in place is written anew.
func writeNew(root *os.Root, to *object.Tree, ch treeChange, target string) error {
	f, err := to.TreeEntryFile(ch.To)
	if err != nil {
		return fmt.Errorf("read %s: %w", ch.Path, err)
	}
	f.Name = ch.Path
	if ch.From != nil && f.Mode == filemode.Symlink {
		if err := root.Remove(f.Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", f.Name, err)
		}
	}
	return exportFile(root, f, target)
}

// exportFile writes f under root; target is where a link points.
func exportFile(root *os.Root, f *object.File, target string) error {
	if err := root.MkdirAll(path.Dir(f.Name), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", f.Name, err)
	}
	switch f.Mode {
	case filemode.Symlink:
		return root.Symlink(target, f.Name)
	case filemode.Executable, filemode.Regular, filemode.Deprecated:
	default:
		return nil
	}
	content, err := f.Contents()
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Name, err)
	}
	perm := os.FileMode(0o644)
	if f.Mode == filemode.Executable {
		perm = 0o755
	}
	return root.WriteFile(f.Name, []byte(content), perm)
}
