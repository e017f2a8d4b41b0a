package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/approval"
	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/rollout"
)

const prodService = "requests/prod/team-payments/payments-api/service-payments-api.yaml"

// requireApprovals has carol push a gitvend.yaml where prod needs count
// approvals of team platform (dana, erin, frank and carol).
func (h *harness) requireApprovals(count string) {
	h.t.Helper()
	cfg := h.files("main")["gitvend.yaml"]
	const prod = "- name: prod\n"
	if !strings.Contains(cfg, prod) {
		h.t.Fatal("the example's gitvend.yaml defines no prod environment")
	}
	cfg = strings.Replace(cfg, prod, prod+"  approvals: {teams: [platform], count: "+count+"}\n", 1)
	h.gh.SetTeamMembers("acme", "platform", "dana", "erin", "frank", "carol")
	if _, err := h.gh.Push(context.Background(), repo, githubtest.PushSpec{User: "carol", Branch: "main",
		Message: "prod needs approvals", Files: map[string]string{"gitvend.yaml": cfg}}); err != nil {
		h.t.Fatal(err)
	}
	h.settle()
}

// changeProd pushes a change of a prod object to branch as carol and
// returns the new head.
func (h *harness) changeProd(branch, label string) string {
	h.t.Helper()
	svc := h.files("main")[prodService]
	svc = strings.Replace(svc, "    gitvend.dev/request: payments-api\n", "    gitvend.dev/request: payments-api\n    note: "+label+"\n", 1)
	sha, err := h.gh.Push(context.Background(), repo, githubtest.PushSpec{User: "carol", Branch: branch, Message: "Label " + label,
		Files: map[string]string{prodService: svc}})
	if err != nil {
		h.t.Fatal(err)
	}
	return sha
}

// approvalRun is the gitvend/approval run on sha, as "conclusion: title".
func (h *harness) approvalRun(sha string) string {
	h.t.Helper()
	r, ok := h.checkRuns(sha)[bot.CheckApproval]
	if !ok {
		return "none"
	}
	return r.Conclusion + ": " + r.Title
}

