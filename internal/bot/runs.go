package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// checkOutput is the budget of a check run's summary: GitHub counts it in
// characters, and refuses it past as many bytes, so it is held in bytes.
var checkOutput = textbudget.Bytes(github.MaxCheckOutput)

// annotationTitle is GitHub's limit on an annotation's title.
var annotationTitle = textbudget.Chars(255)

// shownRows is how many rows of a long table a text shows before it
// collapses the rest.
const shownRows = 20

// runs builds the two check runs of a report, each carrying its own part
// of the summary under its own verdict: gitvend/policy fails on any
// denial or unreadable input, lists its findings and annotates every one
// at its file and line; gitvend/cost fails past a budget and shows the
// cost table.
func runs(sha string, rep *check.Report) []github.CheckRunSpec {
	deny, warn := count(rep.Violations)
	policyRun := github.CheckRunSpec{Name: CheckPolicy, HeadSHA: sha, Status: "completed", Conclusion: "success"}
	switch {
	case !rep.Passed:
		policyRun.Conclusion = "failure"
		policyRun.Title = fmt.Sprintf("%d denied, %d warnings", deny, warn)
		if len(rep.Errors) > 0 {
			policyRun.Title += fmt.Sprintf(", %d unreadable inputs", len(rep.Errors))
		}
	case warn > 0:
		policyRun.Title = fmt.Sprintf("passed with %d warnings", warn)
	default:
		policyRun.Title = "passed: " + objectCount(rep)
	}
	policyRun.Summary = textbudget.Fit(check.PolicyPart(rep), checkOutput,
		textbudget.Options{Shown: shownRows, Where: "this check run's annotations, or `gitvend check` locally"})
	for _, v := range rep.Violations {
		policyRun.Annotations = append(policyRun.Annotations, annotation(v))
	}
	for _, e := range rep.Errors {
		policyRun.Annotations = append(policyRun.Annotations, github.Annotation{Path: e.File, StartLine: max(e.Line, 1), EndLine: max(e.Line, 1),
			Level: "failure", Title: "unreadable input", Message: e.Message})
	}

	costRun := github.CheckRunSpec{Name: CheckCost, HeadSHA: sha, Status: "completed", Conclusion: "success"}
	cur := rep.Cost.Currency
	costRun.Title = cost.FormatMoney(cur, rep.Cost.Monthly) + "/month"
	if rep.Cost.HasBase {
		costRun.Title += fmt.Sprintf(" (%s)", cost.FormatDelta(cur, rep.Cost.Delta))
	}
	for _, bs := range rep.Budgets {
		if bs.Exceeded {
			costRun.Conclusion = "failure"
			costRun.Title += fmt.Sprintf(", over the %s budget of %s", bs.Scope, bs.Name)
		}
	}
	costRun.Title = textbudget.Line(costRun.Title, textbudget.Chars(github.MaxTitle))
	costRun.Summary = textbudget.Fit(check.CostPart(rep), checkOutput,
		textbudget.Options{Shown: shownRows, Where: "`gitvend check --format json` locally"})
	return []github.CheckRunSpec{policyRun, costRun}
}

// objectCount says what a report's objects are, in a few words.
func objectCount(rep *check.Report) string {
	if c := rep.Change; c != nil {
		return fmt.Sprintf("%d added, %d changed, %d removed", c.Added, c.Changed, c.Removed)
	}
	return fmt.Sprintf("%d objects", rep.Objects)
}

// stamp heads a summary with the commit it describes: its short id,
// linked to the commit on GitHub when the repository's address is known.
func stamp(summary, sha, repoURL string) string {
	short := sha
	if len(short) > 7 {
		short = short[:7]
	}
	commit := "`" + short + "`"
	if repoURL != "" {
		commit = fmt.Sprintf("[`%s`](%s/commit/%s)", short, repoURL, sha)
	}
	return fmt.Sprintf("<sub>Checked %s, the head of this pull request.</sub>\n\n%s", commit, summary)
}

// repoURL is the address of a repository on GitHub, read from the address
// of one of its issues or pull requests; "" when it does not look like one.
func repoURL(htmlURL string) string {
	for _, sep := range []string{"/pull/", "/issues/"} {
		if i := strings.LastIndex(htmlURL, sep); i > 0 {
			return htmlURL[:i]
		}
	}
	return ""
}

func annotation(v policy.Violation) github.Annotation {
	level := "failure"
	if v.Severity != "deny" {
		level = "warning"
	}
	line := max(v.Line, 1)
	path := v.File
	if path == "" {
		path = "gitvend.yaml" // findings about no single file, such as budgets
	}
	title := v.Policy
	if v.Kind != "" {
		title = fmt.Sprintf("%s: %s", v.Policy, v.ID)
	}
	return github.Annotation{Path: path, StartLine: line, EndLine: line, Level: level,
		Title: textbudget.Line(title, annotationTitle), Message: v.Message}
}

func count(vs []policy.Violation) (deny, warn int) {
	for _, v := range vs {
		if v.Severity == "deny" {
			deny++
		} else {
			warn++
		}
	}
	return deny, warn
}

