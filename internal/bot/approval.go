package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/approval"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// CheckApproval is the check run that says whether a pull request has the
// approvals the environments it touches need (config.Approvals). It is
// posted on every pull request of a repository where some environment
// needs approvals, and judged again on every review submitted, edited or
// dismissed and on every new head: only approvals of the current head
// count.
const CheckApproval = approval.CheckRun

// CheckApproval judges the approvals of pull request number of repository
// full on its current head and posts the gitvend/approval run there (a
// new run, or the head's run updated when its verdict changed). A
// repository where no environment needs approvals gets no run.
func (b *Bot) CheckApproval(ctx context.Context, full string, number int) error {
	if c, ok := b.canonical(full); ok {
		full = c
	}
	w, err := b.open(ctx, full)
	if err != nil {
		return err
	}
	defer w.cleanup()
	if len(approval.Needing(w.cfg, nil)) == 0 {
		return nil
	}
	pr, err := w.gh.GetPR(ctx, w.owner, w.name, number)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", number, err)
	}
	if pr.State != "open" || pr.Base != w.branch {
		return nil
	}
	h, err := b.fetchHead(ctx, w, pr, prHead{sha: pr.HeadSHA, fork: b.resolveHead(ctx, w, pr).fork})
	if err != nil {
		return err
	}
	dir, cleanup, err := b.export(ctx, w.clone, h.sha, "approval")
	if err != nil {
		return err
	}
	defer cleanup()
	run, err := b.approvalRun(ctx, w, pr, dir)
	if err != nil {
		return err
	}
	return b.postApproval(ctx, w, number, run)
}

// approvalRun judges pull request pr, whose head is checked out in
// headDir, by the rules of the base branch (w.cfg).
func (b *Bot) approvalRun(ctx context.Context, w *work, pr github.PullRequest, headDir string) (github.CheckRunSpec, error) {
	run := github.CheckRunSpec{Name: CheckApproval, HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: "success"}
	base, _, err := approval.Digest(ctx, w.baseDir, nil)
	if err != nil {
		return run, err
	}
	head, _, err := approval.Digest(ctx, headDir, w.cfg.EnvironmentNames())
	if err != nil {
		return run, err
	}
	touched := approval.Touched(w.cfg, base, head)
	if len(touched) == 0 {
		run.Title = "No approvals needed"
		run.Summary = "This pull request changes no environment that needs approvals (" + envList(approval.Needing(w.cfg, nil)) + ")."
		return run, nil
	}
	reviews, err := w.gh.ListReviews(ctx, w.owner, w.name, pr.Number)
	if err != nil {
		return run, fmt.Errorf("list reviews of #%d: %w", pr.Number, err)
	}
	var rs []admission.Review
	for _, r := range reviews {
		rs = append(rs, admission.Review{Login: r.User, Bot: r.Bot || b.isOwn(r.User), State: r.State, CommitID: r.CommitID})
	}
	authors, err := b.authorsOf(ctx, w, pr)
	if err != nil {
		return run, err
	}
	approvers := admission.Approvers(rs, authors, b.opts.Login, pr.HeadSHA)
	tallies, err := b.tally(ctx, w, touched, approvers)
	if err != nil {
		return run, err
	}
	var lines []string
	short := 0
	for _, a := range tallies {
		lines = append(lines, "- "+a.Line())
		if !a.Met() {
			short++
		}
	}
	if short > 0 {
		run.Conclusion = "failure"
		run.Title = fmt.Sprintf("Waiting for approvals: %s", tallies[0].Line())
		if len(tallies) > 1 {
			run.Title = fmt.Sprintf("Waiting for approvals in %d of %d environments", short, len(tallies))
		}
	} else {
		run.Title = "Approved for " + envList(touched)
	}
	run.Title = textbudget.Line(run.Title, textbudget.Chars(github.MaxTitle))
	run.Summary = textbudget.Fit(fmt.Sprintf("This pull request changes %s, which need approvals of the head commit `%.12s`:\n\n%s\n\n"+
		"An approval counts when its reviewer belongs to one of the named teams, is not the pull request's author and is no bot, "+
		"and approved this head: a push makes earlier approvals stale, and a later review requesting changes, or a dismissal, "+
		"withdraws one. A merge without these approvals is not applied until a repository admin confirms it with "+
		"`/provision approve-merge` on the issue gitvend opens.", envList(touched), pr.HeadSHA, strings.Join(lines, "\n")),
		checkOutput, textbudget.Options{})
	return run, nil
}

