package github

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/githubtest"
)

// TestPullRequestFromFork: the client tells a head in another repository
// (a fork) from a branch of the base, and a fork deleted since (head.repo
// null); a fork's branch named like a request's is not found as one.
func TestPullRequestFromFork(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	fork, err := f.gh.ForkRepo(ctx, fullName, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	branch := "gitvend/request-1"
	if _, err := f.gh.Push(ctx, fork, githubtest.PushSpec{User: "mallory", Branch: branch, Files: map[string]string{"a.yaml": "kind: ConfigMap\n"}}); err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(ctx, fullName, githubtest.PullSpec{User: "mallory", Head: "mallory:" + branch, Title: "From a fork"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "acme", Branch: "topic", Files: map[string]string{"b.yaml": "kind: ConfigMap\n"}}); err != nil {
		t.Fatal(err)
	}
	own, err := f.gh.OpenPullRequest(ctx, fullName, githubtest.PullSpec{User: "acme", Head: "topic", Title: "From a branch"})
	if err != nil {
		t.Fatal(err)
	}

	pr, err := f.client.GetPR(ctx, owner, repoName, n)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.HeadFork || pr.HeadGone || pr.HeadRepo != "mallory/infra" || pr.Head != branch {
		t.Errorf("fork pull request = %+v", pr)
	}
	if pr, err := f.client.GetPR(ctx, owner, repoName, own); err != nil || pr.HeadFork || pr.HeadGone || pr.HeadRepo != fullName {
		t.Errorf("branch pull request = %+v, %v", pr, err)
	}
	if _, err := f.client.FindPRByHead(ctx, owner, repoName, branch); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindPRByHead found the fork's %s: %v", branch, err)
	}

	if err := f.gh.DeleteRepo(ctx, fork); err != nil {
		t.Fatal(err)
	}
	pr, err = f.client.GetPR(ctx, owner, repoName, n)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.HeadFork || !pr.HeadGone || pr.HeadRepo != "" || pr.HeadSHA == "" || pr.State != "open" {
		t.Errorf("pull request of a deleted fork = %+v", pr)
	}
	open, err := f.client.ListOpenPRs(ctx, owner, repoName)
	if err != nil || len(open) != 2 {
		t.Fatalf("ListOpenPRs = %+v, %v", open, err)
	}
	for _, p := range open {
		if want := p.Number == n; p.HeadGone != want || p.HeadFork != want {
			t.Errorf("listed #%d: HeadFork %v HeadGone %v", p.Number, p.HeadFork, p.HeadGone)
		}
	}
}

// TestMergePR: a merge names the head it merges (409 when the branch
// moved, retryable); a merged pull request shows when, in a list too; a
// merge repeated at the same head counts as done; a closed one is not
// mergeable (405, terminal).
func TestMergePR(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	push := func(branch, file string) string {
		sha, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "acme", Branch: branch, Files: map[string]string{file: "kind: ConfigMap\n"}})
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	old := push("topic", "a.yaml")
	n, err := f.gh.OpenPullRequest(ctx, fullName, githubtest.PullSpec{User: "acme", Head: "topic", Title: "Topic"})
	if err != nil {
		t.Fatal(err)
	}
	head := push("topic", "b.yaml")
	var ae *APIError
	if _, err := f.client.MergePR(ctx, owner, repoName, n, old); !errors.As(err, &ae) || ae.Status != 409 || errors.Is(err, ErrNotMergeable) {
		t.Fatalf("merge at a head the branch left: %v", err)
	}
	sha, err := f.client.MergePR(ctx, owner, repoName, n, head)
	if err != nil || sha == "" {
		t.Fatalf("merge: %q, %v", sha, err)
	}
	pr, err := f.client.GetPR(ctx, owner, repoName, n)
	if err != nil || !pr.Merged || pr.MergedAt.IsZero() || pr.MergeCommitSHA != sha {
		t.Fatalf("merged pull request = %+v, %v", pr, err)
	}
	if prs, err := f.client.ListPRsByHead(ctx, owner, repoName, "topic"); err != nil || len(prs) != 1 || !prs[0].MergedAt.Equal(pr.MergedAt) {
		t.Errorf("listed: %+v, %v", prs, err)
	}
	if again, err := f.client.MergePR(ctx, owner, repoName, n, head); err != nil || again != sha {
		t.Errorf("merge repeated: %q, %v", again, err)
	}

	push("other", "c.yaml")
	m, err := f.gh.OpenPullRequest(ctx, fullName, githubtest.PullSpec{User: "acme", Head: "other", Title: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gh.CloseIssue(ctx, fullName, m, "acme"); err != nil {
		t.Fatal(err)
	}
	closed, _ := f.client.GetPR(ctx, owner, repoName, m)
	if _, err := f.client.MergePR(ctx, owner, repoName, m, closed.HeadSHA); !errors.Is(err, ErrNotMergeable) {
		t.Errorf("merge of a closed pull request: %v", err)
	}
}

func TestClosePR(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "acme", Branch: "topic", Files: map[string]string{"a.yaml": "kind: ConfigMap\n"}}); err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(ctx, fullName, githubtest.PullSpec{User: "acme", Head: "topic", Title: "Topic"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // closing a closed one does nothing
		if err := f.client.ClosePR(ctx, owner, repoName, n); err != nil {
			t.Fatal(err)
		}
		if pr, err := f.client.GetPR(ctx, owner, repoName, n); err != nil || pr.State != "closed" || pr.Merged {
			t.Fatalf("closed pull request = %+v, %v", pr, err)
		}
	}
	bad := "merged"
	if _, err := f.client.EditPR(ctx, owner, repoName, n, PREdit{State: &bad}); err == nil || !strings.Contains(err.Error(), `state "merged"`) {
		t.Errorf("state merged: %v", err)
	}
}
