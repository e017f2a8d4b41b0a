package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/github"
)

// The executor makes the branch and GitHub match a plan, one idempotent
// ensure per kind of object: a reaction, the request label, each sticky
// comment (github.Client.EnsureComment), the request's branch (a forced
// push of the planned commit), its pull request (onePRPerRequest.ensure)
// and the check runs of a commit (github.Client.EnsureCheckRuns). Each
// writes only what differs, so a job that runs again, after a lost or
// repeated webhook or a crash, changes nothing that is right already.

// acknowledge reacts to what woke the bot: the comment with the command,
// or the request issue just opened; only when whoever woke it may ask.
func (b *Bot) acknowledge(ctx context.Context, w *work, in *intake, tr Trigger) error {
	issue := in.issue
	switch {
	case tr.CommentID != 0:
		if !in.may(w, tr.Actor) {
			return nil
		}
		if err := w.gh.ReactToComment(ctx, w.owner, w.name, tr.CommentID, "eyes"); err != nil {
			return fmt.Errorf("react to comment: %w", err)
		}
	case tr.Opened && (in.form || hasLabel(issue, w.cfg.Intake.Label)):
		if !in.may(w, issue.User) {
			return nil
		}
		if err := w.gh.ReactToIssue(ctx, w.owner, w.name, issue.Number, "eyes"); err != nil {
			return fmt.Errorf("react to issue: %w", err)
		}
	}
	return nil
}

// ensureLabel gives the request issue the request label, making sure
// first that the repository has gitvend's labels.
func (b *Bot) ensureLabel(ctx context.Context, w *work, issue *github.Issue) error {
	if hasLabel(issue, w.cfg.Intake.Label) {
		return nil
	}
	// GitHub would create a missing label grey and undescribed.
	if err := b.ensureLabels(ctx, w); err != nil {
		return err
	}
	if err := w.gh.AddLabels(ctx, w.owner, w.name, issue.Number, w.cfg.Intake.Label); err != nil {
		return fmt.Errorf("label issue: %w", err)
	}
	return nil
}

// answer keeps the replies the intake planned, each on its comment's
// thread.
func (b *Bot) answer(ctx context.Context, w *work, in *intake) error {
	for _, r := range in.replies {
		if err := b.say(ctx, w, in.threads[r.number], r.number, r.marker, r.body); err != nil {
			return fmt.Errorf("reply on #%d: %w", r.number, err)
		}
		b.metrics.replies.Inc()
	}
	return nil
}

// say keeps the bot's one comment with marker on thread t, what the job
// listed of the thread; a nil t is the thread of number, listed first.
func (b *Bot) say(ctx context.Context, w *work, t *github.Thread, number int, marker, body string) error {
	if t == nil {
		cs, err := w.gh.ListComments(ctx, w.owner, w.name, number)
		if err != nil {
			return fmt.Errorf("list comments of #%d: %w", number, err)
		}
		t = &github.Thread{Number: number, Comments: cs}
	}
	_, err := w.gh.EnsureComment(ctx, w.owner, w.name, t, marker, body)
	return err
}

// ensureBranch points branch at commit sha.
func (b *Bot) ensureBranch(ctx context.Context, w *work, branch, sha string) error {
	if err := w.clone.Push(ctx, sha, branch, true); err != nil {
		return fmt.Errorf("push %s: %w", branch, err)
	}
	return nil
}

// ensureChecks posts the check runs planned for sha, unless this process
// posted them already, and keeps the summary comment on pull request pr,
// whose thread t the job listed (nil when it did not). existing are the
// runs of sha as the job listed them, none for a commit it has just pushed:
// only the runs missing from them are posted.
func (b *Bot) ensureChecks(ctx context.Context, w *work, pr int, t *github.Thread, sha string, runs []github.CheckRunSpec, summary string, existing []github.CheckRun) error {
	key := w.full + "@" + sha
	if !b.wasChecked(key) {
		if err := b.completeRuns(ctx, w, pr, runs, existing); err != nil {
			return err
		}
		b.remember(key)
	}
	summary = fitBody(summary, b.wholeList(w, pr))
	if err := b.say(ctx, w, t, pr, markerSummary, summary); err != nil {
		return fmt.Errorf("summary comment: %w", err)
	}
	return nil
}

// listChecks lists the check runs of sha when they may exist and this
// process did not post them.
func (b *Bot) listChecks(ctx context.Context, w *work, sha string, mayExist bool) ([]github.CheckRun, error) {
	if !mayExist || b.wasChecked(w.full+"@"+sha) {
		return nil, nil
	}
	existing, err := w.gh.ListCheckRuns(ctx, w.owner, w.name, sha)
	if err != nil {
		return nil, fmt.Errorf("list check runs: %w", err)
	}
	return existing, nil
}

// finish keeps the issue's status comment, with the ledger of its inputs
// in a hidden line, and counts the outcome.
func (b *Bot) finish(ctx context.Context, w *work, in *intake, o Outcome, status string) (Outcome, error) {
	status = strings.TrimRight(status, "\n") + "\n\n" + in.ledger.String()
	if err := b.say(ctx, w, in.threads[in.issue.Number], in.issue.Number, markerStatus, status); err != nil {
		return "", fmt.Errorf("status comment: %w", err)
	}
	b.metrics.requests.WithLabelValues(string(o)).Inc()
	if o == OutcomeProposed && in.issue.CreatedAt.Before(b.now()) {
		b.metrics.toPR.Observe(b.now().Sub(in.latest).Seconds())
	}
	return o, nil
}
