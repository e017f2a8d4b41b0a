package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/githubtest"
)

// countingKicks counts the push signals the bot sends.
type countingKicks struct{ n atomic.Int32 }

func (k *countingKicks) KickRevert(context.Context, string) { k.n.Add(1) }

// applyNowStatuses are the apply-now statuses on sha, as "state: description".
func (h *harness) applyNowStatuses(sha string) []string {
	h.t.Helper()
	all, err := h.gh.Statuses(repo)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, st := range all {
		if st.SHA == sha && st.Context == cluster.ApplyNow {
			out = append(out, st.State+": "+st.Description+" by "+st.Creator)
		}
	}
	return out
}

// TestApplyNowOnlyByThoseWhoMayRequest: /provision apply-now on a merged
// pull request records the override on its merge commit, with who asked
// and why, and signals the rollout, when its writer belongs to the teams
// of the environments with change windows (alice, team payments); a
// writer outside them (carol) and a reader (bob) are refused once each and
// record nothing; before the merge there is nothing to apply.
func TestApplyNowOnlyByThoseWhoMayRequest(t *testing.T) {
	kicks := &countingKicks{}
	h := newHarness(t, func(o *bot.Options) { o.Reverts = kicks })
	ctx := context.Background()
	cfg := h.files("main")["gitvend.yaml"]
	if !strings.Contains(cfg, "- name: dev\n") {
		t.Fatal("the example's gitvend.yaml defines no dev environment")
	}
	cfg = strings.Replace(cfg, "- name: dev\n", "- name: dev\n  teams: [payments]\n  windows:\n"+
		"  - {name: freeze, kind: deny, schedule: \"0 18 * * FRI\", duration: 60h}\n", 1)
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "Freeze dev on weekends",
		Files: map[string]string{"gitvend.yaml": cfg}}); err != nil {
		t.Fatal(err)
	}
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	// The reason is hostile: it quotes the summary comment's marker, so
	// that a reply echoing it could pass for that comment.
	const ask = `/provision apply-now reason="the checkout fix <!-- gitvend:summary --> cannot wait"`

	h.comment(pr.Number, "alice", ask)
	h.settle()
	if got := h.commentsWith(pr.Number, "Nothing to apply now: this pull request is not merged"); len(got) != 1 {
		t.Errorf("apply-now before the merge: %q", h.botComments(pr.Number))
	}
	merge, err := h.gh.MergePullRequest(ctx, repo, pr.Number, "carol")
	if err != nil {
		t.Fatal(err)
	}
	h.settle()

	h.comment(pr.Number, "carol", ask)
	h.comment(pr.Number, "bob", ask)
	h.settle()
	if got := h.applyNowStatuses(merge); len(got) != 0 || kicks.n.Load() != 0 {
		t.Fatalf("apply-now recorded for people who may not: %q, %d signals", got, kicks.n.Load())
	}
	comments := strings.Join(h.botComments(pr.Number), "\n---\n")
	for _, want := range []string{"Sorry @carol, only members of payments may apply at once during a change window of dev.", "Sorry @bob"} {
		if strings.Count(comments, want) != 1 {
			t.Errorf("want one refusal %q in:\n%s", want, comments)
		}
	}

	h.comment(pr.Number, "alice", ask)
	h.settle()
	got := h.applyNowStatuses(merge)
	if len(got) != 1 || got[0] != "success: apply-now by @alice: the checkout fix <!-- gitvend:summary --> cannot wait by "+h.gh.BotLogin() {
		t.Errorf("apply-now statuses on the merge commit: %q", got)
	}
	if kicks.n.Load() != 1 {
		t.Errorf("%d push signals, want 1", kicks.n.Load())
	}
	if r := h.commentsWith(pr.Number, "at the request of @alice"); len(r) != 1 || !strings.Contains(r[0], "`the checkout fix <!-\u200b- gitvend:summary --> cannot wait`") {
		t.Errorf("the reply does not record who and why: %q", r)
	}
	if s := h.commentsWith(pr.Number, "<!-- gitvend:summary -->"); len(s) != 1 {
		t.Errorf("%d comments carry the summary's marker, want 1", len(s))
	}
}

