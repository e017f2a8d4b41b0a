// Package policies holds gitvend's built-in policy library: one Rego v1
// module per policy id, helpers under lib/, and a _test.rego file of unit
// tests beside every module. README.md describes the conventions, which
// repository-local policies follow as well.
package policies

import (
	"embed"
	"io/fs"
	"strings"
)

// files holds every Rego file of this directory and lib/, tests included.
//
//go:embed *.rego lib/*.rego
var files embed.FS

// TestSuffix ends the name of every file of Rego unit tests.
const TestSuffix = "_test.rego"

// Modules returns the policy modules and their helpers, without the unit
// tests, at the same paths as in this directory (for example
// "privileged_container.rego" and "lib/kubernetes.rego").
func Modules() fs.FS { return filtered{fsys: files, tests: false} }

// Tests returns the unit tests (files ending in TestSuffix) of the modules
// in Modules and the fixtures they share.
func Tests() fs.FS { return filtered{fsys: files, tests: true} }

// filtered shows either only the test files of fsys or only the others;
// directories are always shown.
type filtered struct {
	fsys  embed.FS
	tests bool
}

// keep tells whether the file called name belongs to this view.
func (f filtered) keep(name string) bool {
	return strings.HasSuffix(name, TestSuffix) == f.tests
}

// Open opens the named file if it belongs to this view.
func (f filtered) Open(name string) (fs.File, error) {
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	if !info.IsDir() && !f.keep(name) {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, nil
}

// ReadDir lists the entries of the named directory that belong to this view.
func (f filtered) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := f.fsys.ReadDir(name)
	if err != nil {
		return nil, err
	}
	out := entries[:0:0]
	for _, e := range entries {
		if e.IsDir() || f.keep(e.Name()) {
			out = append(out, e)
		}
	}
	return out, nil
}
