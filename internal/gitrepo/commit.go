package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitvend/gitvend/internal/retry"
)

// Signature is a commit author.
type Signature struct {
	Name  string
	Email string
}

// BotSignature is the author GitHub links to a GitHub App's bot user:
// "<slug>[bot] <<botUserID>+<slug>[bot]@users.noreply.github.com>". login
// is the bot user's login, "<slug>[bot]", and botUserID the bot user's own
// id (GET /users/{login}; github.App.BotUser), not the App's id: with the
// App's id GitHub links the commits to nobody.
func BotSignature(login string, botUserID int64) Signature {
	return Signature{Name: login, Email: fmt.Sprintf("%d+%s@users.noreply.github.com", botUserID, login)}
}

// CommitSpec describes a commit built on a parent.
type CommitSpec struct {
	// Parent is the commit to build on; empty for a first commit.
	Parent string
	// Files are written (created or replaced) with the given content.
	Files map[string][]byte
	// Delete lists files or whole directories to remove; missing ones are
	// ignored. Deletions happen before Files are written.
	Delete []string
	// Message is the commit message.
	Message string
	// Author is the author and committer.
	Author Signature
	// Time is the author and committer time, in seconds; zero means now.
	Time time.Time
}

func (s *CommitSpec) validate() error {
	var errs []error
	if strings.TrimSpace(s.Message) == "" {
		errs = append(errs, errors.New("message: empty; a commit needs a message"))
	}
	if s.Author.Name == "" || s.Author.Email == "" || strings.ContainsAny(s.Author.Name+s.Author.Email, "<>\n") {
		errs = append(errs, fmt.Errorf("author %q <%s>: want a name and an email without <, > or line breaks", s.Author.Name, s.Author.Email))
	}
	if s.Parent != "" && !isSHA(s.Parent) {
		errs = append(errs, fmt.Errorf("parent %q: want a 40-character commit id or empty", s.Parent))
	}
	for _, p := range slices.Sorted(maps.Keys(s.Files)) {
		if err := checkPath(p); err != nil {
			errs = append(errs, fmt.Errorf("files: %w", err))
		}
	}
	for _, p := range s.Delete {
		if err := checkPath(p); err != nil {
			errs = append(errs, fmt.Errorf("delete: %w", err))
		} else if _, both := s.Files[p]; both {
			errs = append(errs, fmt.Errorf("delete: path %q is also in files", p))
		}
	}
	return retry.Terminal(errors.Join(errs...))
}

// Commit builds a commit from its parent's tree plus spec's changes, by
// writing blobs and trees directly (no worktree), and returns its id. The
// same spec gives the same commit id. When the tree would not change, no
// commit is made and the parent's id is returned.
func (r *Repo) Commit(ctx context.Context, spec CommitSpec) (string, error) {
	if err := spec.validate(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := &treeBuilder{repo: r}
	root := &dirNode{entries: map[string]*treeItem{}}
	var parentTree plumbing.Hash
	var parents []plumbing.Hash
	if spec.Parent != "" {
		parent, err := r.commit(spec.Parent)
		if err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
		parentTree, parents = parent.TreeHash, []plumbing.Hash{parent.Hash}
		if root, err = b.load(parentTree); err != nil {
			return "", err
		}
	}
	for _, p := range spec.Delete {
		if err := b.remove(root, p); err != nil {
			return "", fmt.Errorf("delete %s: %w", p, err)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(spec.Files)) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := b.set(root, p, spec.Files[p]); err != nil {
			return "", fmt.Errorf("files[%s]: %w", p, err)
		}
	}
	treeHash, err := b.write(root)
	if err != nil {
		return "", err
	}
	if spec.Parent != "" && treeHash == parentTree {
		return spec.Parent, nil
	}
	when := spec.Time
	if when.IsZero() {
		when = time.Now()
	}
	sig := object.Signature{Name: spec.Author.Name, Email: spec.Author.Email, When: when.Truncate(time.Second)}
	msg := spec.Message
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: treeHash, ParentHashes: parents}
	obj := r.repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return "", fmt.Errorf("encode commit: %w", err)
	}
	h, err := r.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return "", fmt.Errorf("store commit: %w", err)
	}
	return h.String(), nil
}

