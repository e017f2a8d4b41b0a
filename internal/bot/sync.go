package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/request"
)

// Outcome is what SyncIssue did with a request issue.
type Outcome string

// Outcomes of SyncIssue.
const (
	OutcomeIgnored     Outcome = "ignored"     // not a request issue
	OutcomeRefused     Outcome = "refused"     // asked by someone without permission
	OutcomeInvalid     Outcome = "invalid"     // the request does not render
	OutcomeProposed    Outcome = "proposed"    // a pull request was opened or updated
	OutcomeCurrent     Outcome = "current"     // the pull request already matched
	OutcomeInBranch    Outcome = "in-branch"   // the base branch holds the request as asked
	OutcomeUnconfirmed Outcome = "unconfirmed" // an edit nobody answers for awaits confirmation
)

// SyncIssue brings request issue number of repository full (owner/name)
// to the state it should have: its form and commands folded into a
// request, the request rendered onto branch gitvend/request-<number>, one
// pull request for it with both checks, and a status comment on the issue.
// Woken on a request's pull request, it syncs the request's issue. It is
// safe to call any number of times.
func (b *Bot) SyncIssue(ctx context.Context, full string, number int, tr Trigger) (Outcome, error) {
	unlock := b.onePR.lock(full, number)
	defer func() { unlock() }()
	w, err := b.open(ctx, full)
	if err != nil {
		return "", err
	}
	defer w.cleanup()
	var known map[string]string
	if (tr.CommentID != 0 || tr.ReviewID != 0) && tr.Actor != "" {
		// Whoever commented is judged before anything is read or written.
		r, perms, err := b.gateActor(ctx, w, tr)
		if err != nil {
			return "", err
		}
		if r != nil {
			logctx.LoggerFrom(ctx).Info("command refused", "repo", full, "number", number, "user", r.User)
			b.metrics.requests.WithLabelValues(string(OutcomeRefused)).Inc()
			return OutcomeRefused, b.refuseOnce(ctx, w, number, r)
		}
		known = perms
	}
	got, err := w.gh.GetIssue(ctx, w.owner, w.name, number)
	if err != nil {
		return "", fmt.Errorf("get issue #%d: %w", number, err)
	}
	if got.IsPullRequest && (tr.CommentID != 0 || tr.ReviewID != 0) && tr.Actor != "" && tr.Wrote != nil && confirmsPrune(tr.Wrote.Text) {
		// Whoever the gate let through confirms a prune of this head.
		if err := b.confirmByComment(ctx, w, number, tr.Actor, confirmMarker(tr)); err != nil {
			return "", err
		}
	}
	if got.IsPullRequest && (tr.CommentID != 0 || tr.ReviewID != 0) && tr.Actor != "" && tr.Wrote != nil {
		if cmd, ok := applyNowIn(tr.Wrote.Text); ok {
			// Whoever the gate let through asks to apply a held merge now.
			if err := b.applyNow(ctx, w, number, tr.Actor, applyNowMarker(tr), cmd.Reason()); err != nil {
				return "", err
			}
		}
	}
	if got.IsPullRequest {
		// A command on a request's pull request syncs the request's issue:
		// an issue, never a pull request, so this goes no further.
		n, err := b.requestOf(ctx, w, number)
		if err != nil || n == 0 {
			return OutcomeIgnored, err
		}
		unlock()
		unlock = b.onePR.lock(full, n)
		if got, err = w.gh.GetIssue(ctx, w.owner, w.name, n); err != nil {
			return "", fmt.Errorf("get issue #%d: %w", n, err)
		}
		if got.IsPullRequest {
			return OutcomeIgnored, nil
		}
	}
	if b.isApprovalIssue(&got) {
		return b.syncApproval(ctx, w, &got, tr)
	}
	if b.isDriftIssue(w, &got) {
		return b.syncDrift(ctx, w, &got, tr, known)
	}
	return b.syncIssue(ctx, w, &got, tr, known)
}

