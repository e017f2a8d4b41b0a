package gitrepo

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/gitvend/gitvend/internal/retry"
)

// snapshot is every entry under dir: folders, files with their mode and
// content, links with their target.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link -> " + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = info.Mode().Perm().String() + " " + string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshots exports every commit of shas afresh and snapshots it.
func snapshots(t *testing.T, r *Repo, shas []string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, sha := range shas {
		dir := filepath.Join(t.TempDir(), "fresh")
		if err := r.Export(context.Background(), sha, dir); err != nil {
			t.Fatal(err)
		}
		out[sha] = snapshot(t, dir)
	}
	return out
}

// commitSeries is a clone with a series of commits over its head, the
// head first: files added, changed, removed, whole folders removed, a file
// giving way to a folder and back, modes changed, links added, retargeted
// and turned into files.
func commitSeries(t *testing.T) (*Repo, []string) {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	type step struct {
		files  map[string][]byte
		delete []string
		modes  map[string]filemode.FileMode
	}
	steps := []step{
		{files: map[string][]byte{"requests/dev/ns/a.yaml": []byte("a: 1\n"), "requests/dev/ns/a/deploy.yaml": []byte("kind: Deployment\n"), "environments/dev/kustomization.yaml": []byte("resources: [a]\n")}},
		{files: map[string][]byte{"requests/dev/ns/a.yaml": []byte("a: 2\n"), "requests/dev/ns/b.yaml": []byte("b: 1\n"), "requests/dev/ns/b/svc.yaml": []byte("kind: Service\n")}},
		{delete: []string{"requests/dev/ns/a", "requests/dev/ns/a.yaml"}},
		{files: map[string][]byte{"run.sh": []byte("#!/bin/sh\n"), "link.yaml": []byte("gitvend.yaml")}, modes: map[string]filemode.FileMode{"run.sh": filemode.Executable, "link.yaml": filemode.Symlink}},
		{files: map[string][]byte{"link.yaml": []byte("requests/dev/ns/b.yaml")}, modes: map[string]filemode.FileMode{"run.sh": filemode.Regular, "link.yaml": filemode.Symlink}},
		{files: map[string][]byte{"link.yaml": []byte("now a file\n")}, delete: []string{"requests/dev"}},
		{files: map[string][]byte{"x": []byte("a file\n")}},
		{files: map[string][]byte{"x/y.yaml": []byte("a folder now\n")}, delete: []string{"x"}},
	}
	shas := []string{head}
	parent := head
	for i, s := range steps {
		sha, err := r.Commit(ctx, CommitSpec{Parent: parent, Files: s.files, Delete: s.delete, Message: "step", Author: author, Time: when})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if s.modes != nil {
			sha = setModes(t, r, sha, s.modes)
		}
		shas = append(shas, sha)
		parent = sha
	}
	return r, shas
}

// TestExportOverEqualsExport moves one checkout through a series of
// commits, in every order of pairs, and compares it after each move with
// a fresh Export of the same commit: files added, changed, removed, whole
// folders removed, a file giving way to a folder and back, modes changed,
// links added, retargeted and turned into files.
func TestExportOverEqualsExport(t *testing.T) {
	ctx := context.Background()
	r, shas := commitSeries(t)
	fresh := snapshots(t, r, shas)
	moves := 0
	for i, from := range shas {
		for j, to := range shas {
			dir := filepath.Join(t.TempDir(), "moved")
			if err := r.Export(ctx, from, dir); err != nil {
				t.Fatal(err)
			}
			if err := r.ExportOver(ctx, from, to, dir); err != nil {
				t.Fatalf("%d → %d: %v", i, j, err)
			}
			got, want := snapshot(t, dir), fresh[to]
			for p, w := range want {
				if got[p] != w {
					t.Errorf("%d → %d: %s is %q, want %q", i, j, p, got[p], w)
				}
			}
			for p, g := range got {
				if _, ok := want[p]; !ok {
					t.Errorf("%d → %d: %s (%q) is left over", i, j, p, g)
				}
			}
			moves++
		}
	}
	if moves != len(shas)*len(shas) {
		t.Fatalf("%d moves", moves)
	}
}

// TestExportOverRefusesLinks: a commit Export refuses is refused the same
// way when moved to, and the checkout is left as it was.
func TestExportOverRefusesLinks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	sha, err := r.Commit(ctx, CommitSpec{Parent: head, Files: map[string][]byte{"env/up": []byte("..")}, Message: "link", Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	sha = setModes(t, r, sha, map[string]filemode.FileMode{"env/up": filemode.Symlink})
	dir := filepath.Join(t.TempDir(), "tree")
	if err := r.Export(ctx, head, dir); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	err = r.ExportOver(ctx, head, sha, dir)
	if err == nil || !retry.IsTerminal(err) || !strings.Contains(err.Error(), "env/up -> .. points to a folder") {
		t.Fatalf("export over = %v, want the terminal refusal Export gives", err)
	}
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Fatalf("the refused commit changed the checkout: %v → %v", before, after)
	}
	for p, v := range before {
		if after[p] != v {
			t.Errorf("%s changed: %q → %q", p, v, after[p])
		}
	}
}

