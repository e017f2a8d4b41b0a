package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitvend/gitvend/internal/field"
)

// MaxFileSize bounds the size of one manifest file.
const MaxFileSize = 16 << 20

// Load reads the Kubernetes objects under paths on disk. A path may be a
// file, a directory (read recursively; a trailing "/..." is accepted) or a
// kustomize root, which is built rather than read file by file; below a
// directory, every folder holding a kustomization is built the same way.
// Hidden folders, blueprint folders (those with a blueprint.yaml) and
// gitvend's own records (gitvend.yaml, Requests) are passed over. An object
// reached twice, for example through an environment root and through the
// request folder it includes, is returned once. Problems with single files
// are joined into the error while everything readable is still returned.
func Load(paths ...string) ([]Object, error) {
	l := loader{fsys: filesys.MakeFsOnDisk(), seen: map[string]bool{}}
	for _, p := range paths {
		p = strings.TrimSuffix(p, "/...")
		if p == "..." {
			p = "."
		}
		l.path(p, true)
	}
	return l.objs, errors.Join(l.errs...)
}

type loader struct {
	fsys filesys.FileSystem
	objs []Object
	errs []error
	seen map[string]bool
}

func (l *loader) path(p string, explicit bool) {
	if !l.fsys.Exists(p) {
		l.errs = append(l.errs, &field.Error{File: p, Msg: "no such file or directory"})
		return
	}
	if !l.fsys.IsDir(p) {
		l.file(p)
		return
	}
	if IsKustomization(l.fsys, p) {
		objs, err := Build(l.fsys, p)
		if err != nil {
			l.errs = append(l.errs, err)
		}
		l.add(objs)
		return
	}
	if !explicit && l.fsys.Exists(filepath.Join(p, "blueprint.yaml")) {
		return
	}
	entries, err := l.fsys.ReadDir(p)
	if err != nil {
		l.errs = append(l.errs, &field.Error{File: p, Msg: err.Error()})
		return
	}
	sort.Strings(entries)
	for _, name := range entries {
		if strings.HasPrefix(name, ".") {
			continue
		}
		child := filepath.Join(p, name)
		if l.fsys.IsDir(child) {
			l.path(child, false)
			continue
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".yaml", ".yml", ".json":
			if name != "gitvend.yaml" {
				l.file(child)
			}
		}
	}
}

func (l *loader) file(p string) {
	info, err := os.Stat(p)
	if err != nil {
		l.errs = append(l.errs, &field.Error{File: p, Msg: err.Error()})
		return
	}
	if info.Size() > MaxFileSize {
		l.errs = append(l.errs, &field.Error{File: p, Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)})
		return
	}
	data, err := l.fsys.ReadFile(p)
	if err != nil {
		l.errs = append(l.errs, &field.Error{File: p, Msg: err.Error()})
		return
	}
	objs, err := Decode(p, data)
	if err != nil {
		l.errs = append(l.errs, err)
	}
	l.add(objs)
}

// add keeps objs that are Kubernetes objects and not seen before.
func (l *loader) add(objs []Object) {
	for _, o := range objs {
		if IsGitvendKind(o.ID) {
			continue
		}
		key := fmt.Sprintf("%s|%s|%s|%d", o.ID, o.APIVersion, o.File, o.Line)
		if l.seen[key] {
			continue
		}
		l.seen[key] = true
		l.objs = append(l.objs, o)
	}
}

// IsGitvendKind tells whether id is one of gitvend's or kustomize's own
// records rather than an object for a cluster.
func IsGitvendKind(id ID) bool {
	g := id.Group()
	return g == "gitvend.dev" || strings.HasSuffix(g, ".gitvend.dev") || g == "kustomize.config.k8s.io"
}