// authorsOf are the authors of pull request pr's change, whose approval
// never counts: its author and, for a request's pull request (opened by
// gitvend), the author of the request's issue.
func (b *Bot) authorsOf(ctx context.Context, w *work, pr github.PullRequest) ([]string, error) {
	authors := []string{pr.User}
	if n := issueOfBranch(pr.Head); n > 0 && n != pr.Number && strings.EqualFold(pr.HeadRepo, w.full) {
		is, err := w.gh.GetIssue(ctx, w.owner, w.name, n)
		if err != nil {
			return nil, fmt.Errorf("get request issue #%d: %w", n, err)
		}
		authors = append(authors, is.User)
	}
	return authors, nil
}

// tally asks GitHub the team memberships the approvals of each
// environment need, and counts them.
func (b *Bot) tally(ctx context.Context, w *work, envs []config.Environment, logins []string) ([]admission.Approval, error) {
	in := admission.Input{}
	for _, l := range logins {
		in.People = append(in.People, admission.Person{Login: l})
	}
	var out []admission.Approval
	for _, env := range envs {
		for {
			q, ask := admission.ApprovalNext(env, in.People)
			if !ask {
				break
			}
			member, err := w.gh.IsTeamMember(ctx, w.owner, q.Team, q.User)
			if err != nil {
				return nil, fmt.Errorf("team %s membership of %s: %w", q.Team, q.User, err)
			}
			in.Answer(q, member)
		}
		out = append(out, admission.Tally(env, in.People))
	}
	return out, nil
}

// postApproval puts run on its head: created when the head has none of
// gitvend's, updated when its verdict or text changed.
func (b *Bot) postApproval(ctx context.Context, w *work, number int, run github.CheckRunSpec) error {
	run.DetailsURL = b.opts.Links.PullRequest(w.full, number)
	existing, err := w.gh.ListCheckRuns(ctx, w.owner, w.name, run.HeadSHA)
	if err != nil {
		return fmt.Errorf("list check runs: %w", err)
	}
	for _, r := range existing {
		if r.Name != CheckApproval {
			continue
		}
		if r.Status == "completed" && r.Conclusion == run.Conclusion && r.Title == run.Title && r.Summary == run.Summary {
			return nil
		}
		if _, err := w.gh.UpdateCheckRun(ctx, w.owner, w.name, r.ID, run); err != nil {
			return fmt.Errorf("update check run %s: %w", CheckApproval, err)
		}
		logctx.LoggerFrom(ctx).Info("approval judged", "repo", w.full, "pr", number, "head", run.HeadSHA, "conclusion", run.Conclusion)
		return nil
	}
	if _, err := w.gh.CreateCheckRun(ctx, w.owner, w.name, run); err != nil {
		return fmt.Errorf("create check run %s: %w", CheckApproval, err)
	}
	logctx.LoggerFrom(ctx).Info("approval judged", "repo", w.full, "pr", number, "head", run.HeadSHA, "conclusion", run.Conclusion)
	return nil
}

