package bot

import (
	"context"
	"fmt"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// CheckImpact is the check run that shows what a pull request's rules
// (policies/, the policy settings and exceptions of gitvend.yaml,
// blueprints/) change in how the base branch's desired state is judged.
const CheckImpact = "gitvend/impact"

// withImpact adds the gitvend/impact run of commit sha of pull request pr
// to runs when the commit changes the rules against the job's base; a
// commit that does not gets no impact run. The commit's policies run in
// the policy sandbox. Before they run, the impact run is started in
// progress (and added to existing), so that a check that stops on the way
// leaves it in progress and is done again (see impactPending).
func (b *Bot) withImpact(ctx context.Context, w *work, pr int, sha string, runs []github.CheckRunSpec, existing []github.CheckRun) ([]github.CheckRunSpec, []github.CheckRun, error) {
	dir, cleanup, err := b.export(ctx, w.clone, sha, "impact")
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	changed, err := check.RulesChanged(w.baseDir, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("impact: %w", err)
	}
	if len(changed) == 0 {
		return runs, existing, nil
	}
	started := false
	for _, r := range existing {
		started = started || (r.Name == CheckImpact && r.HeadSHA == sha && r.Status != "completed")
	}
	if !started {
		run, err := w.gh.CreateCheckRun(ctx, w.owner, w.name, github.CheckRunSpec{Name: CheckImpact, HeadSHA: sha, Status: "in_progress",
			DetailsURL: b.opts.Links.PullRequest(w.full, pr)})
		if err != nil {
			return nil, nil, fmt.Errorf("start check run %s: %w", CheckImpact, err)
		}
		existing = append(existing, run)
	}
	rep, err := check.Impact(ctx, w.baseDir, dir, check.ImpactOptions{Logger: b.log})
	if err != nil {
		return nil, nil, fmt.Errorf("impact: %w", err)
	}
	return append(runs, impactRun(sha, rep)), existing, nil
}

// impactPending tells whether runs hold a gitvend/impact run left in
// progress by a check that stopped: the head is then checked again.
func impactPending(runs []github.CheckRun) bool {
	for _, r := range runs {
		if r.Name == CheckImpact && r.Status != "completed" {
			return true
		}
	}
	return false
}

// impactRun is the gitvend/impact run of rep, the impact of head commit
// sha: failure when the head's rules newly deny an object or cannot be
// used, neutral when they change other findings (a reviewer should look),
// success when every object is judged as before. Each finding is
// annotated at its file and line.
func impactRun(sha string, rep *check.ImpactReport) github.CheckRunSpec {
	run := github.CheckRunSpec{Name: CheckImpact, HeadSHA: sha, Status: "completed", Conclusion: "success"}
	switch {
	case len(rep.Errors) > 0:
		run.Conclusion = "failure"
		run.Title = fmt.Sprintf("the policies cannot be used: %d problems", len(rep.Errors))
		if len(rep.Errors) == 1 {
			run.Title = "the policies cannot be used: " + rep.Errors[0].Message
		}
	case !rep.Passed:
		run.Conclusion = "failure"
		run.Title = check.ImpactCounts(rep)
	case len(rep.Environments) > 0:
		run.Conclusion = "neutral"
		run.Title = check.ImpactCounts(rep)
	default:
		run.Title = "no change: every object is judged as before"
	}
	run.Title = textbudget.Line(run.Title, textbudget.Chars(github.MaxTitle))
	run.Summary = textbudget.Fit(check.ImpactMarkdown(rep), checkOutput,
		textbudget.Options{Shown: shownRows, Noun: "findings", Where: "this check run's annotations, or `gitvend check --impact --base DIR` locally"})
	for _, p := range rep.Errors {
		if p.File == "" {
			continue // no file to point at (a time-out, say): the summary says it
		}
		run.Annotations = append(run.Annotations, github.Annotation{Path: p.File, StartLine: max(p.Line, 1), EndLine: max(p.Line, 1),
			Level: "failure", Title: "policy problem", Message: p.Message})
	}
	for _, e := range rep.Environments {
		for _, k := range []struct {
			what, level string
			list        []policy.Violation
		}{
			{"newly denied", "failure", e.NewlyDenied},
			{"newly warned", "warning", e.NewlyWarned},
			{"no longer denied", "notice", e.StoppedDenying},
			{"no longer warned", "notice", e.StoppedWarning},
		} {
			for _, v := range k.list {
				a := annotation(v)
				a.Level = k.level
				a.Title = textbudget.Line(k.what+": "+a.Title, annotationTitle)
				run.Annotations = append(run.Annotations, a)
			}
		}
	}
	return run
}
