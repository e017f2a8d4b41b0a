package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// prodDrift is a rollout's answers for a target prod that applies the
// prod environment (teams payments and platform only); it never reaches a
// cluster.
type prodDrift struct{ kicks int }

func (p *prodDrift) DriftTarget(repo, title string) (string, []string, bool) {
	return "prod", []string{"prod"}, repo == "acme/infra" && title == rollout.DriftTitle("prod")
}
func (p *prodDrift) RevertLine(target, object string) string {
	return rollout.RevertLine(target, object)
}
func (p *prodDrift) LiveDrift(context.Context, string, string) ([]desired.LiveObject, error) {
	return nil, nil
}
func (p *prodDrift) KickRevert(context.Context, string) { p.kicks++ }

// TestCommandsOnADriftIssue: a drift issue answers help with revert and
// adopt, refuses request verbs there with why, records a revert of
// someone who may request in every environment of the target (a team
// member for prod), and refuses once a writer outside the environment's
// teams, however often they ask. A revert on another issue gitvend opened
// is answered as before: no command applies there.
func TestCommandsOnADriftIssue(t *testing.T) {
	d := &prodDrift{}
	h := newHarness(t, func(o *bot.Options) { o.Drift, o.Reverts = d, d })
	ctx := context.Background()
	n, err := h.gh.OpenIssue(ctx, repo, githubtest.IssueSpec{User: h.gh.BotLogin(), Title: rollout.DriftTitle("prod"), Body: "drift", Labels: []string{rollout.DriftLabel}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := h.gh.OpenIssue(ctx, repo, githubtest.IssueSpec{User: h.gh.BotLogin(), Title: "Something else", Body: "notice"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.comment(n, "alice", "/provision help")
	h.comment(n, "alice", "/provision set replicas=3")
	h.comment(n, "carol", "/provision revert")
	h.comment(n, "carol", "/provision revert object=Deployment/team-payments/payments-api")
	h.comment(n, "alice", "/provision revert object=Deployment/team-payments/payments-api")
	h.comment(other, "alice", "/provision revert")
	h.settle()

	all := strings.Join(h.botComments(n), "\n----\n")
	for _, want := range []string{
		"`/provision revert` applies Git to the whole target now",
		"only revert, adopt and help apply on a drift issue",
		"@alice asked to revert Deployment/team-payments/payments-api on target prod",
		rollout.RevertLine("prod", "Deployment/team-payments/payments-api"),
		"where only members of payments, platform may request",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the drift issue's replies do not say %q:\n%s", want, all)
		}
	}
	if got := strings.Count(all, "refused-carol"); got != 1 {
		t.Errorf("carol refused %d times, want once", got)
	}
	if strings.Contains(all, "carol asked to revert") || strings.Contains(all, rollout.RevertLine("prod", "")) {
		t.Errorf("carol's revert was recorded:\n%s", all)
	}
	if d.kicks != 1 {
		t.Errorf("reverts handed on %d times, want 1", d.kicks)
	}
	if got := strings.Join(h.botComments(other), "\n"); !strings.Contains(got, "No `/provision` command applies to an issue gitvend opened") {
		t.Errorf("another bot issue's answer:\n%s", got)
	}
}
