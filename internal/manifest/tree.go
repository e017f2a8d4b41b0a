package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gitvend/gitvend/internal/field"
)

// Default bounds of what one Tree reads: one check of a pull request, one
// build of a target's environments, or one Load.
const (
	// MaxFolderDepth bounds how deeply folders nest below the root.
	MaxFolderDepth = 32
	// MaxFiles bounds how many files and folders are opened. A
	// repository of 10,000 requests holds about 50,000 (a record and a
	// rendered folder of three files each); the bound leaves room for
	// twice that, and MaxBytes still bounds what is read.
	MaxFiles = 100_000
	// MaxObjects bounds how many objects are decoded or built.
	MaxObjects = 50_000
	// MaxBytes bounds how many bytes are read.
	MaxBytes = 256 << 20
	// maxLinks bounds the symbolic links followed to resolve one path.
	maxLinks = 40
)

// Limits bound what one Tree reads. A zero field takes its default.
type Limits struct {
	Depth   int   // folders below the root (MaxFolderDepth)
	Files   int   // files and folders opened (MaxFiles)
	Objects int   // objects decoded or built (MaxObjects)
	Bytes   int64 // bytes read (MaxBytes)
}

func (l Limits) withDefaults() Limits {
	if l.Depth <= 0 {
		l.Depth = MaxFolderDepth
	}
	if l.Files <= 0 {
		l.Files = MaxFiles
	}
	if l.Objects <= 0 {
		l.Objects = MaxObjects
	}
	if l.Bytes <= 0 {
		l.Bytes = MaxBytes
	}
	return l
}

// Tree is a read-only, confined and bounded view of one folder, such as a
// checkout of a desired-state repository. Every path is resolved inside
// the folder through an os.Root: a symbolic link may point to a file of
// the tree, never outside it and never to a folder, and what is read is
// bounded by Limits. A Tree stops reading once its context is done or a
// limit is hit; every later read gives the same error. A Tree is meant for
// one check or build at a time, of a folder that does not change while it
// is open (a checkout): what it has resolved, vetted and composed is
// remembered for its later reads and builds.
type Tree struct {
	ctx  context.Context
	dir  string // as given, to name files
	abs  string
	root *os.Root
	lim  Limits

	mu      sync.Mutex
	files   int
	bytes   int64
	objects int
	stopped error // the limit hit or the context's error

	// kustomizeOnly sends every build to kustomize (for tests comparing
	// the two ways).
	kustomizeOnly bool
	cache         *BuildCache
	stamps        Stamps // see UseStamps
	readOnly      bool   // see ReadOnly
	memoMu        sync.Mutex
	memo          map[string]*folderBuild         // composed folders, by resolved path
	vets          map[string]*vettedKustomization // vetted kustomizations, by folder

	statMu sync.Mutex
	stats  map[string]statResult // what Lstat said of each path
}

// statResult is one answer of Lstat: a FileInfo, or that nothing is there.
type statResult struct {
	fi       fs.FileInfo
	notExist error
}

// lstat is the tree's root's Lstat, asked once per path: a tree reads a
// folder that does not change while it is read (a checkout), and a build
// resolves the same folders again and again.
func (t *Tree) lstat(p string) (fs.FileInfo, error) {
	t.statMu.Lock()
	r, ok := t.stats[p]
	t.statMu.Unlock()
	if ok {
		if r.notExist != nil {
			return nil, r.notExist
		}
		return r.fi, nil
	}
	fi, err := t.root.Lstat(p)
	switch {
	case err == nil:
		r = statResult{fi: fi}
	case errors.Is(err, fs.ErrNotExist):
		r = statResult{notExist: err}
	default:
		return nil, err
	}
	t.statMu.Lock()
	if t.stats == nil {
		t.stats = map[string]statResult{}
	}
	t.stats[p] = r
	t.statMu.Unlock()
	return fi, err
}

// OpenTree opens dir as a Tree bounded by lim; reads stop when ctx is
// done. Close it when done.
func OpenTree(ctx context.Context, dir string, lim Limits) (*Tree, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open tree %s: %w", dir, err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open tree: %w", err)
	}
	return &Tree{ctx: ctx, dir: dir, abs: abs, root: root, lim: lim.withDefaults()}, nil
}

// Close releases the tree's folder.
func (t *Tree) Close() error { return t.root.Close() }

// Dir returns the folder of the tree as given to OpenTree.
func (t *Tree) Dir() string { return t.dir }

// Path names rel, a slash-separated path inside the tree, as files of the
// tree are named in objects and errors: joined to Dir.
func (t *Tree) Path(rel string) string { return filepath.Join(t.dir, filepath.FromSlash(rel)) }

