package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/server"
)

// Queue runs jobs in the background, one at a time per key.
type Queue interface {
	Add(key, id string, job func(ctx context.Context) error) error
}

// Pushes hears about new commits on a served repository's default branch.
type Pushes interface {
	Pushed(ctx context.Context, repo, branch, sha string)
}

// Dispatcher turns webhooks into bot jobs on a queue. Webhooks are only
// hints: each job reads the current state from GitHub, so a repeated or
// reordered delivery does no harm.
type Dispatcher struct {
	bot    *Bot
	queue  Queue
	pushes Pushes
}

// NewDispatcher returns a Dispatcher that queues b's jobs on q and tells
// pushes (when not nil) about pushes to default branches.
func NewDispatcher(b *Bot, q Queue, pushes Pushes) *Dispatcher {
	return &Dispatcher{bot: b, queue: q, pushes: pushes}
}

// HandleWebhook queues the job a webhook asks for, or ignores it.
func (d *Dispatcher) HandleWebhook(ctx context.Context, hook server.Webhook) error {
	if repos := installed(hook); repos != nil {
		return d.resyncInstalled(repos, hook.DeliveryID)
	}
	repo, served := d.bot.canonical(hook.Repo)
	if !served {
		return nil
	}
	hook.Repo = repo // the configured spelling keys jobs, as resyncs do
	if d.bot.isOwn(hook.Sender) && hook.Event == "issue_comment" {
		return nil // the bot's own comments never trigger it
	}
	if err := d.queueFanout(hook); err != nil {
		return err
	}
	job, kind, key := d.route(hook)
	if job == nil {
		return nil
	}
	// Jobs of one issue or pull request run in order; the bot itself keeps
	// the syncs of one request apart, whichever thread they came from.
	return d.queue.Add(hook.Repo+key, hook.DeliveryID, func(ctx context.Context) error {
		return d.bot.metrics.job(kind, func() error { return job(ctx) })
	})
}

// installed lists the repositories an installation webhook gives the App:
// all of a new installation's, or those added to one; nil for any other
// webhook.
func installed(hook server.Webhook) []*gh.Repository {
	switch ev := hook.Payload.(type) {
	case *gh.InstallationEvent:
		if ev.GetAction() == "created" || ev.GetAction() == "unsuspend" {
			return append([]*gh.Repository{}, ev.Repositories...)
		}
	case *gh.InstallationRepositoriesEvent:
		if ev.GetAction() == "added" {
			return append([]*gh.Repository{}, ev.RepositoriesAdded...)
		}
	}
	return nil
}

