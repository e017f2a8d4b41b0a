package githubtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// commitFile writes one file in a go-git worktree and commits it.
func commitFile(t *testing.T, repo *git.Repository, path, content, msg string) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	fh, err := wt.Filesystem.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add(path); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "gitvend", Email: "bot@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGitPushThroughSmartHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	auth := &githttp.BasicAuth{Username: "x-access-token", Password: f.token(t)}
	repo, err := git.CloneContext(f.ctx, memory.NewStorage(), memfs.New(), &git.CloneOptions{URL: f.gh.CloneURL(testRepo), Auth: auth})
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("gitvend/request-1"), Create: true}); err != nil {
		t.Fatal(err)
	}
	first := commitFile(t, repo, "requests/dev/ns.yaml", "kind: Namespace\n", "Render request")
	spec := config.RefSpec("+refs/heads/gitvend/request-1:refs/heads/gitvend/request-1")
	if err := repo.PushContext(f.ctx, &git.PushOptions{Auth: auth, RefSpecs: []config.RefSpec{spec}}); err != nil {
		t.Fatalf("push: %v", err)
	}
	f.idle(t)
	if diff := cmp.Diff([]string{"push", "check_suite/requested"}, f.sink.events()); diff != "" {
		t.Fatalf("events after the first push (-want +got):\n%s", diff)
	}
	branches, err := f.gh.Branches(f.ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if branches["gitvend/request-1"] != first.String() {
		t.Fatalf("branch tip %s, want %s", branches["gitvend/request-1"], first)
	}

	pr, _, err := f.client.PullRequests.Create(f.ctx, "acme", "infra", &github.NewPullRequest{Title: github.String("Request 1"), Head: github.String("gitvend/request-1"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	f.sink.reset()

	second := commitFile(t, repo, "requests/dev/ns.yaml", "kind: Namespace\nmetadata: {name: payments}\n", "Re-render request")
	if err := repo.PushContext(f.ctx, &git.PushOptions{Auth: auth, RefSpecs: []config.RefSpec{spec}}); err != nil {
		t.Fatalf("second push: %v", err)
	}
	f.idle(t)
	if diff := cmp.Diff([]string{"push", "pull_request/synchronize", "check_suite/requested"}, f.sink.events()); diff != "" {
		t.Fatalf("events after the second push (-want +got):\n%s", diff)
	}
	var sync struct {
		Before      string `json:"before"`
		After       string `json:"after"`
		PullRequest struct {
			Head struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(f.sink.received()[1].Payload, &sync); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{first.String(), second.String(), second.String()}, []string{sync.Before, sync.After, sync.PullRequest.Head.SHA}); diff != "" {
		t.Fatalf("synchronize before/after/head (-want +got):\n%s", diff)
	}
	snap, err := f.gh.PullRequest(testRepo, pr.GetNumber())
	if err != nil {
		t.Fatal(err)
	}
	if snap.HeadSHA != second.String() {
		t.Fatalf("pull request head %s, want %s", snap.HeadSHA, second)
	}
	files, err := f.gh.Files(f.ctx, testRepo, "gitvend/request-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := files["requests/dev/ns.yaml"]; got != "kind: Namespace\nmetadata: {name: payments}\n" {
		t.Fatalf("file at branch = %q", got)
	}

	t.Run("credentials are required", func(t *testing.T) {
		tests := []struct {
			name string
			auth *githttp.BasicAuth
		}{
			{"anonymous", nil},
			{"bad token", &githttp.BasicAuth{Username: "x-access-token", Password: "ghs_nope"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				opts := &git.CloneOptions{URL: f.gh.CloneURL(testRepo)}
				if tc.auth != nil {
					opts.Auth = tc.auth
				}
				if _, err := git.CloneContext(f.ctx, memory.NewStorage(), nil, opts); err == nil {
					t.Fatal("clone of a private repository succeeded")
				}
			})
		}
	})

	t.Run("a token from IssueToken clones", func(t *testing.T) {
		tok, err := f.gh.IssueToken(f.inst)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := git.CloneContext(f.ctx, memory.NewStorage(), nil, &git.CloneOptions{URL: f.gh.CloneURL(testRepo), Auth: &githttp.BasicAuth{Username: "x-access-token", Password: tok}}); err != nil {
			t.Fatalf("clone: %v", err)
		}
		if _, err := f.gh.IssueToken(1); err == nil {
			t.Fatal("a token for an unknown installation was issued")
		}
	})

	t.Run("faults reach git only when asked", func(t *testing.T) {
		f.gh.SetFaults(Faults{ErrorRate: 1})
		defer f.gh.SetFaults(Faults{})
		if _, err := git.CloneContext(f.ctx, memory.NewStorage(), nil, &git.CloneOptions{URL: f.gh.CloneURL(testRepo), Auth: auth}); err != nil {
			t.Fatalf("clone with REST faults: %v", err)
		}
		f.gh.SetFaults(Faults{ErrorRate: 1, GitHTTP: true})
		if _, err := git.CloneContext(f.ctx, memory.NewStorage(), nil, &git.CloneOptions{URL: f.gh.CloneURL(testRepo), Auth: auth}); err == nil {
			t.Fatal("clone succeeded although git faults were asked for")
		}
	})
}

func TestMergePullRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	ctx, gh := f.ctx, f.gh
	issue, err := gh.OpenIssue(ctx, testRepo, IssueSpec{User: "alice", Title: "Namespace please"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"one", "two"} {
		if _, err := gh.Push(ctx, testRepo, PushSpec{User: "alice", Branch: b, Files: map[string]string{"README.md": b + "\n", b + ".txt": b}}); err != nil {
			t.Fatal(err)
		}
	}
	one, err := gh.OpenPullRequest(ctx, testRepo, PullSpec{User: "alice", Head: "one", Title: "One", Body: "Closes #1"})
	if err != nil {
		t.Fatal(err)
	}
	two, err := gh.OpenPullRequest(ctx, testRepo, PullSpec{User: "alice", Head: "two", Title: "Two"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.OpenPullRequest(ctx, testRepo, PullSpec{User: "alice", Head: "two", Title: "Again"}); err == nil {
		t.Fatal("a second pull request for the same head was opened")
	}
	f.idle(t)
	f.sink.reset()
	before, err := gh.Branches(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}

	sha, err := gh.MergePullRequest(ctx, testRepo, one, "bob")
	if err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if diff := cmp.Diff([]string{"pull_request/closed", "push", "check_suite/requested", "issues/closed"}, f.sink.events()); diff != "" {
		t.Fatalf("events of a merge (-want +got):\n%s", diff)
	}
	var closed github.PullRequestEvent
	if err := json.Unmarshal(f.sink.received()[0].Payload, &closed); err != nil {
		t.Fatal(err)
	}
	if !closed.GetPullRequest().GetMerged() || closed.GetPullRequest().GetMergeCommitSHA() != sha || closed.GetSender().GetLogin() != "bob" {
		t.Fatalf("closed event: merged %v sha %s sender %s", closed.GetPullRequest().GetMerged(), closed.GetPullRequest().GetMergeCommitSHA(), closed.GetSender().GetLogin())
	}
	commit, _, err := f.client.Git.GetCommit(ctx, "acme", "infra", sha)
	if err != nil {
		t.Fatal(err)
	}
	var parents []string
	for _, p := range commit.Parents {
		parents = append(parents, p.GetSHA())
	}
	if diff := cmp.Diff([]string{before["main"], before["one"]}, parents); diff != "" {
		t.Fatalf("merge parents (-want +got):\n%s", diff)
	}
	snap, err := gh.PullRequest(testRepo, one)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(PullRequest{Number: one, Title: "One", Body: "Closes #1", User: "alice", State: "closed", Head: "one",
		HeadSHA: before["one"], Base: "main", BaseSHA: before["main"], Merged: true, MergedBy: "bob", MergeCommitSHA: sha, Labels: []string{}}, snap); diff != "" {
		t.Fatalf("merged pull request (-want +got):\n%s", diff)
	}
	if is, err := gh.Issue(testRepo, issue); err != nil || is.State != "closed" || is.StateReason != "completed" {
		t.Fatalf("linked issue: %+v %v, want closed as completed", is, err)
	}

	_, err = gh.MergePullRequest(ctx, testRepo, two, "bob")
	if !errors.Is(err, ErrNotMergeable) {
		t.Fatalf("conflicting merge: %v, want ErrNotMergeable", err)
	}
	_, err = gh.MergePullRequest(ctx, testRepo, one, "bob")
	if !errors.Is(err, ErrNotMergeable) {
		t.Fatalf("merging twice: %v, want ErrNotMergeable", err)
	}
}

func TestBuildTree(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	g, err := initBare(ctx, "git", t.TempDir()+"/r.git", "main")
	if err != nil {
		t.Fatal(err)
	}
	blob := func(s string) string {
		sha, err := g.hashBlob(ctx, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	base, err := g.buildTree(ctx, "", []treeChange{
		{path: "a.txt", sha: blob("a")},
		{path: "dir/b.txt", sha: blob("b")},
		{path: "dir/sub/c.txt", sha: blob("c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := g.lsTree(ctx, base, false, "dir")
	if err != nil || len(sub) != 1 {
		t.Fatalf("dir entry: %v %v", sub, err)
	}
	tests := []struct {
		name    string
		changes []treeChange
		want    []string
	}{
		{"add nested", []treeChange{{path: "x/y/z.txt", sha: blob("z")}}, []string{"a.txt", "dir/b.txt", "dir/sub/c.txt", "x/y/z.txt"}},
		{"delete file", []treeChange{{path: "a.txt"}}, []string{"dir/b.txt", "dir/sub/c.txt"}},
		{"delete directory", []treeChange{{path: "dir"}}, []string{"a.txt"}},
		{"directory becomes file", []treeChange{{path: "dir", sha: blob("flat")}}, []string{"a.txt", "dir"}},
		{"file becomes directory", []treeChange{{path: "a.txt/inner", sha: blob("i")}}, []string{"a.txt/inner", "dir/b.txt", "dir/sub/c.txt"}},
		{"graft subtree", []treeChange{{path: "copy", sha: sub[0].sha, tree: true}}, []string{"a.txt", "copy/b.txt", "copy/sub/c.txt", "dir/b.txt", "dir/sub/c.txt"}},
		{"executable", []treeChange{{path: "run.sh", mode: "100755", sha: blob("#!/bin/sh\n")}}, []string{"a.txt", "dir/b.txt", "dir/sub/c.txt", "run.sh"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := g.buildTree(ctx, base, tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := g.lsTree(ctx, tree, true, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				if e.kind == "blob" {
					got = append(got, e.path)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("files (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := g.buildTree(ctx, base, []treeChange{{path: "/", sha: blob("x")}}); err == nil {
		t.Fatal("an empty path was accepted")
	}
}

// Many blobs at once go into one pack, under the ids git gives them; a
// few are written one file each, as before.
func TestHashBlobsPacksMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, n := range []int{3, 2 * unpackLimit} {
		g, err := initBare(ctx, "git", t.TempDir()+"/r.git", "main")
		if err != nil {
			t.Fatal(err)
		}
		blobs := make([][]byte, n)
		for i := range blobs {
			blobs[i] = []byte(fmt.Sprintf("file %d\n", i))
		}
		blobs[n-1] = []byte{} // an empty file, and one twice
		blobs[n-2] = blobs[0]
		shas, err := g.hashBlobs(ctx, blobs)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range blobs {
			want, err := g.run(ctx, b, nil, "hash-object", "--stdin")
			if err != nil {
				t.Fatal(err)
			}
			if shas[i] != strings.TrimSpace(string(want)) {
				t.Fatalf("%d blobs: blob %d has id %s, git says %s", n, i, shas[i], want)
			}
			got, err := g.catBlob(ctx, shas[i])
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("%d blobs: blob %d reads back %q (%v), want %q", n, i, got, err, b)
			}
		}
		packs, _ := filepath.Glob(filepath.Join(g.dir, "objects", "pack", "*.pack"))
		loose, _ := filepath.Glob(filepath.Join(g.dir, "objects", "[0-9a-f][0-9a-f]", "*"))
		if wantPacks := n >= unpackLimit; (len(packs) == 1) != wantPacks || (len(loose) == 0) != wantPacks {
			t.Fatalf("%d blobs: %d packs and %d loose objects", n, len(packs), len(loose))
		}
	}
}
