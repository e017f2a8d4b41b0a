package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitvend/gitvend/internal/retry"
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
	_, files, idx, err := r.exportable(sha)
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
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("export %s into %s: %w", sha, dir, err)
		}
		if err := exportFile(root, f, idx.links[f.Name]); err != nil {
			return fmt.Errorf("export %s into %s: %w", sha, dir, err)
		}
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
	to, _, idx, err := r.exportable(sha)
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

// exportable reads the tree of commit sha, its files and its index, and
// refuses it (as terminal) when a path is bad or a link leads where
// Export does not follow.
func (r *Repo) exportable(sha string) (*object.Tree, []*object.File, treeIndex, error) {
	idx := treeIndex{modes: map[string]filemode.FileMode{}, links: map[string]string{}, dirs: map[string]bool{}}
	c, err := r.commit(sha)
	if err != nil {
		return nil, nil, idx, err
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, nil, idx, fmt.Errorf("read tree of %s: %w", sha, err)
	}
	var files []*object.File
	err = tree.Files().ForEach(func(f *object.File) error {
		if err := checkPath(f.Name); err != nil {
			return fmt.Errorf("tree entry: %w", err)
		}
		files = append(files, f)
		idx.modes[f.Name] = f.Mode
		for d := path.Dir(f.Name); d != "."; d = path.Dir(d) {
			idx.dirs[d] = true
		}
		if f.Mode == filemode.Symlink {
			target, err := f.Contents()
			if err != nil {
				return fmt.Errorf("read %s: %w", f.Name, err)
			}
			idx.links[f.Name] = target
		}
		return nil
	})
	if err != nil {
		return nil, nil, idx, fmt.Errorf("export %s: %w", sha, err)
	}
	for _, f := range files {
		if f.Mode == filemode.Symlink {
			if err := idx.checkLink(f.Name); err != nil {
				return nil, nil, idx, retry.Terminal(fmt.Errorf("export %s: %w", sha, err))
			}
		}
	}
	return tree, files, idx, nil
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

// treeIndex is what a commit's tree holds, by slash-separated path.
type treeIndex struct {
	modes map[string]filemode.FileMode
	links map[string]string // target by link
	dirs  map[string]bool
}

// checkLink resolves the link name through the tree as the file system
// will, and refuses it when it leads outside the tree or to a folder.
func (idx treeIndex) checkLink(name string) error {
	target := idx.links[name]
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
		switch mode, ok := idx.modes[next]; {
		case idx.dirs[next]:
			done = append(done, seg)
		case ok && mode == filemode.Symlink:
			if hops++; hops > maxLinks {
				return fmt.Errorf("symbolic link %s -> %s: more than %d links to follow", name, target, maxLinks)
			}
			t := idx.links[next]
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