// resyncInstalled queues a resync, which first makes sure gitvend's labels
// exist, of every served repository the App was just given.
func (d *Dispatcher) resyncInstalled(repos []*gh.Repository, delivery string) error {
	var errs []error
	for _, r := range repos {
		full, served := d.bot.canonical(r.GetFullName())
		if !served {
			continue
		}
		err := d.queue.Add(full, delivery+"/"+full, func(ctx context.Context) error {
			return d.bot.metrics.job("installed", func() error { return d.bot.Resync(ctx, full) })
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// route picks the job for a webhook, its kind and its queue key suffix.
func (d *Dispatcher) route(hook server.Webhook) (func(context.Context) error, string, string) {
	b, repo := d.bot, hook.Repo
	switch ev := hook.Payload.(type) {
	case *gh.IssuesEvent:
		switch ev.GetAction() {
		case "labeled":
			// An issue opened with labels sends labeled too; opened covers it.
			is := ev.GetIssue()
			if is.GetUpdatedAt().Sub(is.GetCreatedAt().Time) < 5*time.Second {
				return nil, "", ""
			}
			fallthrough
		case "opened", "edited", "reopened":
			is := ev.GetIssue()
			n := is.GetNumber()
			tr := Trigger{Opened: ev.GetAction() == "opened" || ev.GetAction() == "labeled", Actor: hook.Sender}
			if strings.EqualFold(hook.Sender, is.GetUser().GetLogin()) {
				tr.Association = is.GetAuthorAssociation()
			}
			if ch := ev.GetChanges(); ev.GetAction() == "opened" || (ev.GetAction() == "edited" && (ch.GetBody() != nil || ch.GetTitle() != nil)) {
				// The webhook saw the sender leave this title and body.
				tr.Wrote = &Witness{Login: hook.Sender, Text: issueText(is.GetTitle(), is.GetBody())}
			}
			return d.issueJob(repo, n, tr), "issue", fmt.Sprintf("#%d", n)
		case "closed":
			// A drift issue closing settles the adopt pull requests of
			// its drift; other issues close without the bot.
			if is := ev.GetIssue(); b.isOwn(is.GetUser().GetLogin()) && b.opts.Drift != nil {
				return d.issueJob(repo, is.GetNumber(), Trigger{}), "issue", fmt.Sprintf("#%d", is.GetNumber())
			}
		}
	case *gh.IssueCommentEvent:
		if ev.GetAction() != "created" && ev.GetAction() != "edited" {
			return nil, "", ""
		}
		cm := ev.GetComment()
		// A comment without a /provision line costs nothing, unless an edit
		// took one away.
		if !request.HasCommand(cm.GetBody()) && !request.HasCommand(ev.GetChanges().GetBody().GetFrom()) || b.isOwn(cm.GetUser().GetLogin()) {
			return nil, "", ""
		}
		n := ev.GetIssue().GetNumber()
		tr := Trigger{CommentID: cm.GetID(), Actor: hook.Sender, Wrote: &Witness{CommentID: cm.GetID(), Login: hook.Sender, Text: cm.GetBody()}}
		if strings.EqualFold(hook.Sender, cm.GetUser().GetLogin()) {
			tr.Association = cm.GetAuthorAssociation()
		}
		return d.issueJob(repo, n, tr), "issue", fmt.Sprintf("#%d", n)
	case *gh.PullRequestReviewEvent:
		rv := ev.GetReview()
		n := ev.GetPullRequest().GetNumber()
		// A review body is read for commands as a comment is, and costs
		// as little without one; every review may change the approvals.
		if ev.GetAction() != "submitted" && ev.GetAction() != "edited" || !request.HasCommand(rv.GetBody()) || b.isOwn(rv.GetUser().GetLogin()) {
			return d.withApproval(repo, n, nil, ev.GetAction()), "issue", fmt.Sprintf("#%d", n)
		}
		tr := Trigger{ReviewID: rv.GetID(), Actor: hook.Sender, Wrote: &Witness{ReviewID: rv.GetID(), Login: hook.Sender, Text: rv.GetBody()}}
		if strings.EqualFold(hook.Sender, rv.GetUser().GetLogin()) {
			tr.Association = rv.GetAuthorAssociation()
		}
		return d.withApproval(repo, n, d.issueJob(repo, n, tr), ev.GetAction()), "issue", fmt.Sprintf("#%d", n)
	case *gh.PullRequestEvent:
		switch ev.GetAction() {
		case "opened", "synchronize", "reopened", "ready_for_review":
			n := ev.GetPullRequest().GetNumber()
			return d.withApproval(repo, n, d.pullJob(repo, ev.GetPullRequest(), false), "head"), "pull", fmt.Sprintf("#%d", n)
		case "labeled":
			if ev.GetLabel().GetName() == cluster.ConfirmPrune && !b.isOwn(hook.Sender) {
				n, sender := ev.GetPullRequest().GetNumber(), hook.Sender
				return func(ctx context.Context) error { return b.ConfirmByLabel(ctx, repo, n, sender) }, "pull", fmt.Sprintf("#%d", n)
			}
		}
	case *gh.CheckSuiteEvent:
		if a, cs := ev.GetAction(), ev.GetCheckSuite(); cs != nil && (a == "requested" || a == "rerequested") {
			return d.pullsJob(repo, cs.PullRequests, a == "rerequested"), "pull", "@checks"
		}
	case *gh.CheckRunEvent:
		if cr := ev.GetCheckRun(); cr != nil && ev.GetAction() == "rerequested" {
			return d.pullsJob(repo, cr.PullRequests, true), "pull", "@checks"
		}
	case *gh.PushEvent:
		if d.pushes != nil && !ev.GetDeleted() {
			branch := strings.TrimPrefix(ev.GetRef(), "refs/heads/")
			sha := ev.GetAfter()
			return func(ctx context.Context) error { d.pushes.Pushed(ctx, repo, branch, sha); return nil }, "push", "@push"
		}
	}
	return nil, "", ""
}

func (d *Dispatcher) issueJob(repo string, n int, tr Trigger) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := d.bot.SyncIssue(ctx, repo, n, tr)
		return err
	}
}

func (d *Dispatcher) pullJob(repo string, pr *gh.PullRequest, force bool) func(context.Context) error {
	return func(ctx context.Context) error { return d.bot.CheckPR(ctx, repo, headOf(pr), force) }
}

func (d *Dispatcher) pullsJob(repo string, prs []*gh.PullRequest, force bool) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, pr := range prs {
			if err := d.bot.CheckPR(ctx, repo, headOf(pr), force); err != nil {
				return err
			}
		}
		return nil
	}
}

// headOf is what a webhook says of a pull request's head.
func headOf(pr *gh.PullRequest) PRHead {
	return PRHead{Number: pr.GetNumber(), Branch: pr.GetHead().GetRef(), SHA: pr.GetHead().GetSHA()}
}
