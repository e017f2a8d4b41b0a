package gitrepo

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/retry"
)

// merged merges a pull request that changes, adds and deletes a file into
// main on the double and returns the merge commit.
func merged(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "carol", Branch: "feature", Message: "Grow web",
		Files:  map[string]string{"requests/dev/a/keep.yaml": "kind: Request\nreplicas: 9\n", "requests/dev/a/new.yaml": "kind: Request\n"},
		Delete: []string{"requests/dev/b/gone.yaml"}}); err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(ctx, fullName, githubtest.PullSpec{User: "carol", Head: "feature", Title: "Grow web"})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.MergePullRequest(ctx, fullName, n, "carol")
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// TestRevertMerge: the revert of a merge commit, built on a later head,
// brings back what the merge changed (first parent's content, added file
// removed, deleted file restored), keeps the later change to another file,
// says git's message, and is the same commit when made again.
func TestRevertMerge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	merge := merged(t, f)
	later, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "dave", Branch: "main", Message: "Unrelated",
		Files: map[string]string{"gitvend.yaml": "environments: [dev, prod]\n"}})
	if err != nil {
		t.Fatal(err)
	}
	r := f.open(t)
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	spec := RevertSpec{Commit: merge, Onto: later, Author: author, Time: when}
	sha, err := r.Revert(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if sha == later {
		t.Fatal("no revert commit was made")
	}
	want := map[string]string{
		"gitvend.yaml":             "environments: [dev, prod]\n",
		"requests/dev/a/keep.yaml": "kind: Request\n",
		"requests/dev/b/gone.yaml": "kind: Request\n",
	}
	for name, content := range want {
		if b, err := r.ReadFile(ctx, sha, name); err != nil || string(b) != content {
			t.Errorf("%s after the revert: %q, %v; want %q", name, b, err, content)
		}
	}
	if _, err := r.ReadFile(ctx, sha, "requests/dev/a/new.yaml"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the file the merge added is still there: %v", err)
	}
	info, err := r.CommitInfo(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	mergeInfo, _ := r.CommitInfo(ctx, merge)
	subject, _, _ := strings.Cut(mergeInfo.Message, "\n")
	wantMsg := "Revert \"" + subject + "\"\n\nThis reverts commit " + merge + ", reversing\nchanges made to " + mergeInfo.Parents[0] + ".\n"
	if info.Message != wantMsg || len(info.Parents) != 1 || info.Parents[0] != later {
		t.Errorf("revert commit: message %q, parents %v; want %q on %s", info.Message, info.Parents, wantMsg, later)
	}
	again, err := r.Revert(ctx, spec)
	if err != nil || again != sha {
		t.Errorf("the same revert again: %s, %v; want %s", again, err, sha)
	}
	// Reverting onto the revert finds nothing left to undo.
	if same, err := r.Revert(ctx, RevertSpec{Commit: merge, Onto: sha, Author: author, Time: when}); err != nil || same != sha {
		t.Errorf("revert onto the revert: %s, %v; want no commit (%s)", same, err, sha)
	}
}

// TestRevertRefusesAConflict: a file the merge changed and a later commit
// changed again is not guessed at: the revert fails, terminal.
func TestRevertRefusesAConflict(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	merge := merged(t, f)
	later, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "dave", Branch: "main", Message: "Grow web more",
		Files: map[string]string{"requests/dev/a/keep.yaml": "kind: Request\nreplicas: 12\n"}})
	if err != nil {
		t.Fatal(err)
	}
	r := f.open(t)
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = r.Revert(ctx, RevertSpec{Commit: merge, Onto: later, Author: author, Time: when})
	if !errors.Is(err, ErrRevertConflict) || !strings.Contains(err.Error(), "requests/dev/a/keep.yaml") {
		t.Errorf("Revert = %v; want a conflict naming requests/dev/a/keep.yaml", err)
	}
	if _, err := r.Revert(ctx, RevertSpec{Commit: "nope", Onto: later, Author: author}); err == nil {
		t.Error("a bad commit id was accepted")
	}
}

// TestRevertRefusesWhatItCannotRestore: a commit that only made a file
// executable, or removed an executable file, cannot be reverted by
// writing regular files; the revert fails, terminal, naming the file,
// instead of making a commit that undoes nothing or the wrong thing.
func TestRevertRefusesWhatItCannotRestore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	content := []byte("kind: Request\n")
	base := modeCommit(t, r, nil, map[string]filemode.FileMode{"a.yaml": filemode.Regular, "run.sh": filemode.Executable}, content)
	cases := map[string]map[string]filemode.FileMode{
		"a.yaml": {"a.yaml": filemode.Executable, "run.sh": filemode.Executable}, // mode only
		"run.sh": {"a.yaml": filemode.Regular},                                   // executable removed
	}
	for name, files := range cases {
		c := modeCommit(t, r, &base, files, content)
		_, err := r.Revert(ctx, RevertSpec{Commit: c, Onto: c, Author: author, Time: when})
		if err == nil || !retry.IsTerminal(err) || !strings.Contains(err.Error(), name) {
			t.Errorf("revert of a commit changing %s: %v; want a terminal refusal naming it", name, err)
		}
	}
	// A file that was regular before and is regular again is reverted.
	c := modeCommit(t, r, &base, map[string]filemode.FileMode{"run.sh": filemode.Executable}, content)
	sha, err := r.Revert(ctx, RevertSpec{Commit: c, Onto: c, Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := r.ReadFile(ctx, sha, "a.yaml"); err != nil || string(b) != string(content) {
		t.Errorf("a.yaml after the revert: %q, %v", b, err)
	}
}

// modeCommit stores a commit whose root holds files of the given modes,
// all with content, on parent (none when nil), and returns its id.
func modeCommit(t *testing.T, r *Repo, parent *string, files map[string]filemode.FileMode, content []byte) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	b := &treeBuilder{repo: r}
	blob, err := b.blob(content)
	if err != nil {
		t.Fatal(err)
	}
	tree := &object.Tree{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: name, Mode: files[name], Hash: blob})
	}
	st := r.repo.Storer
	obj := st.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		t.Fatal(err)
	}
	th, err := st.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	sig := object.Signature{Name: "carol", Email: "carol@example.com", When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: "Change modes\n", TreeHash: th}
	if parent != nil {
		c.ParentHashes = []plumbing.Hash{plumbing.NewHash(*parent)}
	}
	obj = st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}
