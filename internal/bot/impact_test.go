package bot_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/policy"
)

// TestMain lets the test binary serve as the policy sandbox, as gitvend's
// main does: the impact run evaluates a pull request's policies in it.
func TestMain(m *testing.M) {
	policy.SandboxMain()
	os.Exit(m.Run())
}

// impactPolicy reads a test policy of internal/check's impact test data.
func impactPolicy(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "check", "testdata", "impact", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// openRulesPR pushes a branch of the repository as alice and opens a pull
// request from it; it returns the head commit and the pull request.
func (h *harness) openRulesPR(branch string, files map[string]string, del ...string) (string, int) {
	h.t.Helper()
	ctx := context.Background()
	sha, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "alice", Branch: branch, Message: "Change the rules", Files: files, Delete: del})
	if err != nil {
		h.t.Fatal(err)
	}
	n, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "alice", Head: branch, Title: "Change the rules"})
	if err != nil {
		h.t.Fatal(err)
	}
	h.settle()
	return sha, n
}

// annotated tells whether run has an annotation of level whose title holds
// title, at path.
func annotated(run githubtest.CheckRun, level, title, path string) bool {
	for _, a := range run.Annotations {
		if a.Level == level && strings.Contains(a.Title, title) && a.Path == path {
			return true
		}
	}
	return false
}