func envList(envs []config.Environment) string {
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// approvalActions are the pull_request_review actions that may change a
// pull request's approvals, and "head" for a new head.
var approvalActions = []string{"submitted", "edited", "dismissed", "head"}

// withApproval runs job (when not nil) and then judges the approvals of
// pull request n again, when action may have changed them.
func (d *Dispatcher) withApproval(repo string, n int, job func(context.Context) error, action string) func(context.Context) error {
	if !slices.Contains(approvalActions, action) {
		return job
	}
	return func(ctx context.Context) error {
		if job != nil {
			if err := job(ctx); err != nil {
				return err
			}
		}
		return d.bot.CheckApproval(ctx, repo, n)
	}
}

// A change that reached the desired-state branch without the approvals
// of its environment is not applied (rollout/approval.go): gitvend opens
// one issue per environment listing the commits, each with its own
// commit status approval.MergeStatus in failure. A repository admin
// confirms them with /provision approve-merge on that issue; the bot
// turns the status of each listed commit that gitvend itself failed to
// success, naming the admin, and signals the rollout, which then applies
// them. Anyone else is refused once.

// isApprovalIssue tells whether issue is gitvend's issue of an
// environment's unapproved changes.
func (b *Bot) isApprovalIssue(issue *github.Issue) bool {
	if !b.isOwn(issue.User) || issue.IsPullRequest || !slices.Contains(issue.Labels, approval.Label) {
		return false
	}
	env, _, ok := approval.ParseMarker(issue.Body)
	return ok && issue.Title == approval.IssueTitle(env)
}

// syncApproval answers the comment tr names on the approval issue.
func (b *Bot) syncApproval(ctx context.Context, w *work, issue *github.Issue, tr Trigger) (Outcome, error) {
	if tr.Wrote == nil || tr.CommentID == 0 || tr.Actor == "" {
		return OutcomeIgnored, nil
	}
	marker := fmt.Sprintf("approve-merge-%d", tr.CommentID)
	reply := func(body string) (Outcome, error) {
		return OutcomeIgnored, b.say(ctx, w, nil, issue.Number, marker, body)
	}
	usage := request.Usage(request.ApprovalIssue)
	cmds, errs := request.ParseCommands(tr.Wrote.Text)
	v := vocabulary(w)
	for _, cmd := range cmds {
		errs = append(errs, v.Check(cmd, request.ApprovalIssue, "")...)
	}
	if len(errs) > 0 {
		return reply(replyData{User: tr.Actor, Errors: replyErrors(errs), Usage: usage}.render())
	}
	asked := false
	for _, cmd := range cmds {
		asked = asked || cmd.Verb == request.ApproveMerge
	}
	if !asked {
		return reply(replyData{Help: true, Usage: usage}.render())
	}
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "issue", issue.Number, "user", tr.Actor)
	perm, err := b.permission(ctx, w, tr.Actor)
	if err != nil {
		return "", err
	}
	if !config.PermissionAtLeast(perm, "admin") {
		r := &admission.Refusal{User: tr.Actor, Reason: "only repository admins may confirm a change that reached the branch without its approvals."}
		log.Info("approve-merge refused", "permission", perm)
		return OutcomeRefused, b.refuseOnce(ctx, w, issue.Number, r)
	}
	if issue.State != "open" {
		return reply("Nothing to confirm: this issue is closed, so no change of its environment waits.")
	}
	env, shas, _ := approval.ParseMarker(issue.Body)
	var confirmed []string
	for _, sha := range shas {
		st, err := w.gh.Status(ctx, w.owner, w.name, sha, approval.MergeStatus)
		if err != nil {
			return "", fmt.Errorf("approve-merge status of %.12s: %w", sha, err)
		}
		if st.State != "failure" && st.State != "success" {
			continue // gitvend refused no such commit: not confirmed
		}
		if st.State == "failure" {
			desc := textbudget.Line("approve-merge by @"+tr.Actor+" on #"+fmt.Sprint(issue.Number), textbudget.Chars(github.MaxStatusDescription))
			if err := w.gh.SetStatus(ctx, w.owner, w.name, sha, approval.MergeStatus, "success", desc, ""); err != nil {
				return "", fmt.Errorf("record approve-merge on %.12s: %w", sha, err)
			}
		}
		confirmed = append(confirmed, fmt.Sprintf("`%.12s`", sha))
	}
	if len(confirmed) == 0 {
		return reply("Nothing to confirm: gitvend holds none of the commits this issue lists.")
	}
	log.Info("approve-merge recorded", "environment", env, "commits", len(confirmed))
	if b.opts.Reverts != nil {
		b.opts.Reverts.KickRevert(ctx, w.full)
	}
	return reply(fmt.Sprintf("Confirmed by @%s: %s of `%s` may be applied now, although %s. "+
		"Recorded in each commit's `%s` status; the `gitvend/apply/<target>` statuses show the apply, and this issue closes once nothing of `%s` waits.",
		tr.Actor, strings.Join(confirmed, ", "), env, plural(len(confirmed), "it lacked its approvals", "they lacked their approvals"), approval.MergeStatus, env))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