// Err returns the error that stopped the tree, if any.
func (t *Tree) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

// check returns the error that stopped the tree, stopping it when its
// context is done.
func (t *Tree) check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped == nil {
		if err := t.ctx.Err(); err != nil {
			t.stopped = fmt.Errorf("read %s: %w", t.dir, err)
		}
	}
	return t.stopped
}

// stop stops the tree with err unless it is stopped already, and returns
// the error that stopped it.
func (t *Tree) stop(err error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped == nil {
		t.stopped = err
	}
	return t.stopped
}

// limitError says which limit rel hit.
func (t *Tree) limitError(rel, what string, limit any, name string) error {
	return &field.Error{File: t.Path(rel), Msg: fmt.Sprintf(
		"stopped reading: more than %v %s in one check or build (limit %s); split the repository or remove what is not deployed", limit, what, name)}
}

// countObjects adds n objects to what the tree has produced, and stops
// it when that goes over the limit; file names where the objects came from.
func (t *Tree) countObjects(rel string, n int) error {
	if err := t.check(); err != nil {
		return err
	}
	t.mu.Lock()
	t.objects += n
	over := t.objects > t.lim.Objects
	t.mu.Unlock()
	if over {
		return t.stop(t.limitError(rel, "objects", t.lim.Objects, "MaxObjects"))
	}
	return nil
}

// rel maps a path on disk (absolute, or relative to the working
// directory) to a clean path relative to the tree, refusing one outside.
func (t *Tree) rel(name string) (string, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", name, err)
	}
	r, err := filepath.Rel(t.abs, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", refused{&field.Error{File: name, Msg: fmt.Sprintf("lies outside %s, the folder being read", t.dir)}}
	}
	return r, nil
}

// refused is an error about a symbolic link (or path) the tree does not
// follow; a build reports it rather than what kustomize makes of it.
type refused struct{ err *field.Error }

func (t *Tree) refuse(rel, format string, args ...any) error {
	return refused{&field.Error{File: t.Path(rel), Msg: fmt.Sprintf(format, args...)}}
}

// Unwrap lets field.All find the field error.
func (r refused) Unwrap() error { return r.err }

// Error implements error.
func (r refused) Error() string { return r.err.Error() }

// resolve returns rel, a path relative to the tree, with every symbolic
// link resolved inside the tree, and what it names (nil when nothing). It
// refuses a link that leaves the tree, is absolute, names a folder or is
// used as one, chains of more than maxLinks links and folders nested
// deeper than the depth limit. A path that does not exist resolves to
// itself with a nil FileInfo.
func (t *Tree) resolve(rel string) (string, fs.FileInfo, error) {
	if err := t.check(); err != nil {
		return "", nil, err
	}
	rest := splitPath(rel)
	var done []string
	var info fs.FileInfo
	firstLink, links := "", 0
	for len(rest) > 0 {
		seg := rest[0]
		rest = rest[1:]
		switch seg {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", nil, t.refuse(rel, "leads outside %s", t.dir)
			}
			done = done[:len(done)-1]
			info = nil
			continue
		}
		if len(done) >= t.lim.Depth {
			return "", nil, t.stop(t.limitError(rel, "nested folders", t.lim.Depth, "MaxFolderDepth"))
		}
		next := filepath.Join(append(append([]string{}, done...), seg)...)
		fi, err := t.lstat(next)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 && len(rest) > 0) {
			return filepath.Join(append([]string{next}, rest...)...), nil, nil
		}
		if err != nil {
			return "", nil, fmt.Errorf("resolve %s: %w", t.Path(rel), err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, seg)
			info = fi
			continue
		}
		links++
		if firstLink == "" {
			firstLink = next
		}
		switch {
		case links > maxLinks:
			return "", nil, t.refuse(firstLink, "more than %d symbolic links to follow", maxLinks)
		case len(rest) > 0:
			return "", nil, t.refuse(next, "symbolic link used as a folder: gitvend does not follow links to folders; link single files, or copy the folder")
		}
		target, err := t.root.Readlink(next)
		if err != nil {
			return "", nil, fmt.Errorf("resolve %s: %w", t.Path(next), err)
		}
		if filepath.IsAbs(target) {
			return "", nil, t.refuse(next, "symbolic link to the absolute path %s: links must stay inside %s", target, t.dir)
		}
		rest = splitPath(target)
		info = nil
	}
	res := filepath.Join(done...)
	if res == "" {
		res = "."
	}
	if info == nil {
		fi, err := t.lstat(res)
		if err != nil {
			return "", nil, fmt.Errorf("resolve %s: %w", t.Path(rel), err)
		}
		info = fi
	}
	if links > 0 && info != nil && info.IsDir() {
		return "", nil, t.refuse(firstLink, "symbolic link to a folder: gitvend does not follow links to folders; link single files, or copy the folder")
	}
	return res, info, nil
}

