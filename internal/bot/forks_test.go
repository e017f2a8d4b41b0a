package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/githubtest"
)

// privilegedPod is a hand-written object the privileged-container policy
// denies.
const privilegedPod = `apiVersion: v1
kind: Pod
metadata:
  name: miner
  namespace: team-search
  labels:
    app.kubernetes.io/name: miner
    gitvend.dev/owner: search
spec:
  containers:
  - name: miner
    image: ghcr.io/acme/miner:1.0.0
    securityContext:
      privileged: true
`

// forkFiles are what a fork's branch changes: a denied object, and the
// fork's own gitvend.yaml and policies/ that would let it pass.
func forkFiles(t *testing.T) map[string]string {
	t.Helper()
	files := exampleFiles(t)
	root := files["environments/dev/kustomization.yaml"]
	cfg := files["gitvend.yaml"]
	lenient := strings.Replace(cfg, "policy:\n  policies:\n", "policy:\n  policies:\n    privileged-container:\n      severity: \"off\"\n", 1)
	if lenient == cfg {
		t.Fatal("the example gitvend.yaml has no policy.policies to loosen")
	}
	return map[string]string{
		"environments/dev/miner.yaml":         privilegedPod,
		"environments/dev/kustomization.yaml": strings.Replace(root, "  - search-config.yaml\n", "  - search-config.yaml\n  - miner.yaml\n", 1),
		"gitvend.yaml":                        lenient + "forks: check\n",
		"policies/privileged_container.rego": "package gitvend.policies.privileged_container\n\n" +
			"metadata := {\"id\": \"privileged-container\", \"severity\": \"warn\", \"title\": \"t\", \"description\": \"d\", \"fix\": \"f\", \"params\": {}}\n\n" +
			"violation := set()\n",
	}
}

// openForkPR forks the repository as mallory, commits files on a branch of
// the fork named like a request's, and opens a pull request from it.
func (h *harness) openForkPR(files map[string]string) (fork string, number int, sha string) {
	h.t.Helper()
	ctx := context.Background()
	fork, err := h.gh.ForkRepo(ctx, repo, "mallory")
	if err != nil {
		h.t.Fatal(err)
	}
	branch := bot.BranchPrefix + "1"
	sha, err = h.gh.Push(ctx, fork, githubtest.PushSpec{User: "mallory", Branch: branch, Message: "Add a miner", Files: files})
	if err != nil {
		h.t.Fatal(err)
	}
	number, err = h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "mallory", Head: "mallory:" + branch, Title: "Add a miner"})
	if err != nil {
		h.t.Fatal(err)
	}
	return fork, number, sha
}

// TestForkPullRequestJudgedByTheBase: a pull request from a fork is
// checked (before, it got no check runs at all, so a required check stayed
// pending), from refs/pull/N/head of the base, with the base's
// configuration and policies: the fork loosening the policy in its own
// gitvend.yaml and overriding it in its own policies/ changes nothing, and
// the policy run fails on the privileged container. When the fork moves,
// its new head is checked too.
func TestForkPullRequestJudgedByTheBase(t *testing.T) {
	h := newHarness(t)
	question, err := h.gh.OpenIssue(context.Background(), repo, githubtest.IssueSpec{User: "bob", Title: "A question", Body: "How do I ask for a namespace?"})
	if err != nil {
		t.Fatal(err)
	}
	fork, n, sha := h.openForkPR(forkFiles(t))
	h.settle()
	runs := h.checkRuns(sha)
	policy := runs[bot.CheckPolicy]
	if policy.Conclusion != "failure" || runs[bot.CheckCost].Conclusion == "" {
		t.Fatalf("check runs on the fork's head: %+v", runs)
	}
	found := false
	for _, a := range policy.Annotations {
		if strings.Contains(a.Title, "privileged-container") && a.Path == "environments/dev/miner.yaml" {
			found = true
		}
	}
	if !found {
		t.Errorf("the policy run does not deny the privileged container: %+v", policy.Annotations)
	}
	if got := h.botComments(n); len(got) != 1 || !strings.Contains(got[0], "privileged") {
		t.Errorf("summary comment: %q", got)
	}
	// The fork's branch is named like the request of issue #1: that issue
	// is left alone.
	if question != 1 {
		t.Fatalf("the question is #%d, want #1", question)
	}
	if got := h.botComments(question); len(got) != 0 {
		t.Errorf("issue #1 got comments: %q", got)
	}

	var next string
	next, err = h.gh.Push(context.Background(), fork, githubtest.PushSpec{User: "mallory", Branch: bot.BranchPrefix + "1", Message: "Drop the miner",
		Delete: []string{"environments/dev/miner.yaml"}, Files: map[string]string{"environments/dev/kustomization.yaml": exampleFiles(t)["environments/dev/kustomization.yaml"]}})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	if runs := h.checkRuns(next); runs[bot.CheckPolicy].Conclusion != "success" {
		t.Errorf("check runs on the fork's new head: %+v", runs)
	}
}

