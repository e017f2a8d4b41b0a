package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"path"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/retry"
)

// deepFiles returns n requests in folders of their own, two files each,
// spread over teams of 25, under requests/dev.
func deepFiles(n int) map[string][]byte {
	files := map[string][]byte{}
	for i := range n {
		dir := fmt.Sprintf("requests/dev/team-%d/svc-%d", i/25, i)
		files[dir+"/request.yaml"] = []byte(fmt.Sprintf("kind: Request\nname: svc-%d\n", i))
		files[dir+"/deployment.yaml"] = []byte(fmt.Sprintf("kind: Deployment\nname: svc-%d\n", i))
	}
	return files
}

// packs returns how many objects each pack pushed to the fixture's
// repository so far carried.
func (f *fixture) packs(t *testing.T) []int {
	t.Helper()
	packs, err := f.gh.ReceivedPacks(fullName)
	if err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, p := range packs {
		counts = append(counts, p.Objects)
	}
	return counts
}

// newPacks returns the object counts of the packs pushed since the
// fixture's repository had received n.
func (f *fixture) newPacks(t *testing.T, n int) []int {
	t.Helper()
	return f.packs(t)[n:]
}

// pathObjects returns the ids a commit changing only file p sends: the
// commit, its trees along p and p's blob.
func pathObjects(t *testing.T, r *Repo, sha, p string) map[plumbing.Hash]bool {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	want := map[plumbing.Hash]bool{c.Hash: true, tree.Hash: true}
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		sub, err := tree.Tree(dir)
		if err != nil {
			t.Fatal(err)
		}
		want[sub.Hash] = true
	}
	f, err := tree.File(p)
	if err != nil {
		t.Fatal(err)
	}
	want[f.Hash] = true
	return want
}

// changesOf returns what Push sends for sha on top of base, with the
// bases of what it may send as deltas (see changedObjects).
func changesOf(t *testing.T, r *Repo, sha, base string) ([]plumbing.Hash, map[plumbing.Hash]plumbing.Hash) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := r.chainToAdvertised(c, map[plumbing.Hash]bool{plumbing.NewHash(base): true})
	if err != nil {
		t.Fatal(err)
	}
	objs, bases, err := r.changedObjects(context.Background(), chain)
	if err != nil {
		t.Fatal(err)
	}
	return objs, bases
}

// sentObjects returns what Push sends for sha on top of base.
func sentObjects(t *testing.T, r *Repo, sha, base string) map[plumbing.Hash]bool {
	t.Helper()
	objs, _ := changesOf(t, r, sha, base)
	got := map[plumbing.Hash]bool{}
	for _, h := range objs {
		if got[h] {
			t.Errorf("object %s listed twice", h)
		}
		got[h] = true
	}
	return got
}

// remoteFiles clones the remote afresh and returns the files of branch,
// which must be at sha; reading them fails when the remote lacked an
// object.
func remoteFiles(t *testing.T, f *fixture, branch, sha string) map[string]string {
	t.Helper()
	ctx := context.Background()
	other, err := New(t.TempDir(), nil).Open(ctx, f.url, f.auth)
	if err != nil {
		t.Fatal(err)
	}
	if head, err := other.Head(ctx, branch); err != nil || head != sha {
		t.Fatalf("fresh clone has %s at %q, %v; want %s", branch, head, err, sha)
	}
	return localFiles(t, other, sha)
}

// localFiles returns the files of a commit of r.
func localFiles(t *testing.T, r *Repo, sha string) map[string]string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	iter, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	if err := iter.ForEach(func(file *object.File) error {
		content, err := file.Contents()
		files[file.Name] = content
		return err
	}); err != nil {
		t.Fatalf("read the files of %s: %v", sha, err)
	}
	return files
}

