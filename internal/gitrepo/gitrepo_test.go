package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/retry"
)

const fullName = "acme/infra"

// fixture is a GitHub double with one repository, an installation on it
// and a token function that counts its calls.
type fixture struct {
	gh     *githubtest.Server
	inst   int64
	url    string
	cache  *Cache
	tokens atomic.Int32
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	gh, err := githubtest.Start(githubtest.Options{AppID: 42})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	if err := gh.CreateRepo(context.Background(), githubtest.RepoSpec{
		Owner: "acme", Name: "infra",
		Files: map[string]string{
			"gitvend.yaml":              "environments: [dev]\n",
			"requests/dev/a/old.yaml":   "kind: Request\n",
			"requests/dev/a/keep.yaml":  "kind: Request\n",
			"requests/dev/b/gone.yaml":  "kind: Request\n",
			"requests/dev/b/gone2.yaml": "kind: Request\n",
		},
	}); err != nil {
		t.Fatal(err)
	}
	inst, err := gh.AddInstallation("acme", fullName)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{gh: gh, inst: inst, url: gh.CloneURL(fullName), cache: New(t.TempDir(), nil)}
}

// auth hands out a fresh installation token per call, as App.Token does
// when the cached one is near expiry.
func (f *fixture) auth(ctx context.Context) (string, error) {
	f.tokens.Add(1)
	return f.gh.IssueToken(f.inst)
}

func (f *fixture) open(t testing.TB) *Repo {
	t.Helper()
	r, err := f.cache.Open(context.Background(), f.url, f.auth)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) branch(t *testing.T, name string) string {
	t.Helper()
	b, err := f.gh.Branches(context.Background(), fullName)
	if err != nil {
		t.Fatal(err)
	}
	return b[name]
}

