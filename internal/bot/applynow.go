package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// An apply at once during a change window is asked on the merged pull
// request with /provision apply-now reason="…". gitvend records it as its
// own commit status cluster.ApplyNow on the merge commit, naming who asked
// and why, which the rollout reads before it holds that commit: the record
// is on GitHub, found by whichever replica leads, and a push signal brings
// it to the rollout at once. The reply on the pull request and the log
// say the same.

// applyNowIn returns the apply-now command text holds, if any.
func applyNowIn(text string) (request.Command, bool) {
	cmds, _ := request.ParseCommands(text)
	for _, c := range cmds {
		if c.Verb == request.ApplyNow {
			return c, true
		}
	}
	return request.Command{}, false
}

// applyNowMarker is the marker of the reply to the comment that asked.
func applyNowMarker(tr Trigger) string {
	if tr.ReviewID != 0 {
		return fmt.Sprintf("apply-now-review-%d", tr.ReviewID)
	}
	return fmt.Sprintf("apply-now-%d", tr.CommentID)
}

// applyNow records the apply at once of merged pull request number, asked
// by login (whom the gate let through: login may request in the
// repository) for reason. login must also belong to the teams of every
// environment of the repository that has change windows (its own or its
// targets') and restricts its requesters; anyone else is refused once.
func (b *Bot) applyNow(ctx context.Context, w *work, number int, login, marker, reason string) error {
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "pr", number, "user", login)
	answer := func(body string) error { return b.say(ctx, w, nil, number, marker, body) }
	pr, err := w.gh.GetPR(ctx, w.owner, w.name, number)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", number, err)
	}
	if !pr.Merged || pr.Base != w.branch || pr.MergeCommitSHA == "" {
		return answer("Nothing to apply now: this pull request is not merged into the desired-state branch. A change window holds only merged changes.")
	}
	var windowed []string
	for _, env := range w.cfg.Environments {
		if !b.windowed(w, env) {
			continue
		}
		windowed = append(windowed, env.Name)
		if len(env.Teams) == 0 {
			continue
		}
		member, err := b.memberOfAny(ctx, w, login, env.Teams)
		if err != nil {
			return err
		}
		if !member {
			r := &admission.Refusal{User: login, Reason: fmt.Sprintf("only members of %s may apply at once during a change window of %s.",
				strings.Join(env.Teams, ", "), env.Name)}
			log.Info("apply-now refused", "reason", r.Reason)
			return b.refuseOnce(ctx, w, number, r)
		}
	}
	if len(windowed) == 0 {
		return answer("Nothing to apply now: no environment of this repository has change windows, so nothing is held.")
	}
	waiting, err := b.applyNowApprovals(ctx, w, pr)
	if err != nil {
		return err
	}
	if waiting != "" {
		log.Info("apply-now waits for approvals", "waiting", waiting)
		return answer(waiting)
	}
	desc := textbudget.Line("apply-now by @"+login+": "+reason, textbudget.Chars(github.MaxStatusDescription))
	if err := w.gh.SetStatus(ctx, w.owner, w.name, pr.MergeCommitSHA, cluster.ApplyNow, "success", desc, b.opts.Links.PullRequest(w.full, number)); err != nil {
		return fmt.Errorf("record apply-now on %.12s: %w", pr.MergeCommitSHA, err)
	}
	log.Info("apply-now recorded", "merge", pr.MergeCommitSHA, "reason", reason)
	if b.opts.Reverts != nil {
		b.opts.Reverts.KickRevert(ctx, w.full)
	}
	return answer(fmt.Sprintf("Applying `%.7s` now at the request of @%s, although a change window may hold %s. Reason: %s. "+
		"Recorded in the `%s` status of the merge commit; the `gitvend/apply/<target>` statuses show the apply. "+
		"Only the newest merge is applied: a later merge is held again.",
		pr.MergeCommitSHA, login, strings.Join(windowed, ", "), request.Code(reason), cluster.ApplyNow))
}

// windowed tells whether environment env of the repository has change
// windows: its own in gitvend.yaml, or those the server configuration's
// targets serving it declare.
func (b *Bot) windowed(w *work, env config.Environment) bool {
	return len(env.Windows) > 0 || (b.opts.Windows != nil && len(b.opts.Windows.TargetWindows(w.full, env.Name)) > 0)
}

