package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/approval"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

func newApprovalFixture(t *testing.T, env *kubetest.Env) *sleepFixture {
	t.Helper()
	c := &clock{}
	c.set(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	return newClockFixture(t, env, c, func(files map[string]string) {
		if !strings.Contains(files["gitvend.yaml"], "- name: dev\n") {
			t.Fatal("the example's gitvend.yaml defines no dev environment")
		}
		files["gitvend.yaml"] = strings.Replace(files["gitvend.yaml"], "- name: dev\n",
			"- name: dev\n  approvals: {teams: [platform], count: 1}\n", 1)
	})
}

// app is the App's client of the repository, which posts what the bot
// would: check runs and statuses.
func (f *sleepFixture) app(t *testing.T) *github.Client {
	t.Helper()
	c, err := f.opts.Clients.ForRepo(context.Background(), "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func shardsFile(t *testing.T, n string) map[string]string {
	return map[string]string{"environments/dev/search-config.yaml": strings.Replace(
		exampleFiles(t)["environments/dev/search-config.yaml"], `"3"`, `"`+n+`"`, 1)}
}

// mergeJudged merges a pull request setting dev's shards to n whose head
// carries gitvend/approval with conclusion, and returns the merge commit.
func (f *sleepFixture) mergeJudged(t *testing.T, n, conclusion string) string {
	t.Helper()
	ctx := t.Context()
	branch := "shards-" + n
	head, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: branch, Message: n + " shards", Files: shardsFile(t, n)})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := f.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: branch, Title: n + " shards"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.app(t).CreateCheckRun(ctx, "acme", "infra", github.CheckRunSpec{Name: approval.CheckRun, HeadSHA: head,
		Conclusion: conclusion, Title: "judged", Summary: "judged by the test"}); err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.MergePullRequest(ctx, repo, pr, "bob")
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// approvalIssue is the issue of dev's unapproved changes.
func (f *sleepFixture) approvalIssue(t *testing.T) githubtest.Issue {
	t.Helper()
	return issueTitled(t, f.gh, approval.IssueTitle("dev"))
}

func (f *sleepFixture) mergeStatus(t *testing.T, sha string) string {
	t.Helper()
	st, err := f.app(t).Status(context.Background(), "acme", "infra", sha, approval.MergeStatus)
	if err != nil {
		t.Fatal(err)
	}
	return st.State
}

// TestApprovalRefusesUnapprovedChanges: dev needs one approval. A merge
// whose pull request had gitvend/approval green is applied; a direct push
// and a merge while the check was red are not: the target's status says
// why, each commit gets gitvend/approve-merge failure, one issue lists
// them, and nothing of dev is applied, across a restart too. Once an
// admin's confirmation is recorded on them (as /provision approve-merge
// records it) the head is applied and the issue closed; a later direct
// push that is then reverted is applied without anyone's confirmation.
func TestApprovalRefusesUnapprovedChanges(t *testing.T) {
	env := kubetest.ForTest(t)
	f := newApprovalFixture(t, env)
	ctx := context.Background()
	shards := func() string { return f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`) }

	r, stop := f.run(t)
	first := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, first) == "success" })

	approved := f.mergeJudged(t, "4", "success")
	r.Pushed(ctx, repo, "main", approved)
	waitFor(t, "the approved merge applied", func() bool { return statusOf(t, f.gh, approved) == "success" })
	if got := shards(); got != "4" {
		t.Fatalf("shards after the approved merge: %s, want 4", got)
	}

	direct, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "5 shards, quickly", Files: shardsFile(t, "5")})
	if err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", direct)
	waitFor(t, "the direct push refused", func() bool { return statusOf(t, f.gh, direct) == "failure" })
	red := f.mergeJudged(t, "6", "failure")
	r.Pushed(ctx, repo, "main", red)
	waitFor(t, "the red merge refused", func() bool { return statusOf(t, f.gh, red) == "failure" })
	is := f.approvalIssue(t)
	for _, want := range []string{"`" + direct[:12] + "`: pushed directly, without a pull request",
		"`" + red[:12] + "`: merged from #", "while gitvend/approval on its head was failure", "/provision approve-merge",
		approval.Marker("dev", []string{direct, red})} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("the issue does not say %q:\n%s", want, is.Body)
		}
	}
	want := "failure: not applied: dev changed by " + direct[:7] + " without approvals (pushed directly, without a pull request), see #"
	if got := f.statuses(t, red); count(got, want) != 1 {
		t.Errorf("the refused head's statuses %q, want one %q", got, want)
	}
	if f.mergeStatus(t, direct) != "failure" || f.mergeStatus(t, red) != "failure" {
		t.Errorf("approve-merge statuses: %s, %s; want failure", f.mergeStatus(t, direct), f.mergeStatus(t, red))
	}
	if got := shards(); got != "4" {
		t.Errorf("shards after unapproved changes: %s, want 4", got)
	}

	// A restart: the new process finds the same refusal and one issue.
	stop()
	r, _ = f.run(t)
	r.Kick(repo)
	time.Sleep(time.Second)
	all, err := f.gh.Issues(repo)
	if err != nil {
		t.Fatal(err)
	}
	issues := 0
	for _, x := range all {
		if x.Title == approval.IssueTitle("dev") {
			issues++
		}
	}
	if issues != 1 || statusOf(t, f.gh, red) != "failure" || shards() != "4" {
		t.Errorf("after a restart: %d issues, status %s, shards %s; want 1, failure, 4", issues, statusOf(t, f.gh, red), shards())
	}
	// Waiting, the target is still watched: a hand edit is drift.
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"8"}}`)
	waitFor(t, "drift reported while approvals are awaited", func() bool { return issuesTitled(t, f.gh, "Drift on target dev") == 1 })
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"4"}}`)

	// An admin confirms (the bot records it on each commit the issue lists).
	_, shas, ok := approval.ParseMarker(f.approvalIssue(t).Body)
	if !ok || len(shas) != 2 {
		t.Fatalf("the issue's marker names %v", shas)
	}
	for _, sha := range shas {
		if err := f.app(t).SetStatus(ctx, "acme", "infra", sha, approval.MergeStatus, "success", "approve-merge by @carol", ""); err != nil {
			t.Fatal(err)
		}
	}
	r.Kick(repo)
	waitFor(t, "the confirmed head applied", func() bool { return statusOf(t, f.gh, red) == "success" })
	if got := shards(); got != "6" {
		t.Errorf("shards after approve-merge: %s, want 6", got)
	}
	waitFor(t, "the issue closed", func() bool { return f.approvalIssue(t).State == "closed" })

	// A direct push, reverted by another: the state is the approved one.
	bad, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "7 shards", Files: shardsFile(t, "7")})
	if err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", bad)
	waitFor(t, "the second direct push refused", func() bool { return statusOf(t, f.gh, bad) == "failure" })
	if f.approvalIssue(t).State != "open" {
		t.Error("the issue was not reopened for the second direct push")
	}
	revert, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "Revert \"7 shards\"", Files: shardsFile(t, "6")})
	if err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", revert)
	waitFor(t, "the revert applied", func() bool { return statusOf(t, f.gh, revert) == "success" })
	waitFor(t, "the issue closed again", func() bool { return f.approvalIssue(t).State == "closed" })
	if got := shards(); got != "6" {
		t.Errorf("shards after the revert: %s, want 6", got)
	}
}
