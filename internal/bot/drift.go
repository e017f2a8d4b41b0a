package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
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
	// LiveDrift compares target's cluster with dir, a checkout of the
	// desired state, and returns the drifted objects with their live
	// values (hidden ones hidden). It writes nothing.
	LiveDrift(ctx context.Context, target, dir string) ([]desired.LiveObject, error)
}

// Reverts hands a revert recorded on a drift issue to the replica that
// applies, such as the rollout itself (one replica) or a relay that
// signals the leader; the record on the issue is what counts, the signal
// only makes it prompt.
type Reverts interface {
	KickRevert(ctx context.Context, repo string)
}

// isDriftIssue tells whether issue is a target's drift issue: opened by
// the App, with the title the rollout gives the drift issue of a target
// of the job's repository.
func (b *Bot) isDriftIssue(w *work, issue *github.Issue) bool {
	if b.opts.Drift == nil || !b.isOwn(issue.User) || issue.IsPullRequest {
		return false
	}
	_, _, ok := b.opts.Drift.DriftTarget(w.full, issue.Title)
	return ok
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
	if issue.State != "open" {
		if err := b.settleAdoptions(ctx, w, nil, issue); err != nil {
			return "", err
		}
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
			errs = append(errs, &field.Error{Line: cmd.Line, Field: cmd.String(), Msg: "only revert, adopt and help apply on a drift issue"})
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
			lines = append(lines, b.adopt(ctx, w, issue, target, cmd.Object, c))
		}
	}
	return fitBody(strings.Join(lines, "\n\n"), "the drift issue"), revert
}

// AdoptBranchPrefix starts the branch of every adopt pull request:
// gitvend/adopt-<drift issue>-<comment>.
const AdoptBranchPrefix = "gitvend/adopt-"

// adopt opens (or brings up to date) the pull request that writes the
// live values of object ("" for every drifted object) of target back to
// Git, and says so; or says why nothing can be adopted. Its failures are
// said too: the reply is the only answer the command gets.
func (b *Bot) adopt(ctx context.Context, w *work, issue *github.Issue, target, object string, c github.Comment) string {
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "issue", issue.Number, "target", target)
	what := "target " + target
	if object != "" {
		what = object + " on target " + target
	}
	fail := func(err error) string {
		log.Warn("adopt failed", "err", err)
		return fmt.Sprintf("@%s, gitvend could not adopt %s: %v. Try again with the same command in a new comment.", c.User, what, err)
	}
	_, envs, _ := b.opts.Drift.DriftTarget(w.full, issue.Title)
	live, err := b.opts.Drift.LiveDrift(ctx, target, w.baseDir)
	if err != nil {
		return fail(err)
	}
	if object != "" {
		var one []desired.LiveObject
		for _, o := range live {
			if (request.ObjectRef{Kind: o.ID.Kind, Namespace: o.ID.Namespace, Name: o.ID.Name}).String() == object {
				one = append(one, o)
			}
		}
		if len(one) == 0 {
			return fmt.Sprintf("@%s, %s matches Git: there is nothing to adopt.", c.User, what)
		}
		live = one
	}
	if len(live) == 0 {
		return fmt.Sprintf("@%s, target %s matches Git: there is nothing to adopt.", c.User, target)
	}
	a, err := desired.Adopt(ctx, w.baseDir, w.cfg, w.cat, envs, live)
	if err != nil {
		return fail(err)
	}
	if len(a.Adopted) == 0 {
		return fmt.Sprintf("@%s, nothing of %s can be adopted:\n\n%s", c.User, what, bullets(a.Refused))
	}
	files := map[string][]byte{}
	for _, f := range a.Files {
		files[f.Path] = f.Data
	}
	sha, err := w.clone.Commit(ctx, gitrepo.CommitSpec{Parent: w.baseSHA, Files: files, Delete: a.Delete, Author: b.opts.Author,
		Message: fmt.Sprintf("Adopt the live values of %s\n\nAsked by @%s in #%d.", what, c.User, issue.Number)})
	if err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	branch := fmt.Sprintf("%s%d-%d", AdoptBranchPrefix, issue.Number, c.ID)
	if err := b.ensureBranch(ctx, w, branch, sha); err != nil {
		return fail(err)
	}
	open, err := w.gh.ListPRsByHead(ctx, w.owner, w.name, branch)
	if err != nil {
		return fail(err)
	}
	var current *github.PullRequest
	for i := range open {
		if open[i].State == "open" {
			current = &open[i]
		}
	}
	body := adoptBody(issue.Number, what, c.User, a)
	pr, _, err := w.gh.EnsurePR(ctx, w.owner, w.name, github.NewPR{Title: "Adopt the live values of " + what, Body: body, Head: branch, Base: w.branch}, current)
	if err != nil {
		return fail(err)
	}
	log.Info("adopt proposed", "pr", pr.Number, "adopted", len(a.Adopted), "refused", len(a.Refused))
	reply := fmt.Sprintf("@%s, #%d writes the live values of %s back to Git; it is checked like any pull request. Once it is merged and applied, the cluster matches Git and this issue closes.", c.User, pr.Number, what)
	if len(a.Refused) > 0 {
		reply += "\n\nNot adopted:\n\n" + bullets(a.Refused)
	}
	return reply
}

