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
	prev, err := c.Tree()
	if err != nil {
		return fmt.Errorf("read tree of %s: %w", from, err)
	}
	changes, err := object.DiffTreeWithOptions(ctx, prev, to, nil)
	if err != nil {
		return fmt.Errorf("compare %s with %s: %w", from, sha, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open export directory: %w", err)
	}
	defer root.Close()
	// Removals first: a file may give way to a folder of the same name.
	for _, ch := range changes {
		if ch.From.Name == "" || ch.From.TreeEntry.Mode == filemode.Submodule ||
			(ch.To.Name == ch.From.Name && ch.To.TreeEntry.Mode == ch.From.TreeEntry.Mode) {
			continue
		}
		if err := root.Remove(ch.From.Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("export %s over %s: remove %s: %w", sha, from, ch.From.Name, err)
		}
		// Folders left empty go too, as a fresh export has none.
		for d := path.Dir(ch.From.Name); d != "."; d = path.Dir(d) {
			if root.Remove(d) != nil {
				break
			}
		}
	}
	for _, ch := range changes {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("export %s into %s: %w", sha, dir, err)
		}
		if ch.To.Name == "" || ch.To.TreeEntry.Mode == filemode.Submodule {
			continue // removed above, or skipped as Export skips it
		}
		f, err := to.TreeEntryFile(&ch.To.TreeEntry)
		if err != nil {
			return fmt.Errorf("read %s: %w", ch.To.Name, err)
		}
		f.Name = ch.To.Name
		if ch.From.Name == ch.To.Name && f.Mode == filemode.Symlink {
			// A link changed in place: write it anew.
			if err := root.Remove(f.Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("export %s over %s: remove %s: %w", sha, from, f.Name, err)
			}
		}
		if err := exportFile(root, f, idx.links[f.Name]); err != nil {
			return fmt.Errorf("export %s into %s: %w", sha, dir, err)
		}
	}
	return nil
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