// dirNode is a directory being edited; entries not touched keep the hash
// of their tree or blob and are never read.
type dirNode struct {
	entries map[string]*treeItem
}

// treeItem is one entry of a directory.
type treeItem struct {
	mode filemode.FileMode
	hash plumbing.Hash
	dir  *dirNode // loaded (and maybe changed) subdirectory
}

// treeBuilder edits trees of one repository. Callers hold repo.mu.
type treeBuilder struct {
	repo *Repo
}

// load reads one tree level.
func (b *treeBuilder) load(h plumbing.Hash) (*dirNode, error) {
	t, err := object.GetTree(b.repo.repo.Storer, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	n := &dirNode{entries: make(map[string]*treeItem, len(t.Entries))}
	for _, e := range t.Entries {
		n.entries[e.Name] = &treeItem{mode: e.Mode, hash: e.Hash}
	}
	return n, nil
}

// subdir returns the loaded directory of item, loading it when needed.
func (b *treeBuilder) subdir(item *treeItem) (*dirNode, error) {
	if item.dir == nil {
		d, err := b.load(item.hash)
		if err != nil {
			return nil, err
		}
		item.dir = d
	}
	return item.dir, nil
}

// remove deletes a file or directory; a missing path is no error.
func (b *treeBuilder) remove(root *dirNode, p string) error {
	elems := strings.Split(p, "/")
	d := root
	for _, el := range elems[:len(elems)-1] {
		item, ok := d.entries[el]
		if !ok || item.mode != filemode.Dir {
			return nil
		}
		var err error
		if d, err = b.subdir(item); err != nil {
			return err
		}
	}
	delete(d.entries, elems[len(elems)-1])
	return nil
}

// set writes a file, creating directories on the way.
func (b *treeBuilder) set(root *dirNode, p string, content []byte) error {
	elems := strings.Split(p, "/")
	d := root
	for i, el := range elems[:len(elems)-1] {
		item, ok := d.entries[el]
		switch {
		case !ok:
			item = &treeItem{mode: filemode.Dir, dir: &dirNode{entries: map[string]*treeItem{}}}
			d.entries[el] = item
		case item.mode != filemode.Dir:
			return retry.Terminal(fmt.Errorf("%s is a file; delete it first to make it a directory", strings.Join(elems[:i+1], "/")))
		}
		var err error
		if d, err = b.subdir(item); err != nil {
			return err
		}
	}
	name := elems[len(elems)-1]
	mode := filemode.Regular
	if old, ok := d.entries[name]; ok {
		switch old.mode {
		case filemode.Dir:
			return retry.Terminal(fmt.Errorf("%s is a directory; delete it first to make it a file", p))
		case filemode.Executable:
			mode = filemode.Executable
		}
	}
	h, err := b.blob(content)
	if err != nil {
		return err
	}
	d.entries[name] = &treeItem{mode: mode, hash: h}
	return nil
}

func (b *treeBuilder) blob(content []byte) (plumbing.Hash, error) {
	s := b.repo.repo.Storer
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store blob: %w", err)
	}
	return h, nil
}

// write stores the trees of loaded directories, bottom up, dropping
// directories left empty, and returns the root tree's hash.
func (b *treeBuilder) write(d *dirNode) (plumbing.Hash, error) {
	t := &object.Tree{}
	for name, item := range d.entries {
		if item.dir != nil {
			if len(item.dir.entries) == 0 {
				continue
			}
			h, err := b.write(item.dir)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if h.String() == emptyTreeID {
				continue
			}
			item.hash = h
		}
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: item.mode, Hash: item.hash})
	}
	sort.Sort(object.TreeEntrySorter(t.Entries))
	obj := b.repo.repo.Storer.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	h, err := b.repo.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store tree: %w", err)
	}
	return h, nil
}

// emptyTreeID is git's id of a tree without entries.
const emptyTreeID = "4b825dc642cb6eb9a060e54bf8d69288fbc4904f"
