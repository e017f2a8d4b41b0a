package bot

import (
	"fmt"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/policy"
)

// maxSummary is a little under GitHub's limit on a check run summary.
const maxSummary = 65000

// runs builds the two check runs of a report: gitvend/policy fails on any
// denial or unreadable input and annotates every finding at its file and
// line; gitvend/cost fails past a budget. Both carry the report's Markdown
// summary, the same the pull request's summary comment shows.
func runs(sha string, rep *check.Report, summary string) []github.CheckRunSpec {
	if len(summary) > maxSummary {
		summary = summary[:maxSummary] + "\n\n… (cut; the summary comment on the pull request has all of it)"
	}
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
		policyRun.Title = fmt.Sprintf("passed: %d objects", rep.Objects)
	}
	policyRun.Summary = summary
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
	costRun.Summary = summary
	return []github.CheckRunSpec{policyRun, costRun}
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
	return github.Annotation{Path: path, StartLine: line, EndLine: line, Level: level, Title: title, Message: v.Message}
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