// TestIndexDerivedEqualsRead derives the index of each commit of a series
// from the index of every other, and compares it with the index read
// whole: every file, folder id and link the same.
func TestIndexDerivedEqualsRead(t *testing.T) {
	ctx := context.Background()
	r, shas := commitSeries(t)
	read := map[string]*Index{}
	for _, sha := range shas {
		r.indexes.Purge()
		ix, err := r.Index(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		read[sha] = ix
	}
	for i, from := range shas {
		for j, to := range shas {
			r.indexes.Purge()
			if _, err := r.Index(ctx, from); err != nil {
				t.Fatal(err)
			}
			got, err := r.Index(ctx, to)
			if err != nil {
				t.Fatalf("%d → %d: %v", i, j, err)
			}
			want := read[to]
			if !maps.Equal(got.entries.flat(), want.entries.flat()) || !maps.Equal(got.links, want.links) {
				t.Errorf("%d → %d: derived index differs from the one read whole:\n%v %v\nwant\n%v %v", i, j, got.entries.flat(), got.links, want.entries.flat(), want.links)
			}
		}
	}
	// Folder ids are Git's tree ids.
	c, err := r.repo.CommitObject(plumbing.NewHash(shas[2]))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := tree.Tree("requests/dev")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := read[shas[2]].Folder("requests/dev"); !ok || id != sub.Hash.String() {
		t.Errorf("folder requests/dev = %q %v, want %s", id, ok, sub.Hash)
	}
	if id, ok := read[shas[2]].Folder("."); !ok || id != tree.Hash.String() {
		t.Errorf("root folder = %q %v, want %s", id, ok, tree.Hash)
	}
	if _, ok := read[shas[2]].Folder("requests/dev/ns/a.yaml"); ok {
		t.Error("a file is a folder")
	}
}

// TestChangedSinceListsWhatDiffers asks the index of every commit of a
// series which files differ since every other, and wants exactly the
// files, links and modes that differ between the two commits' checkouts.
func TestChangedSinceListsWhatDiffers(t *testing.T) {
	ctx := context.Background()
	r, shas := commitSeries(t)
	snaps := snapshots(t, r, shas)
	for i, from := range shas {
		for j, to := range shas {
			ix, err := r.Index(ctx, to)
			if err != nil {
				t.Fatal(err)
			}
			// Asked by commit alone (not an Index) with nothing
			// remembered, the trees are compared: exactly what differs.
			bare := *ix
			bare.since = nil
			got, ok := bare.ChangedSince(ctx, commitOnly(from))
			if !ok {
				t.Fatalf("%d → %d: no changes listed", i, j)
			}
			want := map[string]bool{}
			for _, side := range []map[string]string{snaps[from], snaps[to]} {
				for p, v := range side {
					if v != "dir" && snaps[from][p] != snaps[to][p] {
						want[filepath.ToSlash(p)] = true
					}
				}
			}
			for _, p := range got {
				if !want[p] {
					t.Errorf("%d → %d: %s listed, yet the same", i, j, p)
				}
				delete(want, p)
			}
			for p := range want {
				t.Errorf("%d → %d: %s differs, yet not listed", i, j, p)
			}
		}
	}
	ix, err := r.Index(ctx, shas[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.ChangedSince(ctx, commitOnly(strings.Repeat("0", 40))); ok {
		t.Error("changes listed since a commit the clone does not have")
	}
	// Through the indexes remembered, every file that differs is listed.
	for i, from := range shas {
		for j, to := range shas {
			fromIx, err := r.Index(ctx, from)
			if err != nil {
				t.Fatal(err)
			}
			toIx, err := r.Index(ctx, to)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := toIx.ChangedSince(ctx, fromIx)
			if !ok {
				t.Fatalf("%d → %d: no changes listed", i, j)
			}
			for p, v := range snaps[to] {
				if v != "dir" && snaps[from][p] != v && !slices.Contains(got, filepath.ToSlash(p)) {
					t.Errorf("%d → %d: %s differs, yet not listed", i, j, p)
				}
			}
			for p, v := range snaps[from] {
				if _, still := snaps[to][p]; v != "dir" && !still && !slices.Contains(got, filepath.ToSlash(p)) {
					t.Errorf("%d → %d: %s is gone, yet not listed", i, j, p)
				}
			}
		}
	}
}

// commitOnly names a commit and nothing else.
type commitOnly string

func (c commitOnly) Commit() string { return string(c) }

// TestChangedSinceRemembered derives indexes from one another and wants
// the files changed on the way: from an ancestor, from a descendant, and
// between two indexes derived from one.
func TestChangedSinceRemembered(t *testing.T) {
	r := &Repo{}
	a := &Index{repo: r, commit: "a"}
	b := &Index{repo: r, commit: "b", since: deriveSince(a, []string{"x", "y"})}
	c := &Index{repo: r, commit: "c", since: deriveSince(a, []string{"y", "z"})}
	d := &Index{repo: r, commit: "d", since: deriveSince(c, []string{"w"})}
	for _, tc := range []struct {
		name    string
		ix      *Index
		earlier interface{ Commit() string }
		want    []string
	}{
		{"from its ancestor", b, a, []string{"x", "y"}},
		{"from its ancestor's ancestor", d, a, []string{"w", "y", "z"}},
		{"from a descendant", a, b, []string{"x", "y"}},
		{"from a sibling", c, b, []string{"x", "y", "z"}},
		{"from a sibling's child", d, b, []string{"w", "x", "y", "z"}},
		{"by commit alone", d, commitOnly("c"), []string{"w"}},
		{"from itself", b, b, []string{}},
	} {
		got, ok := tc.ix.sinceKnown(tc.earlier)
		if !ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := a.sinceKnown(&Index{repo: r, commit: "e"}); ok {
		t.Error("an unrelated index answered from memory")
	}
	if _, ok := b.sinceKnown(&Index{repo: &Repo{}, commit: "a"}); !ok {
		t.Error("a remembered commit is not answered by commit")
	}
}