// completeRuns posts runs, each linked to the view of pull request pr:
// a run existing has in progress (started when the check began) is
// completed with its result; the others are ensured (created when
// missing, left alone when completed already).
func (b *Bot) completeRuns(ctx context.Context, w *work, pr int, runs []github.CheckRunSpec, existing []github.CheckRun) error {
	started := map[string]int64{}
	for _, r := range existing {
		if r.Status != "completed" {
			started[r.Name+"\x00"+r.HeadSHA] = r.ID
		}
	}
	var rest []github.CheckRunSpec
	for _, run := range runs {
		run.DetailsURL = b.opts.Links.PullRequest(w.full, pr)
		id, ok := started[run.Name+"\x00"+run.HeadSHA]
		if !ok {
			rest = append(rest, run)
			continue
		}
		if _, err := w.gh.UpdateCheckRun(ctx, w.owner, w.name, id, run); err != nil {
			return fmt.Errorf("complete check run %s: %w", run.Name, err)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	_, err := w.gh.EnsureCheckRuns(ctx, w.owner, w.name, rest, existing)
	return err
}

// wholeList says where a reader of pull request pr's summary finds what
// the summary leaves out.
func (b *Bot) wholeList(w *work, pr int) string {
	where := "the `gitvend/policy` check run's annotations, or `gitvend check` locally"
	if u := b.opts.Links.PullRequest(w.full, pr); u != "" {
		where = fmt.Sprintf("[gitvend's page of this pull request](%s), the `gitvend/policy` check run's annotations, or `gitvend check` locally", u)
	}
	return where
}

// PullRequestView reads what gitvend's public view of pull request
// number of repo shows from GitHub itself: the check runs gitvend posted on
// the pull request's head, with every annotation of the policy run (a
// check run's summary shows only what fits). Nothing is kept in memory, so
// every replica answers a link alike, before and after a restart; the
// reads are conditional, so a view opened again costs no rate limit. It
// reports false for a repository gitvend does not serve, a pull request
// that does not exist, or a head gitvend has not checked yet.
func (b *Bot) PullRequestView(ctx context.Context, repo string, number int) (permalink.PullRequest, bool, error) {
	full, served := b.canonical(repo)
	if !served {
		return permalink.PullRequest{}, false, nil
	}
	owner, name, err := splitRepo(full)
	if err != nil {
		return permalink.PullRequest{}, false, err
	}
	gh, err := b.opts.Clients.ForRepo(ctx, owner, name)
	if err != nil {
		return permalink.PullRequest{}, false, fmt.Errorf("client for %s: %w", full, err)
	}
	pr, err := gh.GetPR(ctx, owner, name, number)
	if errors.Is(err, github.ErrNotFound) {
		return permalink.PullRequest{}, false, nil
	}
	if err != nil {
		return permalink.PullRequest{}, false, fmt.Errorf("get pull request #%d: %w", number, err)
	}
	runs, err := gh.ListCheckRuns(ctx, owner, name, pr.HeadSHA)
	if err != nil {
		return permalink.PullRequest{}, false, fmt.Errorf("list check runs of #%d: %w", number, err)
	}
	v := permalink.PullRequest{Repo: full, Number: number, HeadSHA: pr.HeadSHA}
	checked := false
	for _, r := range runs {
		if r.Status != "completed" {
			continue
		}
		switch r.Name {
		case CheckPolicy:
			checked = true
			v.Passed, v.Counts, v.Checked = r.Conclusion == "success", r.Title, r.CompletedAt
			anns, err := gh.ListAnnotations(ctx, owner, name, r.ID)
			if err != nil {
				return permalink.PullRequest{}, false, fmt.Errorf("list findings of #%d: %w", number, err)
			}
			for _, a := range anns {
				sev := "warn"
				if a.Level == "failure" {
					sev = "deny"
				}
				v.Findings = append(v.Findings, permalink.Finding{Severity: sev, Policy: a.Title,
					Where: fmt.Sprintf("%s:%d", a.Path, a.StartLine), Message: a.Message})
			}
		case CheckCost:
			v.Cost = r.Title
		}
	}
	return v, checked, nil
}

// forkPlanText is the summary of the plan run of a pull request from a
// fork: its head is never dry-run against the clusters.
const forkPlanText = "Not planned: this pull request comes from a fork, and gitvend does not send a fork's objects to the clusters, " +
	"not even as a dry-run. The plan appears once the change comes from a branch of this repository; " +
	"`gitvend apply --dry-run` prints the same plan locally."

// withPlan adds the gitvend/plan run of commit sha of pull request pr to
// runs, when the bot has a Planner: neutral for a head from a fork (fork
// set), which never reaches the clusters, and otherwise the plan of the
// head against the job's base on every target it touches. A prune past a
// target's threshold fails the run unless sha carries gitvend's
// confirmation (the commit status cluster.ConfirmPrune).
func (b *Bot) withPlan(ctx context.Context, w *work, sha string, fork bool, runs []github.CheckRunSpec) ([]github.CheckRunSpec, error) {
	if b.opts.Planner == nil {
		return runs, nil
	}
	if fork {
		return append(runs, github.CheckRunSpec{Name: CheckPlan, HeadSHA: sha, Status: "completed", Conclusion: "neutral",
			Title: "Not planned: pull request from a fork", Summary: forkPlanText}), nil
	}
	dir, cleanup, err := b.exportHead(ctx, w, sha, "plan")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	plans := b.opts.Planner.Plan(ctx, w.full, b.baseCheckout(ctx, w), reconcile.Checkout{Dir: dir, Stamps: b.stamps(ctx, w, sha)})
	var confirmed *github.Status
	for _, p := range plans {
		if p.PruneExceeded == "" {
			continue
		}
		st, err := w.gh.Status(ctx, w.owner, w.name, sha, cluster.ConfirmPrune)
		if err != nil {
			return nil, fmt.Errorf("read the prune confirmation of %.12s: %w", sha, err)
		}
		if st.State == "success" {
			confirmed = &st
		}
		break
	}
	return append(runs, planRun(sha, plans, confirmed)), nil
}

// planRun is the gitvend/plan run of plans, the plans of head commit sha;
// confirmed is gitvend's confirmation on sha of a prune past a threshold,
// nil when there is none. Each target's section is the plan's text, as
// gitvend apply --dry-run prints it, one object a list item.
func planRun(sha string, plans []*reconcile.Plan, confirmed *github.Status) github.CheckRunSpec {
	run := github.CheckRunSpec{Name: CheckPlan, HeadSHA: sha, Status: "completed", Conclusion: "success"}
	if len(plans) == 0 {
		run.Title = "No target changes"
		run.Summary = "This pull request changes no environment a target serves: merging it changes nothing on the clusters."
		return run
	}
	var md strings.Builder
	md.WriteString("A server-side dry-run of this head on every cluster it changes; nothing was written.\n")
	var titles []string
	var unreachable, refused, exceeded bool
	for _, p := range plans {
		titles = append(titles, p.Target+": "+p.Summary())
		unreachable = unreachable || p.Unreachable != ""
		refused = refused || len(p.Refuse)+len(p.Fail) > 0 || p.BuildError != ""
		exceeded = exceeded || p.PruneExceeded != ""
		md.WriteString(planSection(p, confirmed))
	}
	switch {
	case exceeded && confirmed == nil:
		run.Conclusion = "failure"
		titles = append([]string{"prune needs confirmation"}, titles...)
	case refused:
		run.Conclusion = "failure"
	case unreachable:
		run.Conclusion = "neutral"
	}
	run.Title = textbudget.Line(strings.Join(titles, "; "), textbudget.Chars(github.MaxTitle))
	run.Summary = textbudget.Fit(md.String(), checkOutput,
		textbudget.Options{Shown: shownRows, Noun: "objects", Where: "`gitvend apply --dry-run` locally"})
	return run
}

// planSection is one target's part of the plan run.
func planSection(p *reconcile.Plan, confirmed *github.Status) string {
	var text strings.Builder
	_ = p.WriteText(&text)
	lines := strings.Split(strings.TrimRight(text.String(), "\n"), "\n")
	var md strings.Builder
	fmt.Fprintf(&md, "\n### Target %s\n\n%s\n\n", request.Code(p.Target), strings.TrimPrefix(lines[0], "target "+p.Target+": "))
	if p.Unreachable != "" {
		fmt.Fprintf(&md, "The target's cluster could not be asked, so this target is not planned: %s.\n", request.Code(p.Unreachable))
		return md.String()
	}
	if p.HeldBy != "" {
		when := "when the window lets it go"
		if !p.HeldUntil.IsZero() {
			when = "after " + p.HeldUntil.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(&md, "**Change window:** the target's environment is in the change window %s: merged now, this will be applied %s.\n\n",
			request.Code(p.HeldBy), when)
	}
	items := 0
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "prune needs confirmation: "):
			continue
		case strings.HasPrefix(l, "  "):
			fmt.Fprintf(&md, "  - %s\n", request.Code(strings.TrimSpace(l)))
		default:
			fmt.Fprintf(&md, "- %s\n", request.Code(l))
			items++
		}
	}
	if items > 0 {
		md.WriteString("\n<sub>`+` created, `~` changed (values hidden where they may be secret), `-` pruned, `=` left in place, `!` refused by the target, `x` rejected by the dry-run.</sub>\n")
	}
	if p.PruneExceeded == "" {
		return md.String()
	}
	if confirmed != nil {
		fmt.Fprintf(&md, "\n**Prune confirmed** for this head commit (%s): %s.\n", confirmed.Description, p.PruneExceeded)
		return md.String()
	}
	fmt.Fprintf(&md, "\n**Prune needs confirmation:** %s. Someone allowed to request in %s can comment `/provision confirm-prune` on this pull request, "+
		"or a maintainer can add the label `%s`. The confirmation holds for this head commit only; after the merge, gitvend prunes past the threshold only when it was given.\n",
		p.PruneExceeded, strings.Join(p.Environments, ", "), cluster.ConfirmPrune)
	return md.String()
}
