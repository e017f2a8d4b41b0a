package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gitvend/gitvend/internal/field"
)

// MaxFileSize bounds the size of one manifest file.
const MaxFileSize = 16 << 20

// Load reads the Kubernetes objects under paths on disk, each path through
// a Tree of its own (the folder itself, or the folder of a file) with the
// default limits. A path may be a file, a folder (read recursively; a
// trailing "/..." is accepted) or a kustomize root, which is built rather
// than read file by file. See Loader for what is read and passed over.
func Load(paths ...string) ([]Object, error) {
	return LoadContext(context.Background(), paths...)
}

// LoadContext is Load that stops reading when ctx is done.
func LoadContext(ctx context.Context, paths ...string) ([]Object, error) {
	l := NewLoader()
	for _, p := range paths {
		l.ReadPath(ctx, p)
	}
	return l.Objects()
}

// Loader collects the objects of one check from Trees, each object once:
// one reached twice, for example through an environment root and through
// the request folder it includes, is kept once. Problems with single files
// are collected while everything readable is still read; a limit of a
// tree, or its context, stops reading it.
type Loader struct {
	objs []Object
	errs []error
	seen map[seenKey]bool
	skip map[string]bool
	// skipped is skip's folders sorted, made when a folder read is looked
	// up in a BuildCache (see readKey); nil after every Skip.
	skipped []string
	// trail holds the objects added while walking > 0: those of the
	// folder reads being kept (see keptRead).
	trail   []Object
	walking int
	builds  int // kustomizations Read built
}

// seenKey tells the objects a Loader holds apart: two reads of one
// object of one file are the same object.
type seenKey struct {
	id   ID
	file string
	line int
}

// NewLoader returns an empty Loader.
func NewLoader() *Loader {
	return &Loader{seen: map[seenKey]bool{}, skip: map[string]bool{}}
}

// Skip makes Read pass over the folder named dir (as Tree.Path names it),
// which the caller reads some other way.
func (l *Loader) Skip(dir string) {
	l.skip[filepath.Clean(dir)] = true
	l.skipped = nil
}

// Fail records a problem found while reading some other way.
func (l *Loader) Fail(err error) {
	if err != nil {
		l.errs = append(l.errs, err)
	}
}

// Objects returns what was read, and every problem joined.
func (l *Loader) Objects() ([]Object, error) { return l.objs, errors.Join(l.errs...) }

// Read reads the path rel of tree t (slash-separated, relative to it;
// "." for all of it). A file is decoded; a folder holding a kustomization
// is built (Tree.Build); any other folder is read recursively, and below
// it every folder holding a kustomization is built the same way. Hidden
// files and folders, blueprint folders (those with a blueprint.yaml)
// below rel and gitvend's own records (gitvend.yaml, Requests) are passed
// over, and so are files other than .yaml, .yml and .json. A symbolic link
// to a folder, or one leaving the tree, is an error naming it.
func (l *Loader) Read(t *Tree, rel string) {
	rel = filepath.Clean(filepath.FromSlash(rel))
	res, fi, err := t.resolve(rel)
	switch {
	case err != nil:
		l.errs = append(l.errs, err)
	case fi == nil:
		l.errs = append(l.errs, &field.Error{File: t.Path(rel), Msg: "no such file or directory"})
	case fi.IsDir():
		l.folder(t, rel, res, true, 0)
	default:
		l.file(t, rel, res)
	}
	if err := t.Err(); err != nil && !l.has(err) {
		l.errs = append(l.errs, err)
	}
}

// ReadPath reads the path p on disk through a Tree of its own with the
// default limits: the folder p (a trailing "/..." is accepted), or the
// folder of the file p.
func (l *Loader) ReadPath(ctx context.Context, p string) {
	p = strings.TrimSuffix(p, "/...")
	if p == "..." {
		p = "."
	}
	info, err := os.Stat(p)
	if err != nil {
		l.errs = append(l.errs, &field.Error{File: p, Msg: "no such file or directory"})
		return
	}
	dir, rel := p, "."
	if !info.IsDir() {
		dir, rel = filepath.Dir(p), filepath.Base(p)
	}
	t, err := OpenTree(ctx, dir, Limits{})
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	defer t.Close()
	l.Read(t, rel)
}

