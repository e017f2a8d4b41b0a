package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/request"
)

// OutcomeDrift is what SyncIssue did with a drift issue: it answered the
// revert and adopt commands written there.
const OutcomeDrift Outcome = "drift"

// Drift is what the bot asks of the rollout about drift issues, such as a
// *rollout.Rollout.
type Drift interface {
	// DriftTarget names the target whose drift issue in repository repo
	// has title, with the environments the target applies; false when no
	// target of repo has such an issue.
	DriftTarget(repo, title string) (target string, environments []string, ok bool)
	// RevertLine is the hidden line that records a revert of object
	// (Kind/namespace/name, "" for the whole target) asked on target's
	// drift issue, for the leader to carry out.
	RevertLine(target, object string) string
}

// Reverts hands a revert recorded on a drift issue to the replica that
// applies, such as the rollout itself (one replica) or a relay that
// signals the leader; the record on the issue is what counts, the signal
// only makes it prompt.
type Reverts interface {
	KickRevert(ctx context.Context, repo string)
}

// syncDrift answers the commands written on a target's drift issue: each
// comment with /provision lines once, under its reply marker. A revert is
// recorded in the reply for the leader (see Drift.RevertLine); an adopt
// opens a pull request; whoever may not request in every environment of
// the target gets one refusal, whatever they wrote and however often.
func (b *Bot) syncDrift(ctx context.Context, w *work, issue *github.Issue, tr Trigger, known map[string]string) (Outcome, error) {
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "issue", issue.Number)
	target, envs, ok := b.opts.Drift.DriftTarget(w.full, issue.Title)
	if !ok {
		return OutcomeIgnored, nil
	}
	cs, err := w.gh.ListComments(ctx, w.owner, w.name, issue.Number)
	if err != nil {
		return "", fmt.Errorf("list comments of #%d: %w", issue.Number, err)
	}
	thread := &github.Thread{Number: issue.Number, Comments: cs}
	answered := map[string]bool{}
	for _, c := range cs {
		if b.isOwn(c.User) {
			for _, line := range strings.Split(c.Body, "\n") {
				if m, ok := strings.CutPrefix(strings.TrimSpace(line), "<!-- gitvend:"); ok {
					answered[strings.TrimSuffix(m, " -->")] = true
				}
			}
		}
	}
	perms := map[string]string{}
	for k, v := range known {
		perms[k] = v
	}
	reverted := false
	for _, c := range cs {
		marker := fmt.Sprintf("reply-%d", c.ID)
		if b.isOwn(c.User) || answered[marker] || !request.HasCommand(c.Body) {
			continue
		}
		p := admission.Person{Login: c.User, Association: c.AuthorAssociation}
		if !admission.Stranger(w.cfg, p.Association) {
			perm, ok := perms[c.User]
			if !ok {
				if perm, err = b.permission(ctx, w, c.User); err != nil {
					return "", err
				}
				perms[c.User] = perm
			}
			p.Permission = perm
		}
		refusal, err := b.admitDrift(ctx, w, target, envs, p)
		if err != nil {
			return "", err
		}
		if refusal != nil {
			log.Info("drift command refused", "user", c.User, "target", target)
			if err := b.refuseOnce(ctx, w, issue.Number, refusal); err != nil {
				return "", err
			}
			continue
		}
		if tr.CommentID == c.ID {
			if err := w.gh.ReactToComment(ctx, w.owner, w.name, c.ID, "eyes"); err != nil {
				return "", fmt.Errorf("react to comment: %w", err)
			}
		}
		body, revert := b.driftReply(ctx, w, issue, target, c)
		if err := b.say(ctx, w, thread, issue.Number, marker, body); err != nil {
			return "", fmt.Errorf("reply on #%d: %w", issue.Number, err)
		}
		b.metrics.replies.Inc()
		reverted = reverted || revert
	}
	if reverted && b.opts.Reverts != nil {
		b.opts.Reverts.KickRevert(ctx, w.full)
	}
	return OutcomeDrift, nil
}

// admitDrift asks GitHub the team memberships admission needs, one at a
// time, and returns p's refusal, or nil when p may revert or adopt the
// drift of target.
func (b *Bot) admitDrift(ctx context.Context, w *work, target string, envs []string, p admission.Person) (*admission.Refusal, error) {
	for {
		q, ask, r := admission.Drift(w.cfg, target, envs, p)
		if !ask {
			return r, nil
		}
		member, err := w.gh.IsTeamMember(ctx, w.owner, q.Team, q.User)
		if err != nil {
			return nil, fmt.Errorf("team %s membership of %s: %w", q.Team, q.User, err)
		}
		if p.Teams == nil {
			p.Teams = map[string]bool{}
		}
		p.Teams[q.Team] = member
	}
}

// driftReply is the answer to comment c on the drift issue of target, and
// whether it records a revert.
func (b *Bot) driftReply(ctx context.Context, w *work, issue *github.Issue, target string, c github.Comment) (string, bool) {
	usage := request.Usage(request.DriftIssue)
	cmds, errs := request.ParseCommands(c.Body)
	v := vocabulary(w)
	for _, cmd := range cmds {
		switch cmd.Verb {
		case request.Revert, request.Adopt, request.Help:
			errs = append(errs, v.Check(cmd, request.DriftIssue, "")...)
		default:
			errs = append(errs, fmt.Errorf("line %d: %s does not apply on a drift issue; only revert, adopt and help do", cmd.Line, request.Code(cmd.String())))
		}
	}
	if len(errs) > 0 {
		return replyData{User: c.User, Errors: replyErrors(errs), Usage: usage}.render(), false
	}
	if issue.State != "open" {
		return fmt.Sprintf("@%s, the drift on target %s is gone: the cluster matches Git again, so there is nothing to revert or adopt.", c.User, target), false
	}
	var lines []string
	revert := false
	for _, cmd := range cmds {
		what := "target " + target
		if cmd.Object != "" {
			what = cmd.Object + " on target " + target
		}
		switch cmd.Verb {
		case request.Help:
			lines = append(lines, usage)
		case request.Revert:
			revert = true
			lines = append(lines, fmt.Sprintf("@%s asked to revert %s: gitvend applies Git to it now, and says here when it did.\n%s",
				c.User, what, b.opts.Drift.RevertLine(target, cmd.Object)))
		case request.Adopt:
			lines = append(lines, b.adopt(ctx, w, issue, target, cmd.Object, c.User))
		}
	}
	return strings.Join(lines, "\n\n"), revert
}