// TestImpactRunOnPolicyPullRequests: through the GitHub double, a pull
// request with a stricter policy gets a failing gitvend/impact run naming
// the existing objects it newly denies; one that drops a policy gets a
// neutral run naming what it stops denying; a broken Rego file fails the
// run at its file and line; a pull request that changes no rules gets no
// impact run at all.
func TestImpactRunOnPolicyPullRequests(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// The base denies CronJobs.
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "alice", Branch: "main", Message: "Deny CronJobs",
		Files: map[string]string{"policies/no_cronjobs.rego": impactPolicy(t, "no_cronjobs.rego")}}); err != nil {
		t.Fatal(err)
	}
	h.settle()

	t.Run("stricter", func(t *testing.T) {
		sha, n := h.openRulesPR("stricter", map[string]string{"policies/cost_center.rego": impactPolicy(t, "cost_center.rego")})
		runs := h.checkRuns(sha)
		run, ok := runs[bot.CheckImpact]
		if !ok {
			t.Fatalf("no impact run: %v", runs)
		}
		if run.Conclusion != "failure" || !strings.Contains(run.Title, "4 newly denied") {
			t.Errorf("impact run %s: %q", run.Conclusion, run.Title)
		}
		if !annotated(run, "failure", "newly denied: cost-center", "requests/prod/team-payments/payments-api/deployment-payments-api.yaml") {
			t.Errorf("no annotation on the prod Deployment: %+v", run.Annotations)
		}
		if !strings.Contains(run.Summary, "#### Environment `prod`") || !strings.Contains(run.Summary, "`Deployment payments-api has no cost-center label`") {
			t.Errorf("summary:\n%s", run.Summary)
		}
		// The policy run still judges the head with the base's rules: the
		// base's no-cronjobs, not the head's cost-center.
		policyRun := runs[bot.CheckPolicy]
		if !annotated(policyRun, "failure", "no-cronjobs", "requests/dev/team-search/nightly-reindex/cronjob-nightly-reindex.yaml") ||
			annotated(policyRun, "failure", "cost-center", "requests/prod/team-payments/payments-api/deployment-payments-api.yaml") {
			t.Errorf("policy run annotations %+v", policyRun.Annotations)
		}
		// A restarted bot, remembering nothing, finds the runs posted and
		// posts none again (checkRuns fails on a run posted twice).
		o := h.opts
		o.Registerer = prometheus.NewRegistry()
		restarted, err := bot.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := restarted.CheckPR(ctx, repo, bot.PRHead{Number: n}, false); err != nil {
			t.Fatal(err)
		}
		if again := h.checkRuns(sha)[bot.CheckImpact]; again.ID != run.ID {
			t.Errorf("the impact run was posted again after a restart")
		}
	})
	t.Run("stopped before the impact run completed", func(t *testing.T) {
		// A bot stopped after completing gitvend/policy and gitvend/cost
		// but not gitvend/impact: after a restart the impact run left in
		// progress is completed, and nothing is posted twice.
		// Its own message: the same files, parent, author and message as
		// the stricter branch's, pushed within the same second, would be
		// the same commit, already checked.
		sha, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "alice", Branch: "stopped", Message: "Change the rules, then stop",
			Files: map[string]string{"policies/cost_center.rego": impactPolicy(t, "cost_center.rego")}})
		if err != nil {
			t.Fatal(err)
		}
		h.settle()
		gh, err := h.opts.Clients.ForRepo(ctx, "acme", "infra")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{bot.CheckPolicy, bot.CheckCost} {
			spec := github.CheckRunSpec{Name: name, HeadSHA: sha, Status: "completed", Conclusion: "success", Title: "checked before the stop", Summary: "-"}
			if _, err := gh.EnsureCheckRuns(ctx, "acme", "infra", []github.CheckRunSpec{spec}, nil); err != nil {
				t.Fatal(err)
			}
		}
		started, err := gh.CreateCheckRun(ctx, "acme", "infra", github.CheckRunSpec{Name: bot.CheckImpact, HeadSHA: sha, Status: "in_progress"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "alice", Head: "stopped", Title: "Change the rules"}); err != nil {
			t.Fatal(err)
		}
		h.settle()
		runs := h.checkRuns(sha)
		if run := runs[bot.CheckImpact]; run.ID != started.ID || run.Status != "completed" || run.Conclusion != "failure" {
			t.Errorf("impact run %d %s/%s, want run %d completed as a failure", run.ID, run.Status, run.Conclusion, started.ID)
		}
		if runs[bot.CheckPolicy].Title != "checked before the stop" {
			t.Errorf("the completed policy run was replaced: %q", runs[bot.CheckPolicy].Title)
		}
	})
	t.Run("relaxed", func(t *testing.T) {
		sha, _ := h.openRulesPR("relaxed", nil, "policies/no_cronjobs.rego")
		run := h.checkRuns(sha)[bot.CheckImpact]
		if run.Conclusion != "neutral" || run.Title != "1 no longer denied" {
			t.Errorf("impact run %s: %q", run.Conclusion, run.Title)
		}
		if !annotated(run, "notice", "no longer denied: no-cronjobs", "requests/dev/team-search/nightly-reindex/cronjob-nightly-reindex.yaml") {
			t.Errorf("no notice on the CronJob: %+v", run.Annotations)
		}
	})
	t.Run("broken", func(t *testing.T) {
		sha, _ := h.openRulesPR("broken", map[string]string{"policies/broken.rego": impactPolicy(t, "broken.rego")})
		run := h.checkRuns(sha)[bot.CheckImpact]
		if run.Conclusion != "failure" || !strings.Contains(run.Title, "the policies cannot be used") {
			t.Errorf("impact run %s: %q", run.Conclusion, run.Title)
		}
		if len(run.Annotations) != 1 || run.Annotations[0].Path != "policies/broken.rego" || run.Annotations[0].StartLine != 8 {
			t.Errorf("annotations %+v, want one at policies/broken.rego:8", run.Annotations)
		}
		if !strings.Contains(run.Summary, "rego_parse_error") {
			t.Errorf("summary:\n%s", run.Summary)
		}
	})
	t.Run("no rules changed", func(t *testing.T) {
		sha, _ := h.openRulesPR("docs", map[string]string{"README.md": "# Infrastructure\n"})
		runs := h.checkRuns(sha)
		if _, ok := runs[bot.CheckImpact]; ok || runs[bot.CheckPolicy].Conclusion == "" {
			t.Errorf("runs of a pull request that changes no rules: %v", runs)
		}
	})
}