// has tells whether err was recorded already.
func (l *Loader) has(err error) bool {
	for _, e := range l.errs {
		if e == err {
			return true
		}
	}
	return false
}

// folder reads the folder res (resolved) that rel names.
func (l *Loader) folder(t *Tree, rel, res string, explicit bool, depth int) {
	if l.skip[filepath.Clean(t.Path(rel))] || t.Err() != nil {
		return
	}
	if depth > t.lim.Depth {
		l.errs = append(l.errs, t.stop(t.limitError(rel, "nested folders", t.lim.Depth, "MaxFolderDepth")))
		return
	}
	if t.kustomizationFile(res) != "" {
		l.builds++
		objs, err := t.Build(res)
		if err != nil {
			l.errs = append(l.errs, err)
		}
		l.Add(objs)
		return
	}
	if !explicit && t.isFile(filepath.Join(res, "blueprint.yaml")) {
		return
	}
	key, cache, ok := l.readKey(t, rel, res, explicit, depth)
	if !ok {
		l.entries(t, rel, res, depth)
		return
	}
	if kept, ok := cache.objects(cache.reads, key); ok {
		objs := make([]Object, len(kept))
		for i, o := range kept {
			o = t.handOut(o)
			o.File = t.Path(o.File)
			objs[i] = o
		}
		l.Add(objs)
		return
	}
	start, errs, builds := len(l.trail), len(l.errs), l.builds
	l.walking++
	l.entries(t, rel, res, depth)
	l.walking--
	// A build may read folders outside this one, which its stamp does
	// not cover: a read that built something is not kept.
	if len(l.errs) == errs && l.builds == builds && t.Err() == nil {
		if kept, ok := keptObjects(t, l.trail[start:]); ok {
			cache.keep(cache.reads, key, kept)
		}
	}
	if l.walking == 0 {
		l.trail = l.trail[:0]
	}
}

// readKey names the read of the folder res (resolved) that rel names
// when the tree has stamps for it: what the read finds depends on the
// folder's stamp, whether it was named (explicit), its depth and the
// folders under it the Loader skips.
func (l *Loader) readKey(t *Tree, rel, res string, explicit bool, depth int) (string, *BuildCache, bool) {
	id, cache, ok := t.folderStamp(res)
	if !ok {
		return "", nil, false
	}
	if l.skipped == nil {
		l.skipped = make([]string, 0, len(l.skip))
		for dir := range l.skip {
			l.skipped = append(l.skipped, dir)
		}
		sort.Strings(l.skipped)
	}
	h := sha256.New()
	fmt.Fprintf(h, "read\x00%s\x00%s\x00%t\x00%d\x00%d", filepath.ToSlash(rel), id, explicit, depth, t.lim.Depth)
	prefix := filepath.Clean(t.Path(rel)) + string(filepath.Separator)
	for i := sort.SearchStrings(l.skipped, prefix); i < len(l.skipped) && strings.HasPrefix(l.skipped[i], prefix); i++ {
		fmt.Fprintf(h, "\x00%s", filepath.ToSlash(l.skipped[i][len(prefix):]))
	}
	return hex.EncodeToString(h.Sum(nil)), cache, true
}

// keptObjects returns objs, read from t, as a BuildCache keeps them:
// named relative to the tree, with their digests.
func keptObjects(t *Tree, objs []Object) ([]Object, bool) {
	kept := make([]Object, len(objs))
	for i, o := range objs {
		rel, err := filepath.Rel(t.Dir(), o.File)
		if err != nil {
			return nil, false
		}
		o.Digest()
		o = t.handOut(o)
		o.File = rel
		kept[i] = o
	}
	return kept, true
}