func (h *harness) review(pr int, login, event string) int64 {
	h.t.Helper()
	id, err := h.gh.SubmitReview(context.Background(), repo, pr, login, event, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// TestApprovalCheck: a pull request changing prod, which needs two
// approvals of team platform, is green only once two members other than
// its author approved its current head; the author cannot approve, a
// reader outside the team does not count, a push makes approvals stale
// and a dismissal withdraws one. A pull request changing no environment
// that needs approvals is green at once.
func TestApprovalCheck(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.requireApprovals("2")

	head := h.changeProd("prod-label", "one")
	pr, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "prod-label", Title: "Label prod's service"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	step := func(what, sha, want string) {
		t.Helper()
		h.settle()
		if got := h.approvalRun(sha); got != want {
			t.Errorf("%s: approval run = %q, want %q", what, got, want)
		}
	}
	step("opened", head, "failure: Waiting for approvals: prod: 0 of 2 approvals from members of platform; 2 more needed")

	if _, err := h.gh.SubmitReview(ctx, repo, pr, "carol", "APPROVE", ""); err == nil {
		t.Error("the author approved her own pull request")
	}
	h.review(pr, "dana", "APPROVE")
	step("dana approved", head, "failure: Waiting for approvals: prod: 1 of 2 approvals from members of platform (@dana); 1 more needed")
	h.review(pr, "bob", "APPROVE")
	step("bob, outside platform, approved", head,
		"failure: Waiting for approvals: prod: 1 of 2 approvals from members of platform (@dana); 1 more needed; not counted, outside those teams: @bob")
	h.review(pr, "erin", "APPROVE")
	step("erin approved", head, "success: Approved for prod")

	// A new head: the approvals of the old one are stale.
	head2 := h.changeProd("prod-label", "two")
	step("pushed", head2, "failure: Waiting for approvals: prod: 0 of 2 approvals from members of platform; 2 more needed")
	h.review(pr, "dana", "APPROVE")
	frank := h.review(pr, "frank", "APPROVE")
	step("dana and frank approved the new head", head2, "success: Approved for prod")
	if err := h.gh.DismissReview(ctx, repo, pr, frank, "alice", "asked too early"); err != nil {
		t.Fatal(err)
	}
	step("frank's dismissed", head2, "failure: Waiting for approvals: prod: 1 of 2 approvals from members of platform (@dana); 1 more needed")
	if _, err := h.gh.SubmitReview(ctx, repo, pr, "erin", "REQUEST_CHANGES", "not this label"); err != nil {
		t.Fatal(err)
	}
	step("erin asks for changes", head2, "failure: Waiting for approvals: prod: 1 of 2 approvals from members of platform (@dana); 1 more needed")
	h.review(pr, "erin", "APPROVE")
	step("erin approved after all", head2, "success: Approved for prod")

	// A change to dev only needs nobody.
	devSHA, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "dev-note", Message: "A note",
		Files: map[string]string{"docs/note.md": "dev only\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "dev-note", Title: "A note"}); err != nil {
		t.Fatal(err)
	}
	step("dev only", devSHA, "success: No approvals needed")
}

// TestApproveMergeOnlyByAdmins: on the issue the rollout opens for prod's
// unapproved change (written here as the App writes it), a writer's
// /provision approve-merge is refused once and a reader is refused by the
// gate, both changing nothing; an admin's turns gitvend's approve-merge
// status of the refused commit to success, naming the admin, signals the
// rollout, and leaves a commit gitvend never refused alone.
func TestApproveMergeOnlyByAdmins(t *testing.T) {
	kicks := &countingKicks{}
	h := newHarness(t, func(o *bot.Options) { o.Reverts = kicks })
	ctx := context.Background()
	h.requireApprovals("1")
	if err := h.gh.SetPermission(repo, "dana", "admin"); err != nil {
		t.Fatal(err)
	}
	refused := h.changeProd("main", "direct")
	other := h.changeProd("main", "other")
	h.settle()
	app, err := h.opts.Clients.ForRepo(ctx, "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.SetStatus(ctx, "acme", "infra", refused, approval.MergeStatus, "failure", "changed prod without approvals", ""); err != nil {
		t.Fatal(err)
	}
	is, err := app.CreateIssue(ctx, "acme", "infra", github.NewIssue{Title: approval.IssueTitle("prod"), Labels: []string{approval.Label},
		Body: "Not applied.\n\n" + approval.Marker("prod", []string{refused, other}) + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	status := func(sha string) string {
		st, err := app.Status(ctx, "acme", "infra", sha, approval.MergeStatus)
		if err != nil {
			t.Fatal(err)
		}
		return st.State + ": " + st.Description
	}

	h.comment(is.Number, "carol", "/provision approve-merge")
	h.comment(is.Number, "bob", "/provision approve-merge")
	h.comment(is.Number, "carol", "/provision approve-merge")
	h.settle()
	if got := status(refused); got != "failure: changed prod without approvals" || kicks.n.Load() != 0 {
		t.Fatalf("approve-merge by people who may not: %q, %d signals", got, kicks.n.Load())
	}
	if got := h.commentsWith(is.Number, "Sorry @carol, only repository admins may confirm"); len(got) != 1 {
		t.Errorf("carol's refusals: %q", h.botComments(is.Number))
	}
	if got := h.commentsWith(is.Number, "Sorry @bob"); len(got) != 1 {
		t.Errorf("bob's refusals: %q", h.botComments(is.Number))
	}

	h.comment(is.Number, "dana", "/provision approve-merge")
	h.settle()
	if got := status(refused); got != fmt.Sprintf("success: approve-merge by @dana on #%d", is.Number) {
		t.Errorf("the refused commit's status after the admin's confirmation: %q", got)
	}
	if got := status(other); got != ": " {
		t.Errorf("a commit gitvend never refused got %q", got)
	}
	if kicks.n.Load() != 1 {
		t.Errorf("%d signals to the rollout, want 1", kicks.n.Load())
	}
	if got := h.commentsWith(is.Number, "Confirmed by @dana: `"+refused[:12]+"` of `prod` may be applied now"); len(got) != 1 {
		t.Errorf("the admin's reply: %q", h.botComments(is.Number))
	}
}

// TestProtectionNotice: the status page says when the desired-state
// branch's protection does not require gitvend/policy and
// gitvend/approval: when gitvend may not read it, when the branch is not
// protected, when the rule requires only one of them; and nothing once
// both are required. A resync reads the rule again once the last reading
// is an hour old, or when the checks wanted changed.
func TestProtectionNotice(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	later := time.Duration(0)
	notice := func(h *harness) string {
		t.Helper()
		later += bot.ProtectionRecheck
		clk.set(later)
		if err := h.bot.Resync(ctx, repo); err != nil {
			t.Fatal(err)
		}
		ps := h.bot.Protections()
		if len(ps) != 1 || ps[0].Repo != repo || ps[0].Branch != "main" {
			t.Fatalf("protections = %+v", ps)
		}
		if ps[0].Unknown {
			return "unknown | " + ps[0].Notice
		}
		return strings.Join(ps[0].Missing, ",") + " | " + ps[0].Notice
	}
	without := newHarness(t, clk.option())
	without.requireApprovals("1")
	if got := notice(without); !strings.HasPrefix(got, "unknown | Cannot tell whether branch main requires gitvend/policy and gitvend/approval: "+
		"the App lacks the administration (read) permission") {
		t.Errorf("without the permission: %q", got)
	}

	// An installation that granted administration (read) from the start.
	h := newFreshHarness(t, clk.option())
	if err := h.gh.SetInstallationPermission("acme", "administration", "read"); err != nil {
		t.Fatal(err)
	}
	if got := notice(h); got != "gitvend/policy | Branch main is not protected: pull requests can merge while gitvend/policy fail. "+
		"Require them in the branch's protection rule." {
		t.Errorf("unprotected, no approvals: %q", got)
	}
	h.requireApprovals("1")
	if got := notice(h); got != "gitvend/policy,gitvend/approval | Branch main is not protected: pull requests can merge while gitvend/policy and gitvend/approval fail. "+
		"Require them in the branch's protection rule. Until then a merge without its approvals still is not applied: it waits for an admin's /provision approve-merge." {
		t.Errorf("unprotected: %q", got)
	}
	if err := h.gh.SetBranchProtection(repo, "main", &githubtest.Protection{RequiredChecks: []string{"gitvend/policy"}}); err != nil {
		t.Fatal(err)
	}
	if got := notice(h); !strings.HasPrefix(got, "gitvend/approval | Branch main does not require gitvend/approval: pull requests can merge while gitvend/approval fail") {
		t.Errorf("only policy required: %q", got)
	}
	if err := h.gh.SetBranchProtection(repo, "main", &githubtest.Protection{RequiredChecks: []string{"gitvend/policy", "gitvend/approval"}}); err != nil {
		t.Fatal(err)
	}
	if got := notice(h); got != " | " {
		t.Errorf("both required: %q", got)
	}

	// Read lately: a resync within the hour asks GitHub nothing.
	h.gh.ResetCalls()
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if n := h.gh.Calls().ByRoute["GET /repos/{owner}/{repo}/branches/{branch}/protection"]; n != 0 {
		t.Errorf("a resync within the hour read the protection %d times", n)
	}
}

// TestApprovalOfARequestNotByItsRequester: gitvend opens a request's pull
// request, but the request is alice's: her approval of it does not count,
// a member of platform's does.
func TestApprovalOfARequestNotByItsRequester(t *testing.T) {
	h := newHarness(t)
	h.requireApprovals("1")
	h.gh.SetTeamMembers("acme", "platform", "alice", "dana")
	form := map[string]string{}
	for k, v := range paymentsForm {
		form[k] = v
	}
	form["Environment"] = "prod"
	n := h.openForm("alice", "web-service", form)
	h.settle()
	pr := h.onePR(n)
	const waiting = "failure: Waiting for approvals: prod: 0 of 1 approvals from members of platform; 1 more needed"
	if got := h.approvalRun(pr.HeadSHA); got != waiting {
		t.Fatalf("the request's pull request: %q, want %q", got, waiting)
	}
	h.review(pr.Number, "alice", "APPROVE")
	h.settle()
	if got := h.approvalRun(pr.HeadSHA); got != waiting {
		t.Errorf("after the requester approved: %q, want %q", got, waiting)
	}
	h.review(pr.Number, "dana", "APPROVE")
	h.settle()
	if got := h.approvalRun(pr.HeadSHA); got != "success: Approved for prod" {
		t.Errorf("after dana approved: %q", got)
	}
}

// TestDirectPushWaitsForApproveMerge: with the bot and the rollout on a
// real apiserver, and dev needing one approval of platform, a commit
// pushed to main directly is not applied: its apply status fails naming
// the reason, and the issue the rollout opens asks for approve-merge. A
// writer's approve-merge is refused once; after a restart of the rollout
// the commit still waits; a repository admin's approve-merge lets it be
// applied, and the issue closes.
func TestDirectPushWaitsForApproveMerge(t *testing.T) {
	w := newDriftWorld(t, func(r *rollout.Rollout) bot.Reverts { return r })
	ctx := context.Background()
	if err := w.gh.SetPermission(repo, "dana", "admin"); err != nil {
		t.Fatal(err)
	}
	cfg := w.files("main")["gitvend.yaml"]
	cfg = strings.Replace(cfg, "- name: dev\n", "- name: dev\n  approvals: {teams: [platform], count: 1}\n", 1)
	cfgSHA, err := w.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "dev needs approvals",
		Files: map[string]string{"gitvend.yaml": cfg}})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	w.r.Kick(repo)
	eventually(t, "the configuration applied", func() bool { return w.applied(cfgSHA) })

	const search = "environments/dev/search-config.yaml"
	direct, err := w.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "5 shards, quickly",
		Files: map[string]string{search: strings.Replace(w.files("main")[search], `"3"`, `"5"`, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	w.r.Kick(repo)
	issue := func() githubtest.Issue {
		all, err := w.gh.Issues(repo)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range all {
			if is.Title == approval.IssueTitle("dev") {
				return is
			}
		}
		return githubtest.Issue{}
	}
	eventually(t, "the issue of the unapproved change", func() bool { return issue().Number != 0 })
	applyStatus := func() string {
		all, err := w.gh.Statuses(repo)
		if err != nil {
			t.Fatal(err)
		}
		last := ""
		for _, st := range all {
			if st.SHA == direct && st.Context == rollout.StatusPrefix+"dev" {
				last = st.State + ": " + st.Description
			}
		}
		return last
	}
	eventually(t, "the refusal on the commit", func() bool {
		return strings.HasPrefix(applyStatus(), "failure: not applied: dev changed by "+direct[:7])
	})
	shards := func() string { return w.live("configmap", "team-search", "search-settings", `{.data.index\.shards}`) }
	if got := shards(); got != "3" {
		t.Fatalf("shards after the direct push: %s, want 3", got)
	}
	number := issue().Number

	w.comment(number, "carol", "/provision approve-merge")
	w.settle()
	if got := w.commentsWith(number, "Sorry @carol, only repository admins may confirm"); len(got) != 1 {
		t.Errorf("carol's refusal: %q", w.botComments(number))
	}

	// A restart: the new rollout finds the commit waiting still.
	w.stop()
	r2, err := rollout.New(w.ropt)
	if err != nil {
		t.Fatal(err)
	}
	w.run(r2)
	r2.Kick(repo)
	time.Sleep(time.Second)
	if got := shards(); got != "3" || w.applied(direct) {
		t.Fatalf("after a restart and a writer's approve-merge: shards %s, applied %v", got, w.applied(direct))
	}

	w.comment(number, "dana", "/provision approve-merge")
	w.settle()
	r2.Kick(repo) // the leader's push signal (the bot's went to the stopped rollout)
	eventually(t, "the confirmed commit applied", func() bool { return w.applied(direct) })
	if got := shards(); got != "5" {
		t.Errorf("shards after approve-merge: %s, want 5", got)
	}
	eventually(t, "the issue closed", func() bool { return issue().State == "closed" })
}