// requestOf is the request issue whose pull request is number: the issue
// its head branch names, when the head is a branch of this repository and
// names another number; 0 when none.
func (b *Bot) requestOf(ctx context.Context, w *work, number int) (int, error) {
	pr, err := w.gh.GetPR(ctx, w.owner, w.name, number)
	if err != nil {
		return 0, fmt.Errorf("get pull request #%d: %w", number, err)
	}
	if !strings.EqualFold(pr.HeadRepo, w.full) {
		return 0, nil // a fork's branch (or a deleted fork's) names no request of this repository
	}
	if n := issueOfBranch(pr.Head); n != number {
		return n, nil
	}
	return 0, nil
}

// syncIssue is SyncIssue on an issue read, its request locked: read, fold
// and admit the request, then plan and execute its proposal. known holds
// permissions learned already.
func (b *Bot) syncIssue(ctx context.Context, w *work, issue *github.Issue, tr Trigger, known map[string]string) (Outcome, error) {
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "request", fmt.Sprintf("%s#%d", w.full, issue.Number))
	f, err := b.read(ctx, w, issue, tr, known)
	if err != nil {
		return "", err
	}
	in := b.fold(w, f)
	if err := b.judgeExpiry(ctx, w, f, in); err != nil {
		return "", err
	}
	if err := b.wake(ctx, w, in); err != nil {
		return "", err
	}
	if err := b.acknowledge(ctx, w, in, tr); err != nil {
		return "", err
	}
	if err := b.answer(ctx, w, in); err != nil {
		return "", err
	}
	if issue.State != "open" && in.latest.Before(issue.ClosedAt) && !in.expiring() {
		// A closed request issue only acts on commands written after it
		// closed (or in the same second: GitHub's times are in seconds),
		// such as /provision destroy once its request was applied.
		return OutcomeIgnored, nil
	}
	switch {
	case len(in.unconfirmed) > 0:
		log.Info("request awaits confirmation", "inputs", len(in.unconfirmed))
		return b.finish(ctx, w, in, OutcomeUnconfirmed, unconfirmedStatus(in).render())
	case in.refusal != nil:
		log.Info("request refused", "user", in.refusal.User)
		return b.finish(ctx, w, in, OutcomeRefused, refusalText(in.refusal))
	case in.draft == nil:
		return OutcomeIgnored, nil
	}
	if err := b.ensureLabel(ctx, w, issue); err != nil {
		return "", err
	}
	decision, err := b.admit(ctx, w, in)
	if err != nil {
		return "", err
	}
	if decision.Refusal != nil {
		log.Info("request refused", "user", decision.Refusal.User)
		return b.finish(ctx, w, in, OutcomeRefused, refusalText(decision.Refusal))
	}
	if len(in.problems) > 0 {
		log.Info("request invalid", "problems", len(in.problems))
		return b.finish(ctx, w, in, OutcomeInvalid, invalidStatus(in, w.cat).render())
	}
	req := decision.Request
	origin := fmt.Sprintf("%s#%d", w.full, issue.Number)
	var change *desired.Change
	if in.draft.Destroy {
		change, err = w.base.Withdraw(w.cfg, req, origin)
		if errors.Is(err, desired.ErrNotInBranch) && in.expiring() {
			return OutcomeIgnored, nil // removed already
		}
		if errors.Is(err, desired.ErrNotInBranch) {
			return b.finish(ctx, w, in, OutcomeInvalid, notMergedStatus(req.Metadata.Name, w.branch, in.pr).render())
		}
	} else {
		change, err = w.base.Propose(ctx, w.cfg, w.cat, req, origin)
	}
	if err != nil {
		in.problems = messages(err)
		log.Info("request invalid", "problems", len(in.problems))
		return b.finish(ctx, w, in, OutcomeInvalid, invalidStatus(in, w.cat).render())
	}
	o, err := b.propose(ctx, w, in, req, change)
	if err == nil && in.expiring() {
		err = b.afterExpiry(ctx, w, in)
	}
	if err == nil {
		log.Info("request synced", "outcome", o, "name", req.Metadata.Name, "blueprint", req.Spec.Blueprint)
	}
	return o, err
}