// entries reads the entries of the folder res (resolved) that rel names.
func (l *Loader) entries(t *Tree, rel, res string, depth int) {
	entries, err := t.readDir(res)
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if walkSkips(name) {
			continue
		}
		if t.Err() != nil {
			return
		}
		childRel, childRes := filepath.Join(rel, name), filepath.Join(res, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			r, fi, err := t.resolve(childRes)
			switch {
			case err != nil:
				l.errs = append(l.errs, err)
				continue
			case fi == nil:
				if isManifestName(name) {
					l.errs = append(l.errs, &field.Error{File: t.Path(childRel), Msg: "symbolic link to nothing"})
				}
				continue
			}
			childRes, isDir = r, fi.IsDir()
		}
		if isDir {
			l.folder(t, childRel, childRes, false, depth+1)
			continue
		}
		if isManifestName(name) {
			l.file(t, childRel, childRes)
		}
	}
}

// walkSkips tells whether a folder walk passes over an entry called name,
// file or folder: hidden ones and gitvend's own settings.
func walkSkips(name string) bool {
	return strings.HasPrefix(name, ".") || name == "gitvend.yaml"
}

// WalkReads tells whether a walk of the tree's folders (Loader.Read of a
// folder holding it) reads the file at the slash-separated path p for
// manifests: no part of p is passed over and its name is a manifest's.
func WalkReads(p string) bool {
	parts := strings.Split(p, "/")
	for _, part := range parts {
		if walkSkips(part) {
			return false
		}
	}
	return isManifestName(parts[len(parts)-1])
}

// isManifestName tells whether a file called name may hold manifests.
func isManifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// file decodes the file res (resolved) that rel names.
func (l *Loader) file(t *Tree, rel, res string) {
	id, cache, stamped := t.fileStamp(res)
	key := "file\x00" + filepath.ToSlash(rel) + "\x00" + filepath.ToSlash(res) + "\x00" + id
	if stamped {
		if kept, ok := cache.file(key); ok {
			objs := make([]Object, len(kept))
			for i, o := range kept {
				o = t.handOut(o)
				o.File = t.Path(o.File)
				objs[i] = o
			}
			if err := t.countObjects(rel, len(objs)); err != nil {
				l.errs = append(l.errs, err)
				return
			}
			l.Add(objs)
			return
		}
	}
	data, err := t.readFile(res)
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	objs, err := Decode(t.Path(rel), data)
	if err != nil {
		l.errs = append(l.errs, err)
	}
	if err := t.countObjects(rel, len(objs)); err != nil {
		l.errs = append(l.errs, err)
		return
	}
	if stamped && err == nil {
		// Kept without gitvend's own records, which Add passes over.
		var kept []Object
		for _, o := range objs {
			if !IsGitvendKind(o.ID) {
				o.Digest() // kept with the file's objects, and with their copies
				o = t.handOut(o)
				o.File = rel
				kept = append(kept, o)
			}
		}
		cache.addFile(key, kept)
	}
	l.Add(objs)
}

// Add keeps objs that are Kubernetes objects and not seen before.
func (l *Loader) Add(objs []Object) {
	l.objs = slices.Grow(l.objs, len(objs))
	for _, o := range objs {
		if IsGitvendKind(o.ID) {
			continue
		}
		if l.walking > 0 {
			l.trail = append(l.trail, o)
		}
		key := seenKey{o.ID, o.File, o.Line}
		if l.seen[key] {
			continue
		}
		l.seen[key] = true
		l.objs = append(l.objs, o)
	}
}

// AddDistinct adds objs, which the caller knows to be distinct from each
// other and from every object the Loader holds or will read (such as the
// build of a folder whose folders, which nothing else reads, the Loader
// skips), without remembering them for Add's comparison. Gitvend's own
// records are passed over, as Add passes them.
func (l *Loader) AddDistinct(objs []Object) {
	l.objs = slices.Grow(l.objs, len(objs))
	for _, o := range objs {
		if !IsGitvendKind(o.ID) {
			l.objs = append(l.objs, o)
		}
	}
}

// IsGitvendKind tells whether id is one of gitvend's or kustomize's own
// records rather than an object for a cluster.
func IsGitvendKind(id ID) bool {
	g := id.Group()
	return g == "gitvend.dev" || strings.HasSuffix(g, ".gitvend.dev") || g == "kustomize.config.k8s.io"
}