// TestApplyNowNeedsTheApprovals: in dev, which has a change window and
// needs two approvals of team platform, /provision apply-now on a merged
// pull request is an approval: nothing is recorded until two members of
// platform other than the pull request's author have each asked. The
// author's ask and the ask of a requester outside platform do not count,
// a reader is refused, and each reply says how many of two and who may
// still approve.
func TestApplyNowNeedsTheApprovals(t *testing.T) {
	kicks := &countingKicks{}
	h := newHarness(t, func(o *bot.Options) { o.Reverts = kicks })
	ctx := context.Background()
	for _, u := range []string{"dana", "erin"} {
		if err := h.gh.SetPermission(repo, u, "write"); err != nil {
			t.Fatal(err)
		}
	}
	h.gh.SetTeamMembers("acme", "platform", "carol", "dana", "erin")
	cfg := h.files("main")["gitvend.yaml"]
	cfg = strings.Replace(cfg, "- name: dev\n", "- name: dev\n  teams: [payments, platform]\n  approvals: {teams: [platform], count: 2}\n  windows:\n"+
		"  - {name: freeze, kind: deny, schedule: \"0 18 * * FRI\", duration: 60h}\n", 1)
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "dev: freeze and approvals",
		Files: map[string]string{"gitvend.yaml": cfg}}); err != nil {
		t.Fatal(err)
	}
	const search = "environments/dev/search-config.yaml"
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "shards", Message: "4 shards",
		Files: map[string]string{search: strings.Replace(h.files("main")[search], `"3"`, `"4"`, 1)}}); err != nil {
		t.Fatal(err)
	}
	pr, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "shards", Title: "4 shards"})
	if err != nil {
		t.Fatal(err)
	}
	merge, err := h.gh.MergePullRequest(ctx, repo, pr, "carol")
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	const ask = `/provision apply-now reason="search falls over at three shards"`
	const rule = "dev: %s approvals from members of platform%s; any other member of platform may still approve (not @carol%s, nor a bot)"
	for _, step := range []struct{ who, want string }{
		{"carol", fmt.Sprintf(rule, "0 of 2", "; 2 more needed", "")},
		{"alice", fmt.Sprintf(rule, "0 of 2", "; 2 more needed; not counted, outside those teams: @alice", "")},
		{"dana", fmt.Sprintf(rule, "1 of 2", " (@dana); 1 more needed; not counted, outside those teams: @alice", ", @dana")},
	} {
		h.comment(pr, step.who, ask)
		h.settle()
		if got := h.commentsWith(pr, step.want); len(got) != 1 {
			t.Errorf("after %s asked, want one reply saying %q in:\n%s", step.who, step.want, strings.Join(h.botComments(pr), "\n---\n"))
		}
		if got := h.applyNowStatuses(merge); len(got) != 0 || kicks.n.Load() != 0 {
			t.Fatalf("apply-now recorded after %s asked: %q, %d signals", step.who, got, kicks.n.Load())
		}
	}
	h.comment(pr, "bob", ask)
	h.settle()
	if got := h.commentsWith(pr, "Sorry @bob"); len(got) != 1 || len(h.applyNowStatuses(merge)) != 0 {
		t.Errorf("a reader's apply-now: %q", h.botComments(pr))
	}

	h.comment(pr, "erin", ask)
	h.settle()
	got := h.applyNowStatuses(merge)
	if len(got) != 1 || got[0] != "success: apply-now by @erin: search falls over at three shards by "+h.gh.BotLogin() {
		t.Errorf("apply-now statuses once two members asked: %q", got)
	}
	if kicks.n.Load() != 1 {
		t.Errorf("%d push signals, want 1", kicks.n.Load())
	}
}

// serverWindows are the windows the server configuration's targets put on
// environments, by environment name.
type serverWindows map[string][]config.Windows

func (s serverWindows) TargetWindows(_, environment string) []config.Windows { return s[environment] }

// TestApplyNowUnderTheServersWindows: where only the server
// configuration's target declares a window, apply-now is still the way
// through, with the environment's teams asked as for gitvend.yaml's.
func TestApplyNowUnderTheServersWindows(t *testing.T) {
	kicks := &countingKicks{}
	freeze := config.Windows{{Name: "platform-freeze", Kind: config.WindowDeny, Schedule: "0 18 * * FRI", Duration: "60h"}}
	h := newHarness(t, func(o *bot.Options) { o.Reverts = kicks; o.Windows = serverWindows{"dev": {freeze}} })
	ctx := context.Background()
	cfg := strings.Replace(h.files("main")["gitvend.yaml"], "- name: dev\n", "- name: dev\n  teams: [payments]\n", 1)
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "dev is payments'",
		Files: map[string]string{"gitvend.yaml": cfg}}); err != nil {
		t.Fatal(err)
	}
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	merge, err := h.gh.MergePullRequest(ctx, repo, pr.Number, "carol")
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	const ask = `/provision apply-now reason="the platform freeze must not hold this fix"`
	h.comment(pr.Number, "carol", ask)
	h.settle()
	if got := h.commentsWith(pr.Number, "Sorry @carol, only members of payments may apply at once during a change window of dev."); len(got) != 1 {
		t.Errorf("carol's apply-now: %q", h.botComments(pr.Number))
	}
	h.comment(pr.Number, "alice", ask)
	h.settle()
	if got := h.applyNowStatuses(merge); len(got) != 1 || kicks.n.Load() != 1 {
		t.Errorf("apply-now under the server's window: statuses %q, %d signals; want one of each", got, kicks.n.Load())
	}
}
