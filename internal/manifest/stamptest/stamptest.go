// Package stamptest makes manifest.Stamps for tests by reading a folder,
// as Git's object ids would name it, without a Git repository.
package stamptest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// Stamps are stamps made by reading a folder: each file's stamp hashes its
// bytes, each folder's its entries' names, kinds and stamps.
type Stamps struct {
	folders, files map[string]string
	links          int
}

// Folder returns the stamp of the folder rel.
func (s *Stamps) Folder(rel string) (string, bool) {
	id, ok := s.folders[path.Clean(rel)]
	return id, ok
}

// File returns the stamp of the file rel.
func (s *Stamps) File(rel string) (string, bool) {
	id, ok := s.files[path.Clean(rel)]
	return id, ok
}

// Links tells how many symbolic links the folder holds.
func (s *Stamps) Links() int { return s.links }

// Commit names the stamps as a commit would: by the stamp of the folder.
func (s *Stamps) Commit() string { return s.folders["."] }

// made holds every Stamps made, by commit, for ChangedSince.
var made sync.Map

// ChangedSince lists the files that differ between the stamps made
// earlier with commit earlier and s, sorted, as a comparison of two Git
// trees lists them; false for a commit no Stamps was made with.
func (s *Stamps) ChangedSince(_ context.Context, earlier interface{ Commit() string }) ([]string, bool) {
	v, ok := made.Load(earlier.Commit())
	if !ok {
		return nil, false
	}
	from := v.(*Stamps)
	var out []string
	for p, id := range s.files {
		if from.files[p] != id {
			out = append(out, p)
		}
	}
	for p := range from.files {
		if _, ok := s.files[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, true
}

// Of stamps everything under dir.
func Of(t testing.TB, dir string) *Stamps {
	t.Helper()
	s := &Stamps{folders: map[string]string{}, files: map[string]string{}}
	var stamp func(rel string) string
	stamp = func(rel string) string {
		entries, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(rel))) // sorted by name
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for _, e := range entries {
			p := path.Join(rel, e.Name())
			switch {
			case e.Type()&fs.ModeSymlink != 0:
				s.links++
				fmt.Fprintf(h, "link %s\x00", e.Name())
			case e.IsDir():
				fmt.Fprintf(h, "dir %s %s\x00", e.Name(), stamp(p))
			default:
				data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				s.files[p] = hex.EncodeToString(sum[:])
				fmt.Fprintf(h, "file %s %s\x00", e.Name(), s.files[p])
			}
		}
		id := hex.EncodeToString(h.Sum(nil))
		s.folders[rel] = id
		return id
	}
	stamp(".")
	made.Store(s.Commit(), s)
	return s
}