// TestForkPullRequestNeutral: with forks: neutral in the base's
// gitvend.yaml, a fork's pull request gets both check runs neutral, saying
// why; the fork's own gitvend.yaml (forks: check) has no say.
func TestForkPullRequestNeutral(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg := exampleFiles(t)["gitvend.yaml"]
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "alice", Branch: "main", Message: "Forks are not checked",
		Files: map[string]string{"gitvend.yaml": cfg + "forks: neutral\n"}}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	_, n, sha := h.openForkPR(forkFiles(t))
	h.settle()
	runs := h.checkRuns(sha)
	for _, name := range []string{bot.CheckPolicy, bot.CheckCost} {
		r := runs[name]
		if r.Conclusion != "neutral" || !strings.Contains(r.Summary, "forks: neutral") || !strings.Contains(r.Summary, "mallory/infra") {
			t.Errorf("%s = %+v", name, r)
		}
	}
	if got := h.botComments(n); len(got) != 1 || !strings.Contains(got[0], "did not check") {
		t.Errorf("summary comment: %q", got)
	}
	// A resync leaves it as it is.
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if got := len(h.checkRuns(sha)); got != 2 {
		t.Errorf("%d check runs after a resync, want 2", got)
	}
}

// TestForkDeleted: a pull request whose fork was deleted before it was
// checked (its webhook lost) answers head.repo null; resync checks it from
// refs/pull/N/head instead of failing on every pass, and passes again
// without error.
func TestForkDeleted(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.gh.DropWebhooks(1) // the pull_request opened delivery
	fork, _, sha := h.openForkPR(forkFiles(t))
	h.settle()
	if runs := h.checkRuns(sha); len(runs) != 0 {
		t.Fatalf("checked although the webhook was lost: %+v", runs)
	}
	if err := h.gh.DeleteRepo(ctx, fork); err != nil {
		t.Fatal(err)
	}
	for pass := range 2 {
		if err := h.bot.Resync(ctx, repo); err != nil {
			t.Fatalf("resync %d: %v", pass+1, err)
		}
	}
	h.settle()
	runs := h.checkRuns(sha)
	if runs[bot.CheckPolicy].Conclusion != "failure" || runs[bot.CheckCost].Conclusion == "" {
		t.Errorf("check runs of a deleted fork's head: %+v", runs)
	}
}

// TestForkPullRequestProbesNoCluster: a fork's author could name any
// object in a pull request to learn whether it exists on the clusters; the
// check of a fork's head never asks, so its summary names no adoption.
func TestForkPullRequestProbesNoCluster(t *testing.T) {
	a := &adopter{lines: []string{"dev: adopts existing object Secret/team-search/admin-token (left in place when it leaves Git)"}}
	h := newHarness(t, func(o *bot.Options) { o.Adopter = a })
	_, n, sha := h.openForkPR(forkFiles(t))
	h.settle()
	// policy and cost, and impact: the fork changes policies/, which run
	// in the policy sandbox on the base's objects, never on the clusters.
	if runs := h.checkRuns(sha); len(runs) != 3 || runs[bot.CheckImpact].Status != "completed" {
		t.Fatalf("check runs: %+v", runs)
	}
	if got := h.botComments(n); len(got) != 1 || strings.Contains(got[0], "admin-token") {
		t.Errorf("summary of a fork's pull request: %q", got)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.asked) != 0 {
		t.Errorf("the clusters were asked about a fork's head: %q", a.asked)
	}
}
