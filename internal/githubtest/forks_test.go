package githubtest

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// remoteRefs lists the refs the base repository advertises over git smart
// HTTP to the installation's token.
func remoteRefs(t *testing.T, f *fixture, fullName string) map[string]string {
	t.Helper()
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{f.gh.CloneURL(fullName)}})
	list, err := rem.ListContext(f.ctx, &git.ListOptions{Auth: &githttp.BasicAuth{Username: "x-access-token", Password: f.token(t)}})
	if err != nil {
		t.Fatalf("list refs of %s: %v", fullName, err)
	}
	out := map[string]string{}
	for _, r := range list {
		if r.Type() == plumbing.HashReference {
			out[r.Name().String()] = r.Hash().String()
		}
	}
	return out
}

// fetchPullHead fetches refs/pull/N/head from the base as gitrepo does.
func fetchPullHead(t *testing.T, f *fixture, ref string) (string, error) {
	t.Helper()
	st := memory.NewStorage()
	rem := git.NewRemote(st, &config.RemoteConfig{Name: "origin", URLs: []string{f.gh.CloneURL(testRepo)}})
	err := rem.FetchContext(f.ctx, &git.FetchOptions{Auth: &githttp.BasicAuth{Username: "x-access-token", Password: f.token(t)},
		RefSpecs: []config.RefSpec{config.RefSpec("+" + ref + ":refs/remotes/pull")}})
	if err != nil {
		return "", err
	}
	r, err := st.Reference("refs/remotes/pull")
	if err != nil {
		return "", err
	}
	return r.Hash().String(), nil
}

// pullHead is the head of a pull request as the REST API answers it.
type pullHead struct {
	State string `json:"state"`
	Head  struct {
		Label string `json:"label"`
		Ref   string `json:"ref"`
		SHA   string `json:"sha"`
		User  struct {
			Login string `json:"login"`
		} `json:"user"`
		Repo *struct {
			FullName string `json:"full_name"`
			Fork     bool   `json:"fork"`
		} `json:"repo"`
	} `json:"head"`
}

