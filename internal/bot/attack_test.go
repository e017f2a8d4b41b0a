package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/githubtest"
)

// These tests play attacks on gitvend's guardrails through the GitHub
// double, as people would, and check that each fails safely.

// TestAttackPullRequestNamedAfterItself: a writer opens a pull request
// whose head branch is gitvend/request-<its own number>, and another two
// that name each other; commands on them, by a reader and by a writer, end
// promptly with the job ignored instead of going round forever.
func TestAttackPullRequestNamedAfterItself(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// Issue and pull request numbers share one sequence: the first is #1.
	self := h.openPR("carol", bot.BranchPrefix+"1")
	if self != 1 {
		t.Fatalf("pull request #%d, want #1", self)
	}
	a := h.openPR("carol", bot.BranchPrefix+"3")
	b := h.openPR("carol", bot.BranchPrefix+"2")
	h.settle()
	h.gh.ResetCalls()
	for _, n := range []int{self, a, b} {
		h.comment(n, "bob", "/provision help")
		h.comment(n, "alice", "/provision help")
	}
	h.settle()
	if calls := h.gh.Calls(); calls.Total > 40 {
		t.Errorf("six commands cost %d API calls: %v", calls.Total, calls.ByRoute)
	}
	for _, n := range []int{self, a, b} {
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		o, err := h.bot.SyncIssue(tctx, repo, n, bot.Trigger{})
		cancel()
		if err != nil || o != bot.OutcomeIgnored {
			t.Errorf("SyncIssue(#%d) = %q, %v; want ignored", n, o, err)
		}
	}
	if got := h.pulls(); len(got) != 3 {
		t.Errorf("pull requests: %+v", got)
	}
}

// TestAttackOwnerIsAnotherTeam: a member of payments asks for search's
// namespace in prod, naming platform (which may use any namespace) as the
// owner; a writer in no team asks for payments' namespace in dev. Both are
// refused, naming the team; nothing is proposed.
func TestAttackOwnerIsAnotherTeam(t *testing.T) {
	h := newHarness(t)
	steal := form("search-proxy")
	steal["Environment"], steal["Namespace"], steal["Owner"] = "prod", "team-search", "platform"
	n := h.openForm("alice", "web-service", steal)
	m := h.openForm("carol", "web-service", form("orders"))
	h.settle()
	if prs := h.pulls(); len(prs) != 0 {
		t.Fatalf("pull requests opened: %+v", prs)
	}
	if got := h.botComments(n); len(got) != 1 || !strings.Contains(got[0], "Sorry @alice, only members of team platform may make requests it owns.") {
		t.Errorf("alice's request: %q", got)
	}
	if got := h.botComments(m); len(got) != 1 || !strings.Contains(got[0], "Sorry @carol, only members of team payments may make requests it owns.") {
		t.Errorf("carol's request: %q", got)
	}
}

