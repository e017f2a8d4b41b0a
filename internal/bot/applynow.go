package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/cluster"
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
// environment of the repository that declares change windows and
// restricts its requesters; anyone else is refused once.
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
		if len(env.Windows) == 0 {
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
		return answer("Nothing to apply now: no environment of this repository declares change windows, so nothing is held.")
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
