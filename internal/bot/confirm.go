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
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/request"
)

// A prune past a target's threshold is confirmed on the pull request, for
// its head commit only: gitvend sets its own commit status
// cluster.ConfirmPrune on the head, which the plan run reads before the
// merge and the rollout after it. A push after the confirmation makes a
// new head that needs a confirmation of its own, so what was judged
// before the merge is what is applied after.

// confirmMarker is the marker of the reply to the comment (or review)
// that woke the job with a confirmation.
func confirmMarker(tr Trigger) string {
	if tr.ReviewID != 0 {
		return fmt.Sprintf("confirm-review-%d", tr.ReviewID)
	}
	return fmt.Sprintf("confirm-%d", tr.CommentID)
}

// confirmsPrune tells whether text holds a /provision confirm-prune line.
func confirmsPrune(text string) bool {
	cmds, _ := request.ParseCommands(text)
	for _, c := range cmds {
		if c.Verb == request.ConfirmPrune {
			return true
		}
	}
	return false
}

// confirmByComment confirms the prune of pull request number's head for
// login, who commented /provision confirm-prune there and whom the gate
// let through (login may request in the repository): login must also be
// allowed to request in every environment of the targets whose plan
// prunes past the threshold. marker is the marker of the reply.
func (b *Bot) confirmByComment(ctx context.Context, w *work, number int, login, marker string) error {
	return b.confirmPrune(ctx, w, number, login, marker, func(plans []*reconcile.Plan) (*admission.Refusal, error) {
		for _, p := range plans {
			for _, name := range p.Environments {
				env, ok := w.cfg.Environment(name)
				if !ok || len(env.Teams) == 0 {
					continue
				}
				member, err := b.memberOfAny(ctx, w, login, env.Teams)
				if err != nil {
					return nil, err
				}
				if !member {
					return &admission.Refusal{User: login, Reason: fmt.Sprintf("only members of %s may confirm a prune in %s.",
						strings.Join(env.Teams, ", "), name)}, nil
				}
			}
		}
		return nil, nil
	})
}

// memberOfAny tells whether login belongs to one of teams.
func (b *Bot) memberOfAny(ctx context.Context, w *work, login string, teams []string) (bool, error) {
	for _, t := range teams {
		member, err := w.gh.IsTeamMember(ctx, w.owner, t, login)
		if err != nil {
			return false, fmt.Errorf("team %s membership of %s: %w", t, login, err)
		}
		if member {
			return true, nil
		}
	}
	return false, nil
}

// ConfirmByLabel confirms the prune of pull request number of repository
// full when login, who added the label cluster.ConfirmPrune, maintains
// the repository (maintain or admin permission). Anyone else's label
// changes nothing and costs one permission read.
func (b *Bot) ConfirmByLabel(ctx context.Context, full string, number int, login string) error {
	if c, ok := b.canonical(full); ok {
		full = c
	}
	w, err := b.open(ctx, full)
	if err != nil {
		return err
	}
	defer w.cleanup()
	perm, err := w.gh.Permission(ctx, w.owner, w.name, login)
	if err != nil {
		return fmt.Errorf("permission of %s: %w", login, err)
	}
	if !config.PermissionAtLeast(perm, "maintain") {
		logctx.LoggerFrom(ctx).Info("prune confirmation label ignored: not a maintainer", "repo", full, "pr", number, "user", login, "permission", perm)
		return nil
	}
	return b.confirmPrune(ctx, w, number, login, "", func([]*reconcile.Plan) (*admission.Refusal, error) { return nil, nil })
}

// confirmPrune plans the head of pull request number and, when some
// target's plan prunes past its threshold and allowed finds no refusal,
// sets the confirmation on the head and posts the plan run again, now
// passing. marker, when set, is the reply to the comment that asked.
func (b *Bot) confirmPrune(ctx context.Context, w *work, number int, login, marker string,
	allowed func([]*reconcile.Plan) (*admission.Refusal, error)) error {
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "pr", number, "user", login)
	answer := func(body string) error {
		if marker == "" {
			return nil
		}
		return b.say(ctx, w, nil, number, marker, body)
	}
	if b.opts.Planner == nil {
		return answer("gitvend does not plan pull requests here, so there is no prune to confirm.")
	}
	pr, err := w.gh.GetPR(ctx, w.owner, w.name, number)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", number, err)
	}
	if pr.State != "open" || pr.Base != w.branch {
		return answer("Nothing to confirm: this pull request is not open against the desired-state branch.")
	}
	if h := b.resolveHead(ctx, w, pr); h.fork {
		return answer("Nothing to confirm: a pull request from a fork is not planned against the clusters.")
	}
	dir, cleanup, err := b.export(ctx, w.clone, pr.HeadSHA, "confirm")
	if err != nil {
		return err
	}
	defer cleanup()
	plans := b.opts.Planner.Plan(ctx, w.full, b.baseCheckout(ctx, w), reconcile.Checkout{Dir: dir, Stamps: b.stamps(ctx, w, pr.HeadSHA)})
	var past []*reconcile.Plan
	for _, p := range plans {
		if p.PruneExceeded != "" {
			past = append(past, p)
		}
	}
	short := pr.HeadSHA
	if len(short) > 7 {
		short = short[:7]
	}
	if len(past) == 0 {
		return answer(fmt.Sprintf("Nothing to confirm: on `%s`, no target's plan prunes past its threshold.", short))
	}
	refusal, err := allowed(past)
	if err != nil {
		return err
	}
	if refusal != nil {
		log.Info("prune confirmation refused", "reason", refusal.Reason)
		return b.refuseOnce(ctx, w, number, refusal)
	}
	desc := "confirmed by @" + login
	if err := w.gh.SetStatus(ctx, w.owner, w.name, pr.HeadSHA, cluster.ConfirmPrune, "success", desc, b.opts.Links.PullRequest(w.full, number)); err != nil {
		return fmt.Errorf("set the prune confirmation on %.12s: %w", pr.HeadSHA, err)
	}
	log.Info("prune confirmed", "head", pr.HeadSHA, "targets", len(past))
	st := github.Status{State: "success", Description: desc}
	if err := b.postPlanRun(ctx, w, number, planRun(pr.HeadSHA, plans, &st)); err != nil {
		return err
	}
	return answer(fmt.Sprintf("Prune confirmed by @%s for `%s`, the head of this pull request: once merged, gitvend prunes what its plan lists. "+
		"A new push needs a new confirmation.", login, short))
}

// postPlanRun completes or replaces the plan run of run.HeadSHA with run.
func (b *Bot) postPlanRun(ctx context.Context, w *work, number int, run github.CheckRunSpec) error {
	existing, err := w.gh.ListCheckRuns(ctx, w.owner, w.name, run.HeadSHA)
	if err != nil {
		return fmt.Errorf("list check runs: %w", err)
	}
	run.DetailsURL = b.opts.Links.PullRequest(w.full, number)
	for _, r := range existing {
		if r.Name == CheckPlan {
			if _, err := w.gh.UpdateCheckRun(ctx, w.owner, w.name, r.ID, run); err != nil {
				return fmt.Errorf("update check run %s: %w", CheckPlan, err)
			}
			return nil
		}
	}
	if _, err := w.gh.CreateCheckRun(ctx, w.owner, w.name, run); err != nil {
		return fmt.Errorf("create check run %s: %w", CheckPlan, err)
	}
	return nil
}