// TestAttackEditBySomeoneElse: a writer in no team edits alice's request
// issue, then her command comment, to environment=prod. Each edit is judged
// as the editor's request and refused; the pull request stays as alice
// asked. Alice's own edit still re-renders. An edit whose webhook is lost
// (nobody to name) is not applied until alice confirms it.
func TestAttackEditBySomeoneElse(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	devRecord := "requests/dev/team-payments/orders.yaml"
	stillDev := func(when string) {
		t.Helper()
		now := h.onePR(n)
		files := h.files(now.Head)
		if _, ok := files[devRecord]; !ok || now.Number != pr.Number {
			t.Errorf("%s: the pull request no longer holds the dev request: %+v", when, now)
		}
		for p := range files {
			if strings.HasPrefix(p, "requests/prod/team-payments/orders") {
				t.Errorf("%s: the pull request holds %s", when, p)
			}
		}
	}
	status := func() string {
		t.Helper()
		for _, c := range h.botComments(n) {
			if strings.Contains(c, "gitvend:status") {
				return c
			}
		}
		return ""
	}

	// The issue, edited by carol.
	body := h.issue(n).Body
	prod := strings.Replace(body, "### Environment\n\ndev", "### Environment\n\nprod", 1)
	if err := h.gh.EditIssueBody(ctx, repo, n, "carol", prod); err != nil {
		t.Fatal(err)
	}
	h.settle()
	stillDev("after carol's edit of the issue")
	if got := status(); !strings.Contains(got, "Sorry @carol, only members of payments, platform may request things in prod.") {
		t.Errorf("status after carol's edit:\n%s", got)
	}
	// A resync changes nothing: the ledger remembers whose the text is.
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	stillDev("after a resync")

	// Alice's own edit counts as hers and re-renders.
	if err := h.gh.EditIssueBody(ctx, repo, n, "alice", strings.Replace(body, "orders:2.1.0", "orders:2.2.0", 1)); err != nil {
		t.Fatal(err)
	}
	h.settle()
	again := h.onePR(n)
	if again.Number != pr.Number || !strings.Contains(h.files(again.Head)["requests/dev/team-payments/orders/deployment-orders.yaml"], "orders:2.2.0") {
		t.Errorf("alice's edit did not re-render: %+v", again)
	}
	if got := status(); !strings.Contains(got, fmt.Sprintf("#%d proposes **orders**", pr.Number)) {
		t.Errorf("status after alice's edit:\n%s", got)
	}

	// A command comment, edited by carol.
	id, err := h.gh.Comment(ctx, repo, n, "alice", "/provision set minReplicas=3")
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := h.gh.EditComment(ctx, repo, id, "carol", "/provision set environment=prod"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	stillDev("after carol's edit of the comment")
	if got := status(); !strings.Contains(got, "Sorry @carol") {
		t.Errorf("status after carol's comment edit:\n%s", got)
	}

	// Carol's edit with its webhook lost: nobody to name, nothing applied.
	if err := h.gh.EditComment(ctx, repo, id, "alice", "/provision set minReplicas=3"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.gh.DropWebhooks(1)
	if err := h.gh.EditIssueBody(ctx, repo, n, "carol", prod); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	stillDev("after an edit nobody named")
	if got := status(); !strings.Contains(got, "the issue changed since gitvend last accepted this request") || !strings.Contains(got, "@alice") ||
		!strings.Contains(got, "/provision rerender") {
		t.Errorf("status after an edit nobody named:\n%s", got)
	}
	replies := len(h.botComments(n))
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if got := len(h.botComments(n)); got != replies {
		t.Errorf("the request for confirmation was repeated: %d bot comments, then %d", replies, got)
	}
	// Alice puts it back herself: hers again, no confirmation needed.
	if err := h.gh.EditIssueBody(ctx, repo, n, "alice", strings.Replace(body, "orders:2.1.0", "orders:2.3.0", 1)); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if got := h.files(h.onePR(n).Head)["requests/dev/team-payments/orders/deployment-orders.yaml"]; !strings.Contains(got, "orders:2.3.0") {
		t.Errorf("alice's edit after the unnamed one did not re-render:\n%s", got)
	}
}

// TestAttackLostEditConfirmed: alice's own edit whose webhook is lost cannot
// be told from anyone else's; it waits until she confirms it with
// /provision rerender, and then renders.
func TestAttackLostEditConfirmed(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	before := h.onePR(n)
	h.gh.DropWebhooks(1)
	if err := h.gh.EditIssueBody(ctx, repo, n, "alice", strings.Replace(h.issue(n).Body, "orders:2.1.0", "orders:2.2.0", 1)); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if h.onePR(n).HeadSHA != before.HeadSHA {
		t.Fatal("an edit nobody named was applied")
	}
	h.comment(n, "alice", "/provision rerender")
	h.settle()
	if got := h.files(h.onePR(n).Head)["requests/dev/team-payments/orders/deployment-orders.yaml"]; !strings.Contains(got, "orders:2.2.0") {
		t.Errorf("the confirmed edit did not render:\n%s", got)
	}
}

// TestAttackCheapAmplification: forty /provision comments from a stranger
// (read access, no association), forty from someone with triage access,
// and forty without a command cost a few API calls, no reaction and at
// most one reply per person.
func TestAttackCheapAmplification(t *testing.T) {
	h := newHarness(t)
	if err := h.gh.SetPermission(repo, "tina", "triage"); err != nil {
		t.Fatal(err)
	}
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	for _, tt := range []struct {
		user, body string
		calls      int
		replies    int
	}{
		{user: "bob", body: "/provision set minReplicas=%d", calls: 2, replies: 1},
		{user: "tina", body: "/provision set minReplicas=%d", calls: 3, replies: 1},
		{user: "bob", body: "+1, me too (%d)", calls: 0, replies: 1}, // the one from before
	} {
		t.Run(tt.user+"/"+tt.body, func(t *testing.T) {
			h.gh.ResetCalls()
			for i := range 40 {
				h.comment(n, tt.user, fmt.Sprintf(tt.body, i))
			}
			h.settle()
			calls := h.gh.Calls()
			t.Logf("40 comments of %s: %d API calls %v", tt.user, calls.Total, calls.ByRoute)
			if calls.Total > tt.calls {
				t.Errorf("40 comments of %s cost %d API calls, want at most %d: %v", tt.user, calls.Total, tt.calls, calls.ByRoute)
			}
			is := h.issue(n)
			replies := 0
			for _, c := range is.Comments {
				if c.User == tt.user && len(c.Reactions) > 0 {
					t.Errorf("comment %d of %s got reactions %+v", c.ID, tt.user, c.Reactions)
				}
				if c.User == h.gh.BotLogin() && strings.Contains(c.Body, "@"+tt.user) {
					replies++
				}
			}
			if replies != tt.replies {
				t.Errorf("%d replies to %s, want %d", replies, tt.user, tt.replies)
			}
		})
	}
	// A stranger's request form gets its one refusal, and no reaction.
	m := h.openForm("bob", "web-service", form("sneaky"))
	h.settle()
	if is := h.issue(m); len(is.Reactions) != 0 {
		t.Errorf("bob's request form got reactions %+v", is.Reactions)
	}
	if got := h.botComments(m); len(got) != 1 || !strings.Contains(got[0], "Sorry @bob") {
		t.Errorf("bob's request form: %q", got)
	}
	// A full sync later keeps the one reply per person.
	if err := h.bot.Resync(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	for _, user := range []string{"bob", "tina"} {
		replies := 0
		for _, c := range h.botComments(n) {
			if strings.Contains(c, "@"+user) {
				replies++
			}
		}
		if replies != 1 {
			t.Errorf("after a resync, %d replies to %s, want 1", replies, user)
		}
	}
	h.onePR(n)
}

// TestAttackForeignCheckRuns: another App posts runs named gitvend/policy
// and gitvend/cost on a pull request's head before gitvend sees it; gitvend
// still posts its own.
func TestAttackForeignCheckRuns(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sha, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "sneaky", Message: "Notes",
		Files: map[string]string{"notes/sneaky.md": "nothing to see\n"}})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	other := githubtest.App{ID: appID + 1, Slug: "lookalike"}
	for _, name := range []string{bot.CheckPolicy, bot.CheckCost} {
		if _, err := h.gh.CreateCheckRunAs(ctx, repo, other, githubtest.CheckRunSpec{Name: name, HeadSHA: sha, Conclusion: "success", Title: "passed", Summary: "all good"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "sneaky", Title: "Add a pod"}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	runs, err := h.gh.CheckRuns(repo)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]string{}
	for _, r := range runs {
		if r.HeadSHA == sha && r.AppID == appID {
			own[r.Name] = r.Conclusion
		}
	}
	if own[bot.CheckPolicy] == "" || own[bot.CheckCost] == "" {
		t.Errorf("gitvend's own runs on the head: %v (all: %+v)", own, runs)
	}
}

// openPR pushes a branch as user and opens a pull request from it, and
// returns its number.
func (h *harness) openPR(user, branch string) int {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: user, Branch: branch, Files: map[string]string{"notes/" + strings.ReplaceAll(branch, "/", "-") + ".md": "hi\n"}}); err != nil {
		h.t.Fatal(err)
	}
	n, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: user, Head: branch, Title: "Notes on " + branch})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}