var (
	author = BotSignature("gitvend[bot]", 1002)
	when   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func TestCloneCommitPush(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, err := r.Head(ctx, "main")
	if err != nil || head != f.branch(t, "main") {
		t.Fatalf("Head(main) = %q, %v; want %q", head, err, f.branch(t, "main"))
	}
	if want := filepath.Join(f.cache.dir, strings.ReplaceAll(strings.TrimPrefix(f.gh.URL(), "http://"), ":", "_"), "acme", "infra.git"); r.Path() != want {
		t.Errorf("clone at %s, want %s", r.Path(), want)
	}
	b, err := r.ReadFile(ctx, head, "gitvend.yaml")
	if err != nil || string(b) != "environments: [dev]\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}

	sha, err := r.Commit(ctx, CommitSpec{
		Parent: head,
		Files: map[string][]byte{
			"gitvend.yaml":             []byte("environments: [dev, prod]\n"),
			"requests/dev/a/new.yaml":  []byte("kind: Request\nname: new\n"),
			"requests/prod/c/web.yaml": []byte("kind: Request\n"),
		},
		Delete:  []string{"requests/dev/a/old.yaml", "requests/dev/b", "not/there"},
		Message: "Provision web (#1)",
		Author:  author,
		Time:    when,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(ctx, sha, "gitvend/request-1", false); err != nil {
		t.Fatal(err)
	}
	files, err := f.gh.Files(ctx, fullName, "gitvend/request-1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gitvend.yaml":             "environments: [dev, prod]\n",
		"requests/dev/a/keep.yaml": "kind: Request\n",
		"requests/dev/a/new.yaml":  "kind: Request\nname: new\n",
		"requests/prod/c/web.yaml": "kind: Request\n",
	}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("pushed files (-want +got):\n%s", diff)
	}
	if got := f.branch(t, "gitvend/request-1"); got != sha {
		t.Errorf("remote branch at %s, want %s", got, sha)
	}
	if got, err := r.Head(ctx, "gitvend/request-1"); err != nil || got != sha {
		t.Errorf("Head after push = %q, %v; want %q", got, err, sha)
	}
	info, err := r.CommitInfo(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := CommitInfo{
		SHA: sha, Message: "Provision web (#1)\n", Author: author, AuthorTime: when, Committer: author, Time: when,
		Parents: []string{head},
	}
	if diff := cmp.Diff(wantInfo, info, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("commit info (-want +got):\n%s", diff)
	}
	if _, err := r.CommitInfo(ctx, strings.Repeat("0", 40)); !errors.Is(err, ErrNotFound) {
		t.Errorf("CommitInfo(unknown) = %v, want ErrNotFound", err)
	}

	// The same changes at the same time give the same commit, also in
	// another clone.
	other := New(t.TempDir(), nil)
	r2, err := other.Open(ctx, f.url, f.auth)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r2.Commit(ctx, CommitSpec{
		Parent:  head,
		Files:   map[string][]byte{"requests/prod/c/web.yaml": []byte("kind: Request\n"), "requests/dev/a/new.yaml": []byte("kind: Request\nname: new\n"), "gitvend.yaml": []byte("environments: [dev, prod]\n")},
		Delete:  []string{"requests/dev/b/gone.yaml", "requests/dev/b/gone2.yaml", "requests/dev/a/old.yaml"},
		Message: "Provision web (#1)", Author: author, Time: when,
	})
	if err != nil || again != sha {
		t.Errorf("same commit elsewhere = %s, %v; want %s", again, err, sha)
	}
}

func TestCommitWithoutChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	tests := []struct {
		name string
		spec CommitSpec
	}{
		{"same content", CommitSpec{Files: map[string][]byte{"gitvend.yaml": []byte("environments: [dev]\n")}}},
		{"delete missing", CommitSpec{Delete: []string{"nope.yaml", "requests/nope", "gitvend.yaml/x"}}},
		{"nothing", CommitSpec{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Parent, spec.Message, spec.Author, spec.Time = head, "noop", author, when
			got, err := r.Commit(ctx, spec)
			if err != nil || got != head {
				t.Errorf("Commit = %s, %v; want the parent %s", got, err, head)
			}
		})
	}
}

func TestForcePushAndNoOp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	commit := func(content string) string {
		t.Helper()
		sha, err := r.Commit(ctx, CommitSpec{Parent: head, Files: map[string][]byte{"r.yaml": []byte(content)}, Message: "render", Author: author, Time: when})
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	first, second := commit("one\n"), commit("two\n")
	if err := r.Push(ctx, first, "gitvend/request-2", false); err != nil {
		t.Fatal(err)
	}
	if err := r.Push(ctx, second, "gitvend/request-2", false); !errors.Is(err, ErrNonFastForward) {
		t.Fatalf("push of a sibling without force = %v, want ErrNonFastForward", err)
	}
	if err := r.Push(ctx, second, "gitvend/request-2", true); err != nil {
		t.Fatal(err)
	}
	if got := f.branch(t, "gitvend/request-2"); got != second {
		t.Errorf("branch at %s after force push, want %s", got, second)
	}
	pushes := func() int {
		// Events are delivered after the push is answered.
		if err := f.gh.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range f.gh.Deliveries() {
			if d.Event == "push" {
				n++
			}
		}
		return n
	}
	before := pushes()
	if before == 0 {
		t.Fatal("the double recorded no push event for the pushes so far")
	}
	for _, force := range []bool{false, true} {
		if err := r.Push(ctx, second, "gitvend/request-2", force); err != nil {
			t.Fatalf("repeated push (force %v): %v", force, err)
		}
	}
	if got := pushes(); got != before {
		t.Errorf("repeated pushes sent %d push events, want 0", got-before)
	}
}

func TestFreshTokenPerOperation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	sha, err := r.Commit(ctx, CommitSpec{Parent: head, Files: map[string][]byte{"x": []byte("x")}, Message: "x", Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	f.gh.ExpireTokens()
	if err := r.Push(ctx, sha, "topic", false); err != nil {
		t.Fatalf("push after the clone's token expired: %v", err)
	}
	f.gh.ExpireTokens()
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "alice", Branch: "main", Files: map[string]string{"y": "y"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Fetch(ctx); err != nil {
		t.Fatalf("fetch after the token expired: %v", err)
	}
	if got, _ := r.Head(ctx, "main"); got != f.branch(t, "main") || got == head {
		t.Errorf("Head(main) after fetch = %s, want the new tip %s", got, f.branch(t, "main"))
	}
	if n := f.tokens.Load(); n != 3 {
		t.Errorf("tokens asked = %d, want 3 (clone, push, fetch)", n)
	}

	// A token that is not renewed is refused.
	stale, err := f.gh.IssueToken(f.inst)
	if err != nil {
		t.Fatal(err)
	}
	f.gh.ExpireTokens()
	r.auth = func(context.Context) (string, error) { return stale, nil }
	if err := r.Fetch(ctx); err == nil {
		t.Error("fetch with an expired token succeeded")
	}
}

func TestFetchPrunesDeletedBranches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "alice", Branch: "feature", Files: map[string]string{"f": "f"}}); err != nil {
		t.Fatal(err)
	}
	r := f.open(t)
	if _, err := r.Head(ctx, "feature"); err != nil {
		t.Fatal(err)
	}
	// Someone deletes the branch from another clone.
	other, err := New(t.TempDir(), nil).Open(ctx, f.url, f.auth)
	if err != nil {
		t.Fatal(err)
	}
	if err := pushDelete(ctx, other, "feature"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cache.Open(ctx, f.url, f.auth); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Head(ctx, "feature"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head(deleted branch) = %v, want ErrNotFound", err)
	}
}

// TestFetchOnlyWhatMoved: a fetch brings the branches that moved to
// commits the clone lacks, records without fetching those at commits it
// has, forgets deleted ones, and leaves on disk the refs it answers from,
// past a first clone of more branches than it fetches one by one.
func TestFetchOnlyWhatMoved(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var names []string
	for i := range manyBranches + 4 {
		name := fmt.Sprintf("b%d", i)
		names = append(names, name)
		if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "alice", Branch: name, Files: map[string]string{name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	r := f.open(t)
	check := func(when string) {
		t.Helper()
		remote, err := f.gh.Branches(ctx, fullName)
		if err != nil {
			t.Fatal(err)
		}
		for name, sha := range remote {
			if got, err := r.Head(ctx, name); err != nil || got != sha {
				t.Errorf("%s: Head(%s) = %s, %v; want %s", when, name, got, err, sha)
			}
			if _, err := r.repo.CommitObject(plumbing.NewHash(sha)); err != nil {
				t.Errorf("%s: commit of %s not in the clone: %v", when, name, err)
			}
		}
		// What a fresh reading of the clone's refs finds agrees.
		disk, err := openBare(r.path)
		if err != nil {
			t.Fatal(err)
		}
		refs, _ := disk.References()
		onDisk := map[string]string{}
		_ = refs.ForEach(func(ref *plumbing.Reference) error {
			if b, ok := strings.CutPrefix(ref.Name().String(), trackingPrefix); ok {
				onDisk[b] = ref.Hash().String()
			}
			return nil
		})
		if !maps.Equal(onDisk, remote) {
			t.Errorf("%s: tracking refs on disk %v, remote branches %v", when, onDisk, remote)
		}
	}
	check("after the first clone")
	// Elsewhere: b3 moves to a commit the clone lacks, a branch is made
	// at the default branch's commit, which it has, b5 is deleted.
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "alice", Branch: "b3", Files: map[string]string{"b3": "moved"}}); err != nil {
		t.Fatal(err)
	}
	other, err := New(t.TempDir(), nil).Open(ctx, f.url, f.auth)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Push(ctx, f.branch(t, "main"), "copy", false); err != nil {
		t.Fatal(err)
	}
	if err := pushDelete(ctx, other, "b5"); err != nil {
		t.Fatal(err)
	}
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	check("after the fetch")
	if _, err := r.Head(ctx, "b5"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head(b5) after its deletion = %v, want ErrNotFound", err)
	}
	// Nothing moved: the same again.
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a fetch with nothing new")
}

// TestRemoteBranchesRefusesHostileNames: names a remote advertises become
// refspecs and ref files of the clone; one git would not give a branch
// (a path out of refs/, a refspec wildcard, a lock file) is left out, as
// are tags and symbolic refs.
func TestRemoteBranchesRefusesHostileNames(t *testing.T) {
	h := plumbing.NewHash("1111111111111111111111111111111111111111")
	var advertised []*plumbing.Reference
	for _, name := range []string{"main", "gitvend/request-7", "../../config", "a/../../../b", "*", "x:y", "wip.lock", "refs/heads/z"} {
		advertised = append(advertised, plumbing.NewHashReference(plumbing.ReferenceName("refs/heads/"+name), h))
	}
	advertised = append(advertised, plumbing.NewHashReference("refs/tags/v1", h),
		plumbing.NewSymbolicReference("refs/heads/alias", "refs/heads/main"))
	got := remoteBranches(advertised)
	want := map[string]plumbing.Hash{"main": h, "gitvend/request-7": h}
	if !maps.Equal(got, want) {
		t.Errorf("remoteBranches = %v, want %v", got, want)
	}
}

func TestConcurrentOpen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 8
	repos := make([]*Repo, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { repos[i], errs[i] = f.cache.Open(ctx, f.url, f.auth) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		if repos[i] != repos[0] {
			t.Errorf("Open %d returned another Repo", i)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(repos[0].Path()))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "infra.git" {
		t.Errorf("cache holds %v, want only infra.git", entries)
	}
	// Concurrent commits and reads on the shared Repo.
	head, _ := repos[0].Head(ctx, "main")
	var shas sync.Map
	for i := range n {
		wg.Go(func() {
			sha, err := repos[i].Commit(ctx, CommitSpec{Parent: head, Files: map[string][]byte{"same": []byte("x")}, Message: "m", Author: author, Time: when})
			if err != nil {
				t.Error(err)
			}
			shas.Store(sha, true)
			if _, err := repos[i].ReadFile(ctx, head, "gitvend.yaml"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	count := 0
	shas.Range(func(any, any) bool { count++; return true })
	if count != 1 {
		t.Errorf("concurrent identical commits gave %d ids, want 1", count)
	}
}

func TestReopenAfterRestartAndBrokenClone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	dir := f.cache.dir
	// A new process finds the clone on disk and fetches.
	restarted := New(dir, nil)
	r2, err := restarted.Open(ctx, f.url, f.auth)
	if err != nil || r2.Path() != r.Path() {
		t.Fatalf("Open after restart = %v, %v", r2, err)
	}
	// A clone that cannot be read is made again.
	if err := os.RemoveAll(r.Path()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(r.Path(), "garbage"), 0o755); err != nil {
		t.Fatal(err)
	}
	r3, err := New(dir, nil).Open(ctx, f.url, f.auth)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r3.Head(ctx, "main"); err != nil || got != f.branch(t, "main") {
		t.Errorf("Head after re-clone = %q, %v", got, err)
	}
	// A process killed while writing a ref leaves the file empty, which
	// every fetch then fails on: the clone is made again.
	ref := filepath.Join(r3.Path(), "refs", "remotes", "origin", "main")
	if _, err := os.Stat(ref); err != nil {
		t.Fatalf("the clone keeps no loose ref to empty: %v", err)
	}
	if err := os.WriteFile(ref, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r4, err := New(dir, nil).Open(ctx, f.url, f.auth)
	if err != nil {
		t.Fatalf("Open of a clone with an empty ref file: %v", err)
	}
	if got, err := r4.Head(ctx, "main"); err != nil || got != f.branch(t, "main") {
		t.Errorf("Head after the empty ref = %q, %v", got, err)
	}
}

func TestExport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	sha, err := r.Commit(ctx, CommitSpec{
		Parent:  head,
		Files:   map[string][]byte{"bin/render.sh": []byte("#!/bin/sh\n"), "base/link.yaml": []byte("../gitvend.yaml")},
		Message: "tools", Author: author, Time: when,
	})
	if err != nil {
		t.Fatal(err)
	}
	sha = setModes(t, r, sha, map[string]filemode.FileMode{"bin/render.sh": filemode.Executable, "base/link.yaml": filemode.Symlink})
	out := filepath.Join(t.TempDir(), "tree")
	if err := r.Export(ctx, sha, out); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			got[rel] = "link -> " + target
		default:
			got[rel] = info.Mode().Perm().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gitvend.yaml": "-rw-r--r--", "requests/dev/a/old.yaml": "-rw-r--r--", "requests/dev/a/keep.yaml": "-rw-r--r--",
		"requests/dev/b/gone.yaml": "-rw-r--r--", "requests/dev/b/gone2.yaml": "-rw-r--r--",
		"bin/render.sh": "-rwxr-xr-x", "base/link.yaml": "link -> ../gitvend.yaml",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exported tree (-want +got):\n%s", diff)
	}
	b, err := os.ReadFile(filepath.Join(out, "base", "link.yaml"))
	if err != nil || string(b) != "environments: [dev]\n" {
		t.Errorf("reading through the link = %q, %v", b, err)
	}

	// Changing an executable keeps its mode.
	next, err := r.Commit(ctx, CommitSpec{Parent: sha, Files: map[string][]byte{"bin/render.sh": []byte("#!/bin/sh\nexit 0\n")}, Message: "m", Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.repo.CommitObject(plumbing.NewHash(next))
	file, err := c.File("bin/render.sh")
	if err != nil || file.Mode != filemode.Executable {
		t.Errorf("mode after edit = %v, %v; want executable", file.Mode, err)
	}

	escape := setModes(t, r, mustCommit(t, r, sha, "evil", "../../etc/passwd"), map[string]filemode.FileMode{"evil": filemode.Symlink})
	if err := r.Export(ctx, escape, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("export of an escaping link = %v, want a refusal", err)
	}
}

func TestInputErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	good := CommitSpec{Parent: head, Message: "m", Author: author, Time: when}
	tests := []struct {
		name, want string
		call       func() error
	}{
		{"ssh url", "clone URL", func() error { _, err := f.cache.Open(ctx, "ssh://git@github.com/a/b.git", f.auth); return err }},
		{"url with user", "credentials", func() error { _, err := f.cache.Open(ctx, "https://x:y@github.com/a/b.git", f.auth); return err }},
		{"deep url", "owner/repo", func() error { _, err := f.cache.Open(ctx, "https://github.com/a/b/c.git", f.auth); return err }},
		{"dot dot url", "plain name", func() error { _, err := f.cache.Open(ctx, "https://github.com/../b.git", f.auth); return err }},
		{"no auth", "auth", func() error { _, err := f.cache.Open(ctx, f.url, nil); return err }},
		{"escaping path", "files: path", func() error {
			s := good
			s.Files = map[string][]byte{"../x": nil}
			_, err := r.Commit(ctx, s)
			return err
		}},
		{"git dir", ".git", func() error {
			s := good
			s.Files = map[string][]byte{"a/.git/config": nil}
			_, err := r.Commit(ctx, s)
			return err
		}},
		{"set and delete", "also in files", func() error {
			s := good
			s.Files, s.Delete = map[string][]byte{"a": nil}, []string{"a"}
			_, err := r.Commit(ctx, s)
			return err
		}},
		{"no message", "message", func() error { s := good; s.Message = " "; _, err := r.Commit(ctx, s); return err }},
		{"no author", "author", func() error { s := good; s.Author = Signature{}; _, err := r.Commit(ctx, s); return err }},
		{"short parent", "parent", func() error { s := good; s.Parent = "abc"; _, err := r.Commit(ctx, s); return err }},
		{"unknown parent", "not found", func() error { s := good; s.Parent = strings.Repeat("a", 40); _, err := r.Commit(ctx, s); return err }},
		{"file as dir", "is a file", func() error {
			s := good
			s.Files = map[string][]byte{"gitvend.yaml/x": []byte("x")}
			_, err := r.Commit(ctx, s)
			return err
		}},
		{"dir as file", "is a directory", func() error {
			s := good
			s.Files = map[string][]byte{"requests": []byte("x")}
			_, err := r.Commit(ctx, s)
			return err
		}},
		{"bad branch", "branch", func() error { return r.Push(ctx, head, "refs/heads/x", false) }},
		{"missing file", "not found", func() error { _, err := r.ReadFile(ctx, head, "nope.yaml"); return err }},
		{"missing branch", "not found", func() error { _, err := r.Head(ctx, "nope"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
			if !retry.IsTerminal(err) {
				t.Errorf("error %v is not terminal", err)
			}
		})
	}
}

func TestErrorClassification(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	first := mustCommit(t, r, head, "a.yaml", "one")
	sibling := mustCommit(t, r, head, "a.yaml", "two")
	if err := r.Push(ctx, first, "topic", false); err != nil {
		t.Fatal(err)
	}
	withAuth := func(auth Auth, call func() error) func() error {
		return func() error {
			saved := r.auth
			r.mu.Lock()
			r.auth = auth
			r.mu.Unlock()
			defer func() { r.mu.Lock(); r.auth = saved; r.mu.Unlock() }()
			return call()
		}
	}
	withFaults := func(call func() error) func() error {
		return func() error {
			f.gh.SetFaults(githubtest.Faults{ErrorRate: 1, GitHTTP: true})
			defer f.gh.SetFaults(githubtest.Faults{})
			return call()
		}
	}
	stale := func(t *testing.T) Auth {
		tok, err := f.gh.IssueToken(f.inst)
		if err != nil {
			t.Fatal(err)
		}
		f.gh.ExpireTokens()
		return func(context.Context) (string, error) { return tok, nil }
	}
	tests := []struct {
		name         string
		call         func(t *testing.T) func() error
		wantTerminal bool
	}{
		{"push not a fast-forward", func(t *testing.T) func() error {
			return func() error { return r.Push(ctx, sibling, "topic", false) }
		}, true},
		{"fetch with an expired token", func(t *testing.T) func() error { return withAuth(stale(t), func() error { return r.Fetch(ctx) }) }, true},
		{"push with an expired token", func(t *testing.T) func() error {
			return withAuth(stale(t), func() error { return r.Push(ctx, sibling, "other", false) })
		}, true},
		{"repository not found", func(t *testing.T) func() error {
			return func() error { _, err := f.cache.Open(ctx, f.gh.CloneURL("acme/missing"), f.auth); return err }
		}, true},
		{"token refused by GitHub", func(t *testing.T) func() error {
			return withAuth(func(context.Context) (string, error) { return "", retry.Terminal(errors.New("401 Bad credentials")) },
				func() error { return r.Fetch(ctx) })
		}, true},
		{"token unavailable", func(t *testing.T) func() error {
			return withAuth(func(context.Context) (string, error) { return "", errors.New("502 Bad Gateway") },
				func() error { return r.Fetch(ctx) })
		}, false},
		{"fetch answered 502", func(t *testing.T) func() error { return withFaults(func() error { return r.Fetch(ctx) }) }, false},
		{"push answered 502", func(t *testing.T) func() error {
			return withFaults(func() error { return r.Push(ctx, sibling, "third", false) })
		}, false},
		{"connection refused", func(t *testing.T) func() error {
			return func() error {
				_, err := New(t.TempDir(), nil).Open(ctx, "http://127.0.0.1:1/acme/infra.git", f.auth)
				return err
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t)()
			if err == nil {
				t.Fatal("no error")
			}
			if got := retry.IsTerminal(err); got != tt.wantTerminal {
				t.Errorf("IsTerminal(%v) = %v, want %v", err, got, tt.wantTerminal)
			}
		})
	}
}

// pushDelete deletes a remote branch.
func pushDelete(ctx context.Context, r *Repo, branch string) error {
	auth, err := r.basicAuth(ctx)
	if err != nil {
		return err
	}
	return r.repo.PushContext(ctx, &git.PushOptions{RemoteName: remoteName, Auth: auth,
		RefSpecs: []config.RefSpec{config.RefSpec(":refs/heads/" + branch)}})
}

// mustCommit adds one file on parent.
func mustCommit(t *testing.T, r *Repo, parent, name, content string) string {
	t.Helper()
	sha, err := r.Commit(context.Background(), CommitSpec{Parent: parent, Files: map[string][]byte{name: []byte(content)}, Message: "m", Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// setModes rewrites a commit with other modes for some files, which
// Commit itself only keeps.
func setModes(t *testing.T, r *Repo, sha string, modes map[string]filemode.FileMode) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		t.Fatal(err)
	}
	b := &treeBuilder{repo: r}
	root, err := b.load(c.TreeHash)
	if err != nil {
		t.Fatal(err)
	}
	for p, m := range modes {
		elems := strings.Split(p, "/")
		d := root
		for _, el := range elems[:len(elems)-1] {
			if d, err = b.subdir(d.entries[el]); err != nil {
				t.Fatal(err)
			}
		}
		d.entries[elems[len(elems)-1]].mode = m
	}
	tree, err := b.write(root)
	if err != nil {
		t.Fatal(err)
	}
	nc := &object.Commit{Author: c.Author, Committer: c.Committer, Message: c.Message, TreeHash: tree, ParentHashes: c.ParentHashes}
	obj := r.repo.Storer.NewEncodedObject()
	if err := nc.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := r.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// TestFetchPull: the head of a pull request from a fork is fetched from
// the base repository's refs/pull/N/head, also after the fork moved and
// after it was deleted; a number without a pull request is ErrNotFound.
func TestFetchPull(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	fork, err := f.gh.ForkRepo(ctx, fullName, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.gh.Push(ctx, fork, githubtest.PushSpec{User: "mallory", Branch: "main", Files: map[string]string{"policies/allow.rego": "package x\n"}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(ctx, fullName, githubtest.PullSpec{User: "mallory", Head: "mallory:main", Title: "From a fork"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.FetchPull(ctx, n)
	if err != nil || got != first {
		t.Fatalf("FetchPull = %q, %v; want %s", got, err, first)
	}
	if data, err := r.ReadFile(ctx, got, "policies/allow.rego"); err != nil || string(data) != "package x\n" {
		t.Errorf("read the fork's commit: %q, %v", data, err)
	}
	second, err := f.gh.Push(ctx, fork, githubtest.PushSpec{User: "mallory", Branch: "main", Files: map[string]string{"b.yaml": "x: 1\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gh.DeleteRepo(ctx, fork); err != nil {
		t.Fatal(err)
	}
	if got, err := r.FetchPull(ctx, n); err != nil || got != second {
		t.Errorf("FetchPull after the fork moved and was deleted = %q, %v; want %s", got, err, second)
	}
	// A later fetch of the branches keeps the pull request's ref.
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CommitInfo(ctx, second); err != nil {
		t.Errorf("the fetched head is gone after a fetch: %v", err)
	}
	if _, err := r.FetchPull(ctx, n+10); !errors.Is(err, ErrNotFound) {
		t.Errorf("FetchPull of no pull request = %v, want ErrNotFound", err)
	}
	if _, err := r.FetchPull(ctx, 0); err == nil || !retry.IsTerminal(err) {
		t.Errorf("FetchPull(0) = %v, want a terminal error", err)
	}
}