// admit asks GitHub the team memberships admission needs, one at a time,
// and returns admission's decision on the draft. The problems admission
// finds with the draft join in.problems; the error is GitHub's.
func (b *Bot) admit(ctx context.Context, w *work, in *intake) (admission.Decision, error) {
	ai := in.admissionInput(w)
	for q, ok := admission.Next(ai); ok; q, ok = admission.Next(ai) {
		member, err := w.gh.IsTeamMember(ctx, w.owner, q.Team, q.User)
		if err != nil {
			return admission.Decision{}, fmt.Errorf("team %s membership of %s: %w", q.Team, q.User, err)
		}
		ai.Answer(q, member)
	}
	d, err := admission.Admit(ai)
	if err != nil {
		in.problems = append(in.problems, messages(err)...)
	}
	return d, nil
}

// propose commits the change onto the request's branch, opens or updates
// its one pull request, checks it, and tells the issue.
func (b *Bot) propose(ctx context.Context, w *work, in *intake, r *request.Request, c *desired.Change) (Outcome, error) {
	p := planProposal(w, in, r, c, b.opts.Author)
	sha, err := w.clone.Commit(ctx, p.commit)
	if err != nil {
		return "", fmt.Errorf("commit request: %w", err)
	}
	if sha == w.baseSHA {
		return b.finish(ctx, w, in, OutcomeInBranch, inBranchStatus(r.Metadata.Name, w.branch).render())
	}
	fresh := in.pr == nil || in.pr.HeadSHA != sha
	// The push and the checks of the new commit run side by side; the pull
	// request waits for both.
	pushed := make(chan error, 1)
	go func() { pushed <- b.ensureBranch(ctx, w, branchFor(in.issue.Number), sha) }()
	rep, err := b.checkCommit(ctx, w, sha)
	if perr := <-pushed; perr != nil {
		return "", perr
	}
	if err != nil {
		return "", err
	}
	summary, err := b.summary(ctx, w, rep)
	if err != nil {
		return "", err
	}
	rv := planReview(w, in, r, c, p, sha, rep, summary)
	// The plan asks the clusters: only for a commit whose runs this
	// process has not posted (ensureChecks would drop them anyway).
	if !b.wasChecked(w.full + "@" + sha) {
		if rv.runs, err = b.withPlan(ctx, w, sha, false, rv.runs); err != nil {
			return "", err
		}
	}
	pr, did, err := b.onePR.ensure(ctx, w, in.issue.Number, p.title, rv.body, w.branch, in.pr)
	if errors.Is(err, github.ErrNoCommits) {
		// The branch holds the request's commit already: its pull request
		// was merged after this job read the branch (a resync that
		// started before the merge, say).
		return b.finish(ctx, w, in, OutcomeInBranch, inBranchStatus(r.Metadata.Name, w.branch).render())
	}
	if err != nil {
		return "", err
	}
	if did == github.Created {
		b.metrics.prs.Inc()
		if in.threads[pr.Number] == nil {
			in.threads[pr.Number] = &github.Thread{Number: pr.Number} // a new pull request has none
		}
	}
	outcome := OutcomeProposed
	if !fresh && did == github.Unchanged {
		outcome = OutcomeCurrent
	}
	existing, err := b.listChecks(ctx, w, sha, !fresh)
	if err != nil {
		return "", err
	}
	if err := b.ensureChecks(ctx, w, pr.Number, in.threads[pr.Number], sha, rv.runs, rv.summary, existing); err != nil {
		return "", err
	}
	rv.status.PR = pr.Number
	return b.finish(ctx, w, in, outcome, rv.status.render())
}

// messages are the problems err joins, sorted so that a comment lists them
// in the same order whatever order they were found in.
func messages(err error) []string {
	out := field.Messages(err)
	sort.Strings(out)
	return out
}