// adoptBody is the body of an adopt pull request: what it writes where,
// with the values a drift issue shows (hidden ones are never adopted),
// and what it leaves out.
func adoptBody(issue int, what, user string, a *desired.Adoption) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Adopts the live values of %s, as @%s asked in #%d: Git is changed to hold what the cluster runs.\n\n", what, user, issue)
	sb.WriteString("### Adopted\n\n" + bullets(a.Adopted) + "\n")
	if len(a.Refused) > 0 {
		sb.WriteString("\n### Not adopted\n\n" + bullets(a.Refused) + "\n")
	}
	sb.WriteString("\nParameters are written into the request, which is rendered again; other fields become a JSON patch named by the environment root's `patches`. If the drift is reverted or heals before this is merged, gitvend closes this pull request.")
	return fitBody(sb.String(), "the drift issue")
}

func bullets(lines []string) string {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString("- " + l + "\n")
	}
	return sb.String()
}

// settleAdoptions closes, with a comment, every open adopt pull request
// whose drift issue is closed: the drift it adopted is gone (healed or
// reverted), and merging it now would change the cluster instead. Only
// branches of this repository count; a fork's branch names nothing.
// prs are the open pull requests when the caller listed them, nil to list
// them here; closed is a drift issue the caller read, nil when none.
func (b *Bot) settleAdoptions(ctx context.Context, w *work, prs []github.PullRequest, closed *github.Issue) error {
	if prs == nil {
		var err error
		if prs, err = w.gh.ListOpenPRs(ctx, w.owner, w.name); err != nil {
			return fmt.Errorf("list open pull requests: %w", err)
		}
	}
	states := map[int]string{}
	if closed != nil {
		states[closed.Number] = closed.State
	}
	for _, pr := range prs {
		n := adoptIssueOf(pr.Head)
		if n == 0 || !strings.EqualFold(pr.HeadRepo, w.full) || !b.isOwn(pr.User) {
			continue
		}
		state, ok := states[n]
		if !ok {
			is, err := w.gh.GetIssue(ctx, w.owner, w.name, n)
			if err != nil {
				return fmt.Errorf("get drift issue #%d: %w", n, err)
			}
			state = is.State
			states[n] = state
		}
		if state == "open" {
			continue
		}
		msg := fmt.Sprintf("The drift this adopts is gone: #%d closed once the cluster matched Git again (the drift healed or was reverted). Merging this now would change the cluster rather than keep a change, so gitvend closes it; reopen it if that change is wanted.", n)
		if err := w.gh.CloseIssue(ctx, w.owner, w.name, pr.Number, msg); err != nil {
			return fmt.Errorf("close adopt pull request #%d: %w", pr.Number, err)
		}
		logctx.LoggerFrom(ctx).Info("adopt pull request closed: its drift is gone", "repo", w.full, "pr", pr.Number, "issue", n)
	}
	return nil
}

// adoptIssueOf is the drift issue an adopt branch names, or 0.
func adoptIssueOf(branch string) int {
	rest, ok := strings.CutPrefix(branch, AdoptBranchPrefix)
	if !ok {
		return 0
	}
	num, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0
	}
	n := 0
	for _, r := range num {
		if r < '0' || r > '9' || n > 1e9 {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	return n
}
