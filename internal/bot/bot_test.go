package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/githubtest"
)

var paymentsForm = map[string]string{
	"Request name": "orders",
	"Environment":  "dev",
	"Namespace":    "team-payments",
	"Owner":        "payments",
	"Image":        "ghcr.io/acme/orders:2.1.0",
}

// onePR returns the only open pull request of issue n's branch, failing
// when there is none or more than one.
func (h *harness) onePR(n int) githubtest.PullRequest {
	h.t.Helper()
	var found []githubtest.PullRequest
	for _, pr := range h.pulls() {
		if pr.Head == fmt.Sprintf("%s%d", bot.BranchPrefix, n) && pr.State == "open" {
			found = append(found, pr)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("issue #%d has %d pull requests, want 1: %+v", n, len(found), found)
	}
	return found[0]
}

func TestIssueFormToPullRequest(t *testing.T) {
	h := newHarness(t)
	h.gh.ResetCalls()
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()

	pr := h.onePR(n)
	if !strings.Contains(pr.Body, fmt.Sprintf("Closes #%d", n)) || !strings.Contains(pr.Body, "`ghcr.io/acme/orders:2.1.0` | asked") {
		t.Errorf("PR body:\n%s", pr.Body)
	}
	files := h.files(pr.Head)
	for _, p := range []string{
		"requests/dev/team-payments/orders.yaml",
		"requests/dev/team-payments/orders/deployment-orders.yaml",
		"requests/dev/team-payments/orders/kustomization.yaml",
	} {
		if _, ok := files[p]; !ok {
			t.Errorf("branch lacks %s", p)
		}
	}
	if !strings.Contains(files["environments/dev/kustomization.yaml"], "../../requests/dev/team-payments/orders") {
		t.Errorf("environment root does not name the request:\n%s", files["environments/dev/kustomization.yaml"])
	}
	runs := h.checkRuns(pr.HeadSHA)
	if runs[bot.CheckPolicy].Conclusion != "success" || runs[bot.CheckCost].Conclusion != "success" {
		t.Errorf("check runs: %+v", runs)
	}
	if got := h.botComments(pr.Number); len(got) != 1 || !strings.Contains(got[0], "gitvend check passed") {
		t.Errorf("PR comments: %q", got)
	}
	issue := h.issue(n)
	if got := h.botComments(n); len(got) != 1 || !strings.Contains(got[0], fmt.Sprintf("#%d proposes **orders**", pr.Number)) {
		t.Errorf("issue comments: %q", got)
	}
	if len(issue.Reactions) == 0 || issue.Reactions[0].Content != "eyes" {
		t.Errorf("issue reactions: %+v", issue.Reactions)
	}
	calls := h.gh.Calls()
	t.Logf("API calls for one request: %d %v", calls.Total, calls.ByRoute)
	if calls.Total > 15 {
		t.Errorf("%d API calls for one request, want at most 15: %v", calls.Total, calls.ByRoute)
	}

	// /provision set on the PR updates the same PR.
	h.comment(pr.Number, "alice", "Looks good, but more please.\n/provision set minReplicas=3 maxReplicas=6")
	h.settle()
	again := h.onePR(n)
	if again.Number != pr.Number || again.HeadSHA == pr.HeadSHA {
		t.Fatalf("PR after set: %+v (was %+v)", again, pr)
	}
	if !strings.Contains(h.files(again.Head)["requests/dev/team-payments/orders.yaml"], "minReplicas: 3") {
		t.Errorf("record after set:\n%s", h.files(again.Head)["requests/dev/team-payments/orders.yaml"])
	}
	if len(h.checkRuns(again.HeadSHA)) != 2 {
		t.Errorf("check runs on the new head: %+v", h.checkRuns(again.HeadSHA))
	}
	if got := h.botComments(pr.Number); len(got) != 1 {
		t.Errorf("summary comment re-posted: %d comments", len(got))
	}

	// Invalid parameters: an error naming the field; the PR stays.
	h.comment(n, "alice", "/provision set minReplicas=100")
	h.settle()
	status := h.botComments(n)
	if len(status) != 1 || !strings.Contains(status[0], "parameters.minReplicas") || !strings.Contains(status[0], fmt.Sprintf("#%d still holds the last version", pr.Number)) {
		t.Errorf("status after a bad value: %q", status)
	}
	if h.onePR(n).HeadSHA != again.HeadSHA {
		t.Errorf("a bad value changed the PR")
	}

	// Fixed again: back to a PR that matches.
	h.comment(n, "alice", "/provision set minReplicas=2")
	h.settle()
	if got := h.botComments(n); len(got) != 1 || !strings.Contains(got[0], "proposes") {
		t.Errorf("status after the fix: %q", got)
	}

	// The bot's own comments never trigger it.
	before := h.onePR(n).HeadSHA
	h.comment(pr.Number, h.gh.BotLogin(), "/provision set minReplicas=4")
	h.settle()
	if h.onePR(n).HeadSHA != before {
		t.Errorf("the bot acted on its own comment")
	}
}

func TestUnreadableCommandAndHelp(t *testing.T) {
	h := newHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	h.comment(n, "alice", "/provision set minReplicas")
	h.comment(n, "alice", "/provision help")
	h.settle()
	got := strings.Join(h.botComments(n), "\n---\n")
	for _, want := range []string{"`minReplicas` is not key=value", "gitvend commands, one per line"} {
		if !strings.Contains(got, want) {
			t.Errorf("bot comments lack %q:\n%s", want, got)
		}
	}
}

func TestRefusals(t *testing.T) {
	h := newHarness(t)
	// bob may only read the repository.
	n := h.openForm("bob", "web-service", paymentsForm)
	// carol may write, but prod admits only payments and platform.
	prod := form("orders")
	prod["Environment"] = "prod"
	m := h.openForm("carol", "web-service", prod)
	h.settle()
	if prs := h.pulls(); len(prs) != 0 {
		t.Fatalf("pull requests opened: %+v", prs)
	}
	branches, err := h.gh.Branches(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(branches) != 1 {
		t.Errorf("branches: %v", branches)
	}
	if got := h.botComments(n); len(got) != 1 || !strings.Contains(got[0], "Sorry @bob, requests in this repository need write permission") {
		t.Errorf("bob's issue: %q", got)
	}
	if got := h.botComments(m); len(got) != 1 || !strings.Contains(got[0], "only members of payments, platform may request things in prod") {
		t.Errorf("carol's issue: %q", got)
	}
}

func TestRedeliveryAndLostWebhook(t *testing.T) {
	h := newHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	for _, d := range h.gh.Deliveries() {
		if err := h.gh.Redeliver(d.ID); err != nil {
			t.Fatal(err)
		}
	}
	h.settle()
	h.onePR(n)
	if got := h.botComments(n); len(got) != 1 {
		t.Errorf("comments after redelivery: %q", got)
	}

	// A lost webhook is made up by the resync.
	h.gh.DropWebhooks(1)
	m := h.openForm("alice", "web-service", form("invoices"))
	h.settle()
	if prs := h.pulls(); len(prs) != 1 {
		t.Fatalf("the dropped webhook was acted on: %d PRs", len(prs))
	}
	if err := h.bot.Resync(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.onePR(m)
	h.onePR(n)

	// A quiet resync costs no rate limit. (The resync above changed things
	// and so did the jobs it caused; this one catches up with them.)
	if err := h.bot.Resync(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.gh.ResetCalls()
	if err := h.bot.Resync(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	if calls := h.gh.Calls(); calls.RateLimitUsed != 0 {
		t.Errorf("a quiet resync used %d of the rate limit: %v", calls.RateLimitUsed, calls.ByRoute)
	}
}

func TestFaultsManyRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("many requests under faults")
	}
	h := newHarness(t)
	const requests = 50
	h.gh.SetFaults(githubtest.Faults{ErrorRate: 0.1, RateLimitRate: 0.1, RetryAfter: 20 * time.Millisecond, Seed: 7})
	numbers := make([]int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			numbers[i] = h.openForm("alice", "web-service", form(fmt.Sprintf("svc-%02d", i)))
		}()
	}
	wg.Wait()
	h.settle()
	// Jobs that ran out of retries are made up by the resync, as in production.
	deadline := time.Now().Add(2 * time.Minute)
	for len(h.pulls()) < requests && time.Now().Before(deadline) {
		_ = h.bot.Resync(context.Background(), repo)
		h.settle()
	}
	h.gh.SetFaults(githubtest.Faults{})
	for _, n := range numbers {
		h.onePR(n)
		if got := h.botComments(n); len(got) != 1 {
			t.Errorf("issue #%d has %d bot comments", n, len(got))
		}
	}
	for _, pr := range h.pulls() {
		if got := h.botComments(pr.Number); len(got) != 1 {
			t.Errorf("PR #%d has %d bot comments", pr.Number, len(got))
		}
	}
}

func TestIssueEditRerenders(t *testing.T) {
	h := newHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	body := h.issue(n).Body
	edited := strings.Replace(body, "ghcr.io/acme/orders:2.1.0", "ghcr.io/acme/orders:2.2.0", 1)
	if err := h.gh.EditIssueBody(context.Background(), repo, n, "alice", edited); err != nil {
		t.Fatal(err)
	}
	h.settle()
	again := h.onePR(n)
	if again.Number != pr.Number || again.HeadSHA == pr.HeadSHA {
		t.Fatalf("PR after the edit: %+v (was %+v)", again, pr)
	}
	if got := h.files(again.Head)["requests/dev/team-payments/orders/deployment-orders.yaml"]; !strings.Contains(got, "ghcr.io/acme/orders:2.2.0") {
		t.Errorf("rendered Deployment after the edit:\n%s", got)
	}
}

func TestDestroyAfterMerge(t *testing.T) {
	h := newHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	h.comment(h.onePR(n).Number, "alice", "/provision set minReplicas=3")
	h.settle()
	pr := h.onePR(n)
	if _, err := h.gh.MergePullRequest(context.Background(), repo, pr.Number, "carol"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	// The merged request is what the issue and its (now closed) PR asked
	// for: a resync finds nothing to propose.
	if err := h.bot.Resync(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	h.comment(n, "alice", "/provision rerender")
	h.settle()
	for _, p := range h.pulls() {
		if p.State == "open" {
			t.Fatalf("a pull request was opened after the merge: %+v", p)
		}
	}
	if h.issue(n).State != "closed" {
		t.Fatalf("issue #%d still open after the merge", n)
	}
	if _, ok := h.files("main")["requests/dev/team-payments/orders.yaml"]; !ok {
		t.Fatal("the merge did not bring the request")
	}

	// /provision destroy on the closed issue proposes the removal.
	h.comment(n, "alice", "/provision destroy")
	h.settle()
	removal := h.onePR(n)
	if removal.Number == pr.Number || !strings.HasPrefix(removal.Title, "gitvend: remove orders") {
		t.Fatalf("removal PR: %+v", removal)
	}
	files := h.files(removal.Head)
	for p := range files {
		if strings.HasPrefix(p, "requests/dev/team-payments/orders") {
			t.Errorf("the removal keeps %s", p)
		}
	}
	if strings.Contains(files["environments/dev/kustomization.yaml"], "orders") {
		t.Errorf("the environment root still names the request:\n%s", files["environments/dev/kustomization.yaml"])
	}
	if runs := h.checkRuns(removal.HeadSHA); len(runs) != 2 {
		t.Errorf("check runs on the removal: %+v", runs)
	}
	if got := h.botComments(n); !strings.Contains(strings.Join(got, "\n"), fmt.Sprintf("#%d removes **orders**", removal.Number)) {
		t.Errorf("status after destroy: %q", got)
	}

	// Destroying what was never merged says so.
	m := h.openForm("alice", "web-service", form("never"))
	h.settle()
	h.comment(m, "alice", "/provision destroy")
	h.settle()
	if got := strings.Join(h.botComments(m), "\n"); !strings.Contains(got, "nothing to remove") {
		t.Errorf("destroy of an unmerged request: %q", got)
	}
}

func TestProvisionCommandOnAPlainIssue(t *testing.T) {
	h := newHarness(t)
	n, err := h.gh.OpenIssue(context.Background(), repo, githubtest.IssueSpec{User: "alice", Title: "We need a nightly job", Body: "For the ledger export."})
	if err != nil {
		t.Fatal(err)
	}
	h.comment(n, "alice", `Here goes:
/provision scheduled-job name=ledger-export environment=dev namespace=team-payments owner=payments image=ghcr.io/acme/export:1.0.0 schedule="0 3 * * *"`)
	h.settle()
	pr := h.onePR(n)
	if !strings.Contains(h.files(pr.Head)["requests/dev/team-payments/ledger-export.yaml"], "blueprint: scheduled-job") {
		t.Errorf("record:\n%s", h.files(pr.Head)["requests/dev/team-payments/ledger-export.yaml"])
	}
	if is := h.issue(n); !strings.Contains(strings.Join(is.Labels, ","), "gitvend") {
		t.Errorf("the request issue was not labelled: %v", is.Labels)
	}
	if got := h.botComments(n); len(got) != 1 || !strings.Contains(got[0], "proposes **ledger-export**") {
		t.Errorf("status: %q", got)
	}
}
