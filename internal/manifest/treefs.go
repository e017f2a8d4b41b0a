package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly is what a Tree answers to writes.
var errReadOnly = errors.New("the tree is read-only")

// treeFS serves one kustomize build from a Tree. It reads nothing outside
// the tree, follows no link to a folder, refuses a kustomization with
// remote references before kustomize acts on it, switches on origin
// annotations in the root kustomization, and keeps the first refusal so
// that the build reports it rather than what kustomize makes of it.
type treeFS struct {
	t       *Tree
	root    string // absolute path of the root kustomization file
	refusal error
}

var _ filesys.FileSystem = (*treeFS)(nil)

// note keeps the first refusal among errors from the tree.
func (f *treeFS) note(err error) error {
	var r refused
	if f.refusal == nil && (errors.As(err, &r) || isVetError(err)) {
		f.refusal = err
	}
	return err
}

// vetError marks refusals of kustomization contents.
type vetError struct{ error }

func (e vetError) Unwrap() error { return e.error }

func isVetError(err error) bool {
	var v vetError
	return errors.As(err, &v)
}

func (f *treeFS) resolve(name string) (string, fs.FileInfo, error) {
	rel, err := f.t.rel(name)
	if err != nil {
		return "", nil, f.note(err)
	}
	res, fi, err := f.t.resolve(rel)
	return res, fi, f.note(err)
}

// Create implements filesys.FileSystem; the tree is read-only.
func (f *treeFS) Create(string) (filesys.File, error) { return nil, errReadOnly }

// Mkdir implements filesys.FileSystem; the tree is read-only.
func (f *treeFS) Mkdir(string) error { return errReadOnly }

// MkdirAll implements filesys.FileSystem; the tree is read-only.
func (f *treeFS) MkdirAll(string) error { return errReadOnly }

// RemoveAll implements filesys.FileSystem; the tree is read-only.
func (f *treeFS) RemoveAll(string) error { return errReadOnly }

// WriteFile implements filesys.FileSystem; the tree is read-only.
func (f *treeFS) WriteFile(string, []byte) error { return errReadOnly }

// Open implements filesys.FileSystem.
func (f *treeFS) Open(name string) (filesys.File, error) {
	res, fi, err := f.resolve(name)
	switch {
	case err != nil:
		return nil, err
	case fi == nil:
		return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("open %s: not a regular file", name)
	}
	if err := f.t.count(res, fi.Size()); err != nil {
		return nil, err
	}
	file, err := f.t.root.Open(res)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return file, nil
}

// IsDir implements filesys.FileSystem.
func (f *treeFS) IsDir(name string) bool {
	_, fi, err := f.resolve(name)
	return err == nil && fi != nil && fi.IsDir()
}

// Exists implements filesys.FileSystem.
func (f *treeFS) Exists(name string) bool {
	_, fi, err := f.resolve(name)
	return err == nil && fi != nil
}

// ReadDir implements filesys.FileSystem.
func (f *treeFS) ReadDir(name string) ([]string, error) {
	res, fi, err := f.resolve(name)
	switch {
	case err != nil:
		return nil, err
	case fi == nil || !fi.IsDir():
		return nil, fmt.Errorf("read folder %s: not a folder", name)
	}
	entries, err := f.t.readDir(res)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	return out, nil
}

// CleanedAbs implements filesys.FileSystem: links are resolved inside the
// tree, so that kustomize's root-only restriction sees where a file is.
func (f *treeFS) CleanedAbs(name string) (filesys.ConfirmedDir, string, error) {
	res, fi, err := f.resolve(name)
	switch {
	case err != nil:
		return "", "", err
	case fi == nil:
		return "", "", fmt.Errorf("resolve %s: %w", name, fs.ErrNotExist)
	case fi.IsDir():
		return filesys.ConfirmedDir(filepath.Join(f.t.abs, res)), "", nil
	}
	abs := filepath.Join(f.t.abs, res)
	return filesys.ConfirmedDir(filepath.Dir(abs)), filepath.Base(abs), nil
}

// Glob implements filesys.FileSystem; matches that cannot be read are left out.
func (f *treeFS) Glob(pattern string) ([]string, error) {
	rel, err := f.t.rel(pattern)
	if err != nil {
		return nil, f.note(err)
	}
	matches, err := fs.Glob(f.t.root.FS(), filepath.ToSlash(rel))
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	var out []string
	for _, m := range matches {
		if _, fi, err := f.t.resolve(m); err == nil && fi != nil {
			out = append(out, filepath.Join(f.t.abs, filepath.FromSlash(m)))
		}
	}
	if !filesys.IsHiddenFilePath(pattern) {
		out = filesys.RemoveHiddenFiles(out)
	}
	return out, nil
}

// Walk implements filesys.FileSystem; links are reported, not followed.
func (f *treeFS) Walk(name string, walkFn filepath.WalkFunc) error {
	res, _, err := f.resolve(name)
	if err != nil {
		return err
	}
	return fs.WalkDir(f.t.root.FS(), filepath.ToSlash(res), func(p string, d fs.DirEntry, err error) error {
		abs := filepath.Join(f.t.abs, filepath.FromSlash(p))
		if err != nil {
			return walkFn(abs, nil, err)
		}
		if err := f.t.check(); err != nil {
			return err
		}
		info, err := d.Info()
		return walkFn(abs, info, err)
	})
}

// ReadFile implements filesys.FileSystem.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	res, _, err := f.resolve(name)
	if err != nil {
		return nil, err
	}
	data, err := f.t.readFile(res)
	if err != nil {
		return nil, f.note(err)
	}
	if !isKustomizationName(filepath.Base(name)) {
		return data, nil
	}
	if _, err := vetKustomization(f.t.Path(res), data); err != nil {
		return nil, f.note(vetError{err})
	}
	if filepath.Join(f.t.abs, res) != f.root {
		return data, nil
	}
	return withOrigins(data), nil
}

// withOrigins switches on kustomize's origin annotations in a root
// kustomization, so that built objects say which file they came from.
func withOrigins(data []byte) []byte {
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil || k == nil {
		return data // kustomize reports the syntax error itself
	}
	meta, _ := k["buildMetadata"].([]any)
	for _, m := range meta {
		if m == types.OriginAnnotations {
			return data
		}
	}
	k["buildMetadata"] = append(meta, types.OriginAnnotations)
	out, err := yaml.Marshal(k)
	if err != nil {
		return data
	}
	return out
}