// applyNowApprovals tells what an apply at once of merged pull request pr
// still waits for ("" for nothing): in every environment with change
// windows that needs approvals (config.Approvals), as many distinct
// members of its approval teams as a merge needs must each have asked
// /provision apply-now on the pull request, in a comment or a review,
// none of them an author of the change (see authorsOf) nor a bot, each
// one who may request in the environment. The asking is the approval:
// the override of a window needs the same eyes as the change.
func (b *Bot) applyNowApprovals(ctx context.Context, w *work, pr github.PullRequest) (string, error) {
	var envs []config.Environment
	for _, env := range w.cfg.Environments {
		if b.windowed(w, env) && env.NeedsApproval() {
			envs = append(envs, env)
		}
	}
	if len(envs) == 0 {
		return "", nil
	}
	authors, err := b.authorsOf(ctx, w, pr)
	if err != nil {
		return "", err
	}
	askers, err := b.applyNowAskers(ctx, w, pr, authors)
	if err != nil {
		return "", err
	}
	var waiting []string
	for _, env := range envs {
		var eligible []string
		for _, login := range askers {
			ok, err := b.mayApplyNow(ctx, w, env, login)
			if err != nil {
				return "", err
			}
			if ok {
				eligible = append(eligible, login)
			}
		}
		tallies, err := b.tally(ctx, w, []config.Environment{env}, eligible)
		if err != nil {
			return "", err
		}
		if a := tallies[0]; !a.Met() {
			waiting = append(waiting, "- "+a.Line()+"; "+mayStillApprove(a, authors))
		}
	}
	if len(waiting) == 0 {
		return "", nil
	}
	return fmt.Sprintf("Not applied yet: applying at once in an environment that needs approvals needs the same approvals, "+
		"each given by asking `/provision apply-now reason=\"…\"` on this pull request.\n\n%s\n", strings.Join(waiting, "\n")), nil
}

// mayStillApprove says who may still approve a's environment: no author
// of the change, nobody counted already.
func mayStillApprove(a admission.Approval, authors []string) string {
	var not []string
	for _, l := range authors {
		not = append(not, "@"+l)
	}
	for _, l := range a.Approved {
		not = append(not, "@"+l)
	}
	return fmt.Sprintf("any other member of %s may still approve (not %s, nor a bot)", strings.Join(a.Rule.Teams, ", "), strings.Join(not, ", "))
}

// applyNowAskers are the distinct people, in order, who asked
// /provision apply-now on pull request pr in a comment or a review: not
// an author of its change (authors), not a bot.
func (b *Bot) applyNowAskers(ctx context.Context, w *work, pr github.PullRequest, authors []string) ([]string, error) {
	cs, err := w.gh.ListComments(ctx, w.owner, w.name, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("list comments of #%d: %w", pr.Number, err)
	}
	rs, err := w.gh.ListReviews(ctx, w.owner, w.name, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("list reviews of #%d: %w", pr.Number, err)
	}
	var out []string
	add := func(login, text string, bot bool) {
		if _, ok := applyNowIn(text); !ok || bot || b.isOwn(login) || strings.HasSuffix(login, "[bot]") {
			return
		}
		for _, have := range append(authors, out...) {
			if strings.EqualFold(have, login) {
				return
			}
		}
		out = append(out, login)
	}
	for _, c := range cs {
		add(c.User, c.Body, false)
	}
	for _, r := range rs {
		add(r.User, r.Body, r.Bot)
	}
	return out, nil
}

// mayApplyNow tells whether login may ask for an apply at once in env:
// they may request in the repository and belong to a team env admits.
func (b *Bot) mayApplyNow(ctx context.Context, w *work, env config.Environment, login string) (bool, error) {
	perm, err := b.permission(ctx, w, login)
	if err != nil {
		return false, err
	}
	if admission.Authorize(w.cfg, admission.Person{Login: login, Permission: perm}) != nil {
		return false, nil
	}
	if len(env.Teams) == 0 {
		return true, nil
	}
	return b.memberOfAny(ctx, w, login, env.Teams)
}