func getPullHead(t *testing.T, f *fixture, number int) pullHead {
	t.Helper()
	req, err := f.client.NewRequest("GET", "repos/acme/infra/pulls/"+strconv.Itoa(number), nil)
	if err != nil {
		t.Fatal(err)
	}
	var raw json.RawMessage
	if _, err := f.client.Do(f.ctx, req, &raw); err != nil {
		t.Fatalf("get pull request: %v", err)
	}
	var p pullHead
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPullRequestFromFork plays a pull request from a fork as GitHub does:
// the head is in the fork (head.repo, head.label user:branch), the base
// serves it as refs/pull/N/head, kept up to date as the fork's branch
// moves and refused to pushes; deleting the fork leaves the pull request
// open with head.repo null and its head still fetchable from the base.
func TestPullRequestFromFork(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	fork, err := f.gh.ForkRepo(f.ctx, testRepo, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	if fork != "mallory/infra" {
		t.Fatalf("fork = %q", fork)
	}
	first, err := f.gh.Push(f.ctx, fork, PushSpec{User: "mallory", Branch: "feature", Files: map[string]string{"a.yaml": "kind: ConfigMap\n"}})
	if err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if got := f.sink.events(); len(got) != 0 {
		t.Fatalf("a push to the fork sent %q to the App of the original", got)
	}
	n, err := f.gh.OpenPullRequest(f.ctx, testRepo, PullSpec{User: "mallory", Head: "mallory:feature", Title: "From a fork"})
	if err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if diff := cmp.Diff([]string{"pull_request/opened"}, f.sink.events()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	var opened struct {
		PullRequest pullHead `json:"pull_request"`
	}
	if err := json.Unmarshal(f.sink.received()[0].Payload, &opened); err != nil {
		t.Fatal(err)
	}
	for _, p := range []pullHead{opened.PullRequest, getPullHead(t, f, n)} {
		if p.Head.Label != "mallory:feature" || p.Head.Ref != "feature" || p.Head.SHA != first || p.Head.User.Login != "mallory" ||
			p.Head.Repo == nil || p.Head.Repo.FullName != "mallory/infra" || !p.Head.Repo.Fork {
			t.Errorf("head = %+v (repo %+v)", p.Head, p.Head.Repo)
		}
	}
	ref := "refs/pull/" + strconv.Itoa(n) + "/head"
	if got := remoteRefs(t, f, testRepo)[ref]; got != first {
		t.Errorf("%s advertised as %q, want %s", ref, got, first)
	}
	if got, err := fetchPullHead(t, f, ref); err != nil || got != first {
		t.Errorf("fetch %s = %q, %v; want %s", ref, got, err, first)
	}

	// A branch of the base with the same name is another branch.
	f.sink.reset()
	if _, err := f.gh.Push(f.ctx, testRepo, PushSpec{User: "acme", Branch: "feature", Files: map[string]string{"b.yaml": "kind: Secret\n"}}); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if p := getPullHead(t, f, n); p.Head.SHA != first {
		t.Errorf("a push to the base's own feature branch moved the fork's pull request to %s", p.Head.SHA)
	}
	if got := f.sink.events(); slices.Contains(got, "pull_request/synchronize") {
		t.Errorf("events after a push to the base's branch: %q", got)
	}

	// The fork's branch moves: synchronize on the base, refs/pull follows.
	f.sink.reset()
	second, err := f.gh.Push(f.ctx, fork, PushSpec{User: "mallory", Branch: "feature", Files: map[string]string{"a.yaml": "kind: ConfigMap\nmetadata: {name: x}\n"}})
	if err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if diff := cmp.Diff([]string{"pull_request/synchronize"}, f.sink.events()); diff != "" {
		t.Fatalf("events after a push to the fork (-want +got):\n%s", diff)
	}
	if got := remoteRefs(t, f, testRepo)[ref]; got != second {
		t.Errorf("%s after the fork moved = %q, want %s", ref, got, second)
	}

	// refs/pull is GitHub's: a push to it is refused.
	st := memory.NewStorage()
	auth := &githttp.BasicAuth{Username: "x-access-token", Password: f.token(t)}
	local, err := git.CloneContext(f.ctx, st, nil, &git.CloneOptions{URL: f.gh.CloneURL(testRepo), Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	mainRef, err := local.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	if err != nil {
		t.Fatal(err)
	}
	spec := config.RefSpec("+" + mainRef.Hash().String() + ":" + ref)
	if err := local.PushContext(f.ctx, &git.PushOptions{Auth: auth, RefSpecs: []config.RefSpec{spec}}); err == nil {
		t.Error("a push to refs/pull/N/head was accepted")
	}
	if got := remoteRefs(t, f, testRepo)[ref]; got != second {
		t.Errorf("%s after a refused push = %q, want %s", ref, got, second)
	}

	// The head filter of the list names the fork's owner.
	prs, _, err := f.client.PullRequests.List(f.ctx, "acme", "infra", nil)
	if err != nil || len(prs) != 1 {
		t.Fatalf("open pull requests: %d, %v", len(prs), err)
	}
	for head, want := range map[string]int{"mallory:feature": 1, "acme:feature": 0} {
		req, _ := f.client.NewRequest("GET", "repos/acme/infra/pulls?head="+head, nil)
		var list []json.RawMessage
		if _, err := f.client.Do(f.ctx, req, &list); err != nil || len(list) != want {
			t.Errorf("pulls with head %s: %d, %v; want %d", head, len(list), err, want)
		}
	}

	// The fork is deleted: the pull request stays open, head.repo null.
	f.sink.reset()
	if err := f.gh.DeleteRepo(f.ctx, fork); err != nil {
		t.Fatal(err)
	}
	gone := getPullHead(t, f, n)
	if gone.State != "open" || gone.Head.Repo != nil || gone.Head.SHA != second || gone.Head.Label != "mallory:feature" {
		t.Errorf("after the fork was deleted: %+v (repo %+v)", gone, gone.Head.Repo)
	}
	if got, err := fetchPullHead(t, f, ref); err != nil || got != second {
		t.Errorf("fetch %s after the fork was deleted = %q, %v; want %s", ref, got, err, second)
	}
	if _, err := f.gh.PullRequest(testRepo, n); err != nil {
		t.Error(err)
	}
}

// TestPullRefOfBranchPullRequest: refs/pull/N/head exists for a pull
// request from a branch of the same repository too, and follows it.
func TestPullRefOfBranchPullRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	first, err := f.gh.Push(f.ctx, testRepo, PushSpec{User: "acme", Branch: "topic", Files: map[string]string{"a.yaml": "x: 1\n"}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(f.ctx, testRepo, PullSpec{User: "acme", Head: "topic", Title: "Topic"})
	if err != nil {
		t.Fatal(err)
	}
	ref := "refs/pull/" + strconv.Itoa(n) + "/head"
	if got := remoteRefs(t, f, testRepo)[ref]; got != first {
		t.Errorf("%s = %q, want %s", ref, got, first)
	}
	second, err := f.gh.Push(f.ctx, testRepo, PushSpec{User: "acme", Branch: "topic", Files: map[string]string{"a.yaml": "x: 2\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := remoteRefs(t, f, testRepo)[ref]; got != second {
		t.Errorf("%s after a push = %q, want %s", ref, got, second)
	}
	if p := getPullHead(t, f, n); p.Head.Repo == nil || p.Head.Repo.FullName != testRepo || p.Head.Label != "acme:topic" || p.Head.Repo.Fork {
		t.Errorf("head = %+v (repo %+v)", p.Head, p.Head.Repo)
	}
}

// TestRepositoryNamesAnyCase: GitHub resolves owner and repository names
// without regard to case, over REST and git, and answers with the
// canonical spelling.
func TestRepositoryNamesAnyCase(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	for _, spelling := range [][2]string{{"ACME", "INFRA"}, {"Acme", "Infra"}} {
		r, _, err := f.client.Repositories.Get(f.ctx, spelling[0], spelling[1])
		if err != nil {
			t.Fatalf("get %s/%s: %v", spelling[0], spelling[1], err)
		}
		if r.GetFullName() != testRepo {
			t.Errorf("get %s/%s: full_name %q, want %s", spelling[0], spelling[1], r.GetFullName(), testRepo)
		}
		is, _, err := f.client.Issues.Create(f.ctx, spelling[0], spelling[1], &github.IssueRequest{Title: github.String("any case")})
		if err != nil {
			t.Fatalf("create issue in %s/%s: %v", spelling[0], spelling[1], err)
		}
		if !strings.HasSuffix(is.GetRepositoryURL(), "/repos/"+testRepo) {
			t.Errorf("issue repository_url %q, want the canonical name", is.GetRepositoryURL())
		}
		refs := remoteRefs(t, f, spelling[0]+"/"+spelling[1])
		if refs["refs/heads/main"] == "" {
			t.Errorf("git over %s/%s: refs %v", spelling[0], spelling[1], refs)
		}
	}
	// A push over another spelling lands in the repository, and the
	// webhooks name it canonically.
	f.sink.reset()
	auth := &githttp.BasicAuth{Username: "x-access-token", Password: f.token(t)}
	local, err := git.CloneContext(f.ctx, memory.NewStorage(), nil, &git.CloneOptions{URL: f.gh.CloneURL("ACME/Infra"), Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	head, err := local.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.PushContext(f.ctx, &git.PushOptions{Auth: auth, RefSpecs: []config.RefSpec{config.RefSpec(head.Hash().String() + ":refs/heads/copy")}}); err != nil {
		t.Fatalf("push over ACME/Infra: %v", err)
	}
	f.idle(t)
	for _, rec := range f.sink.received() {
		var p struct {
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if err := json.Unmarshal(rec.Payload, &p); err != nil || p.Repository.FullName != testRepo {
			t.Errorf("%s payload names %q, want %s", rec.Event, p.Repository.FullName, testRepo)
		}
	}
	if len(f.sink.received()) == 0 {
		t.Error("no webhook for the push")
	}
}