// TestPushSendsOnlyChanges: a commit changing one file deep in a tree of
// hundreds of folders is pushed as a pack of the commit, the trees along
// the file's path and its blob, and the remote then has the whole commit.
// Several commits at once send each one's changes.
func TestPushSendsOnlyChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	base, err := r.Commit(ctx, CommitSpec{Parent: head, Files: deepFiles(300), Message: "many", Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	const branch = "gitvend/request-7"
	if err := r.Push(ctx, base, branch, false); err != nil {
		t.Fatal(err)
	}
	const changed = "requests/dev/team-7/svc-182/deployment.yaml"
	one := mustCommit(t, r, base, changed, "kind: Deployment\nname: svc-182\nreplicas: 3\n")
	want := pathObjects(t, r, one, changed)
	if len(want) != 7 {
		t.Fatalf("a change at depth 5 makes %d objects, want 7 (commit, 5 trees, blob)", len(want))
	}
	if diff := cmp.Diff(want, sentObjects(t, r, one, base)); diff != "" {
		t.Errorf("objects to send (-want +got):\n%s", diff)
	}
	pushSends(ctx, t, f, r, one, branch, len(want))

	// Two commits at once. The second copies a file within its folder:
	// the parent's folder has the content, so only the trees are sent.
	// The third changes the first file back: compared with its parent
	// only, its trees along the path and the blob are sent again,
	// although the remote has them from base.
	const copied = "requests/dev/team-11/svc-280/copy.yaml"
	second := mustCommit(t, r, one, copied, "kind: Request\nname: svc-280\n")
	third := mustCommit(t, r, second, changed, "kind: Deployment\nname: svc-182\n")
	want = pathObjects(t, r, third, changed)
	for h := range pathObjects(t, r, second, copied) {
		if !isBlob(t, r, h) {
			want[h] = true
		}
	}
	if len(want) != 7+6 {
		t.Fatalf("two commits make %d objects, want 13: 7 for the third, 6 for the second", len(want))
	}
	if diff := cmp.Diff(want, sentObjects(t, r, third, one)); diff != "" {
		t.Errorf("objects to send for two commits (-want +got):\n%s", diff)
	}
	pushSends(ctx, t, f, r, third, branch, len(want))
}

// pushSends pushes sha to branch and wants the remote to receive one pack
// of objects objects, and to hold the commit's files after.
func pushSends(ctx context.Context, t *testing.T, f *fixture, r *Repo, sha, branch string, objects int) {
	t.Helper()
	pushed := len(f.packs(t))
	if err := r.Push(ctx, sha, branch, false); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{objects}, f.newPacks(t, pushed)); diff != "" {
		t.Errorf("objects per pack the remote received (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(localFiles(t, r, sha), remoteFiles(t, f, branch, sha)); diff != "" {
		t.Errorf("remote files (-local +remote):\n%s", diff)
	}
}

// nearAdvertised reports whether a commit the remote's branches are at is
// among sha's first parents within Push's reach, so that Push sends the
// changes rather than leaving it to go-git.
func nearAdvertised(t *testing.T, f *fixture, r *Repo, sha string) bool {
	t.Helper()
	branches, err := f.gh.Branches(context.Background(), fullName)
	if err != nil {
		t.Fatal(err)
	}
	known := map[plumbing.Hash]bool{}
	for _, h := range branches {
		known[plumbing.NewHash(h)] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.chainToAdvertised(c, known)
	if err != nil && !errors.Is(err, errNoAdvertisedBase) {
		t.Fatal(err)
	}
	return err == nil
}

// isBlob reports whether object h of r is a blob.
func isBlob(t *testing.T, r *Repo, h plumbing.Hash) bool {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	obj, err := r.repo.Storer.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Type() == plumbing.BlobObject
}

// TestPushCases: new branches, fast-forwards, forced and refused
// non-fast-forwards and pushes of what the branch has behave as with
// go-git's push, and a push with no advertised commit near it still sends
// everything needed.
func TestPushCases(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open(t)
	head, _ := r.Head(ctx, "main")
	first := mustCommit(t, r, head, "requests/dev/a/new.yaml", "kind: Request\n")
	sibling := mustCommit(t, r, head, "requests/dev/a/new.yaml", "kind: Request\nname: other\n")
	second := mustCommit(t, r, first, "requests/dev/b/next.yaml", "kind: Request\n")
	third := mustCommit(t, r, second, "requests/dev/b/next.yaml", "kind: Request\nname: next\n")
	// near is maxPushChain commits above main, long two more.
	var near, long string
	for i, sha := 0, head; i < maxPushChain+2; i++ {
		sha = mustCommit(t, r, sha, "requests/dev/c/long.yaml", fmt.Sprintf("step: %d\n", i))
		if i == maxPushChain-1 {
			near = sha
		}
		long = sha
	}
	root, err := r.Commit(ctx, CommitSpec{Files: map[string][]byte{"only.yaml": []byte("x: 1\n")}, Message: "root", Author: author, Time: when})
	if err != nil {
		t.Fatal(err)
	}
	// Someone else moves a branch to a commit this clone has not fetched.
	theirs, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "alice", Branch: "theirs", Files: map[string]string{"t.yaml": "t\n"}})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, sha, branch string
		force             bool
		wantErr           error
		wantAt            string // the remote branch afterwards
		wantPacks         []int  // objects per pack sent; nil for none
		goGit             bool   // no advertised commit near: go-git's push
	}{
		// The fixture's requests all read "kind: Request\n", so a new
		// request file of that content needs no blob.
		{"new branch", first, "b1", false, nil, first, []int{5}, false}, // commit, 4 trees
		{"same again", first, "b1", false, nil, first, nil, false},
		{"same again forced", first, "b1", true, nil, first, nil, false},
		{"fast-forward by two", third, "b1", false, nil, third, []int{5 + 6}, false},
		{"not a fast-forward", sibling, "b1", false, ErrNonFastForward, third, nil, false},
		{"forced", sibling, "b1", true, nil, sibling, []int{6}, false},
		{"forced back", third, "b1", true, nil, third, []int{5 + 5 + 6}, false}, // from main: no ref has them now
		{"an advertised commit to a new branch", head, "b2", false, nil, head, []int{0}, false},
		{"over a commit not fetched", first, "theirs", false, ErrNonFastForward, theirs, nil, false},
		{"over a commit not fetched, forced", first, "theirs", true, nil, first, []int{5}, false},
		{"more commits than Push walks", long, "b5", false, nil, long, []int{(maxPushChain + 2) * 6}, true}, // commit, 4 trees, blob
		{"as many commits as Push walks", near, "b3", false, nil, near, []int{maxPushChain * 6}, false},
		{"a root commit", root, "b4", false, nil, root, []int{3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nearAdvertised(t, f, r, tt.sha); got == tt.goGit {
				t.Errorf("commit advertised near %s: %v; want %v", tt.sha, got, !tt.goGit)
			}
			before := len(f.packs(t))
			err := r.Push(ctx, tt.sha, tt.branch, tt.force)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatal(err)
			case tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !retry.IsTerminal(err)):
				t.Fatalf("Push = %v, want terminal %v", err, tt.wantErr)
			}
			if got := f.branch(t, tt.branch); got != tt.wantAt {
				t.Errorf("remote %s at %s, want %s", tt.branch, got, tt.wantAt)
			}
			if tt.wantErr == nil {
				if got, err := r.Head(ctx, tt.branch); err != nil || got != tt.sha {
					t.Errorf("Head(%s) = %q, %v; want %s", tt.branch, got, err, tt.sha)
				}
				if diff := cmp.Diff(localFiles(t, r, tt.sha), remoteFiles(t, f, tt.branch, tt.sha)); diff != "" {
					t.Errorf("remote files (-local +remote):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.wantPacks, f.newPacks(t, before), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("objects per pack sent (-want +got):\n%s", diff)
			}
		})
	}
}