// splitPath splits a path by both separators gitvend accepts.
func splitPath(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == filepath.Separator })
}

// isDir tells whether rel names a folder of the tree.
func (t *Tree) isDir(rel string) bool {
	_, fi, err := t.resolve(rel)
	return err == nil && fi != nil && fi.IsDir()
}

// isFile tells whether rel names a file of the tree.
func (t *Tree) isFile(rel string) bool {
	_, fi, err := t.resolve(rel)
	return err == nil && fi != nil && fi.Mode().IsRegular()
}

// ReadFile reads the file rel (slash-separated, relative to the tree)
// through the tree, counting it against the limits. A missing file is an
// error wrapping fs.ErrNotExist.
func (t *Tree) ReadFile(rel string) ([]byte, error) {
	res, fi, err := t.resolve(filepath.FromSlash(rel))
	if err != nil {
		return nil, err
	}
	if fi == nil {
		return nil, fmt.Errorf("read %s: %w", t.Path(rel), fs.ErrNotExist)
	}
	return t.readFile(res)
}

// readFile reads the file rel, counting it and its bytes against the limits.
func (t *Tree) readFile(rel string) ([]byte, error) {
	res, fi, err := t.resolve(rel)
	if err != nil {
		return nil, err
	}
	if fi == nil {
		return nil, &field.Error{File: t.Path(rel), Msg: "no such file or directory"}
	}
	if !fi.Mode().IsRegular() {
		return nil, &field.Error{File: t.Path(rel), Msg: "not a regular file"}
	}
	if fi.Size() > MaxFileSize {
		return nil, &field.Error{File: t.Path(rel), Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)}
	}
	if err := t.count(rel, fi.Size()); err != nil {
		return nil, err
	}
	f, err := t.root.Open(res)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Path(rel), err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Path(rel), err)
	}
	if len(data) > MaxFileSize {
		return nil, &field.Error{File: t.Path(rel), Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)}
	}
	return data, nil
}

// count counts one file of size bytes against the limits.
func (t *Tree) count(rel string, size int64) error {
	t.mu.Lock()
	t.files++
	t.bytes += size
	files, bytes := t.files, t.bytes
	t.mu.Unlock()
	switch {
	case files > t.lim.Files:
		return t.stop(t.limitError(rel, "files and folders", t.lim.Files, "MaxFiles"))
	case bytes > t.lim.Bytes:
		return t.stop(t.limitError(rel, "bytes", t.lim.Bytes, "MaxBytes"))
	}
	return nil
}

// uncount gives back files and bytes counted by count.
func (t *Tree) uncount(files int, bytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.files -= files
	t.bytes -= bytes
}

// readDir lists the folder rel (already resolved), sorted by name.
func (t *Tree) readDir(rel string) ([]fs.DirEntry, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(t.root.FS(), filepath.ToSlash(rel))
	if err != nil {
		return nil, &field.Error{File: t.Path(rel), Msg: err.Error()}
	}
	if err := t.count(rel, 0); err != nil {
		return nil, err
	}
	return entries, nil
}

// Counts are what a Tree has read and built so far, as its Limits count
// them.
type Counts struct {
	Files   int
	Objects int
	Bytes   int64
}

// Counted returns what the tree has counted against its limits.
func (t *Tree) Counted() Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Counts{Files: t.files, Objects: t.objects, Bytes: t.bytes}
}

// Charge counts c against the tree's limits as if the tree had read and
// built it, for a reader that takes objects another tree of the same
// folder read; it stops the tree, as a read would, when that goes over a
// limit.
func (t *Tree) Charge(c Counts) error {
	if err := t.check(); err != nil {
		return err
	}
	t.mu.Lock()
	t.files += c.Files
	t.bytes += c.Bytes
	t.objects += c.Objects
	files, bytes, objects := t.files, t.bytes, t.objects
	t.mu.Unlock()
	switch {
	case files > t.lim.Files:
		return t.stop(t.limitError(".", "files and folders", t.lim.Files, "MaxFiles"))
	case bytes > t.lim.Bytes:
		return t.stop(t.limitError(".", "bytes", t.lim.Bytes, "MaxBytes"))
	case objects > t.lim.Objects:
		return t.stop(t.limitError(".", "objects", t.lim.Objects, "MaxObjects"))
	}
	return nil
}
