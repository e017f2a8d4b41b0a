package gitrepo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/gitvend/gitvend/internal/retry"
)

// TestExportRefusesLinks exports commits whose links lead to folders or,
// through other links, outside the tree: each is refused as terminal,
// naming a link, before anything is written.
func TestExportRefusesLinks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	tests := []struct {
		name  string
		links map[string]string // link -> target
		want  string
	}{
		{"three links to their folder", map[string]string{"env/l1": ".", "env/l2": ".", "env/l3": "."}, "points to a folder"},
		{"link to the root", map[string]string{"env/root": ".."}, "env/root -> .. points to a folder"},
		{"link to a folder through a link", map[string]string{"a.yaml": "b", "b": "requests/dev"}, "points to a folder"},
		{"chain that reads inside as text", map[string]string{"d/up": "..", "d/leak.yaml": "up/../../etc/passwd"}, "symbolic link d/"},
		{"chain of file links out", map[string]string{"hop1.yaml": "hop2.yaml", "hop2.yaml": "../secret.yaml"}, "points outside the repository"},
		{"absolute", map[string]string{"abs.yaml": "/etc/passwd"}, "points outside the repository"},
		{"loop", map[string]string{"x.yaml": "y.yaml", "y.yaml": "x.yaml"}, "more than 40 links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			modes := map[string]filemode.FileMode{}
			for l, target := range tt.links {
				files[l] = []byte(target)
				modes[l] = filemode.Symlink
			}
			sha, err := r.Commit(ctx, CommitSpec{Parent: head, Files: files, Message: "links", Author: author, Time: when})
			if err != nil {
				t.Fatal(err)
			}
			sha = setModes(t, r, sha, modes)
			out := filepath.Join(t.TempDir(), "tree")
			start := time.Now()
			err = r.Export(ctx, sha, out)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !retry.IsTerminal(err) {
				t.Errorf("export = %v (terminal %v), want a terminal refusal with %q", err, retry.IsTerminal(err), tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("export took %s", d)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the refused commit was written (stat: %v)", err)
			}
		})
	}
}

func TestExportKeepsLinksToFiles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	links := map[string]string{"a/x.yaml": "../gitvend.yaml", "a/y.yaml": "x.yaml", "a/dangling.yaml": "missing/../../x"}
	files := map[string][]byte{}
	modes := map[string]filemode.FileMode{}
	for l, target := range links {
		files[l] = []byte(target)
		modes[l] = filemode.Symlink
	}
	sha, err := r.Commit(ctx, CommitSpec{Parent: head, Files: files, Message: "links", Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	sha = setModes(t, r, sha, modes)
	out := filepath.Join(t.TempDir(), "tree")
	if err := r.Export(ctx, sha, out); err != nil {
		t.Fatal(err)
	}
	for l, target := range links {
		if got, err := os.Readlink(filepath.Join(out, l)); err != nil || got != target {
			t.Errorf("%s -> %q, %v; want -> %q", l, got, err, target)
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "a", "y.yaml")); err != nil || string(b) != "environments: [dev]\n" {
		t.Errorf("reading through two links = %q, %v", b, err)
	}
}
