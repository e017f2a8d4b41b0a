package bot

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/policy"
)

// runs builds the two check runs of a report: gitvend/policy fails on any
// denial or unreadable input and annotates every finding at its file and
// line; gitvend/cost fails past a budget and lists the change.
func (b *Bot) runs(w *work, sha string, rep *check.Report) []github.CheckRunSpec {
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
	policyRun.Summary = policySummary(rep)
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
	var over []string
	for _, bs := range rep.Budgets {
		if bs.Exceeded {
			over = append(over, fmt.Sprintf("%s %s: %s of %s", bs.Scope, bs.Name, cost.FormatMoney(cur, bs.Monthly), cost.FormatMoney(cur, bs.Limit)))
		}
	}
	if len(over) > 0 {
		costRun.Conclusion = "failure"
		costRun.Title += ", over budget"
	}
	costRun.Summary = costSummary(rep, over)
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

func policySummary(rep *check.Report) string {
	var sb strings.Builder
	deny, warn := count(rep.Violations)
	fmt.Fprintf(&sb, "%d objects checked: %d denied, %d warnings, %d excepted.\n", rep.Objects, deny, warn, len(rep.Excepted))
	if len(rep.Violations) > 0 {
		sb.WriteString("\n| | policy | object | where | message |\n|---|---|---|---|---|\n")
		for _, v := range rep.Violations {
			fmt.Fprintf(&sb, "| %s | `%s` | `%s` | %s | %s |\n", v.Severity, v.Policy, v.ID, where(v.File, v.Line), cell(v.Message))
		}
	}
	if len(rep.Excepted) > 0 {
		sb.WriteString("\nExceptions from gitvend.yaml:\n\n")
		for _, v := range rep.Excepted {
			fmt.Fprintf(&sb, "- `%s` on `%s`: %s\n", v.Policy, v.ID, cell(v.Exception))
		}
	}
	return sb.String()
}

func costSummary(rep *check.Report, over []string) string {
	var sb bytes.Buffer
	cur := rep.Cost.Currency
	fmt.Fprintf(&sb, "Monthly estimate: **%s**", cost.FormatMoney(cur, rep.Cost.Monthly))
	if rep.Cost.MonthlyMax > rep.Cost.Monthly {
		fmt.Fprintf(&sb, " (up to %s when autoscaled)", cost.FormatMoney(cur, rep.Cost.MonthlyMax))
	}
	if rep.Cost.HasBase {
		fmt.Fprintf(&sb, ", %s against the base branch (%s)", cost.FormatDelta(cur, rep.Cost.Delta), cost.FormatMoney(cur, rep.Cost.BaseMonthly))
	}
	sb.WriteString(".\n")
	if ch := rep.Cost.Change; ch != nil && len(ch.Added)+len(ch.Removed)+len(ch.Changed) > 0 {
		sb.WriteString("\n| change | object | monthly delta |\n|---|---|---:|\n")
		for _, group := range []struct {
			name  string
			items []cost.ObjectDelta
		}{{"added", ch.Added}, {"removed", ch.Removed}, {"changed", ch.Changed}} {
			for _, o := range group.items {
				fmt.Fprintf(&sb, "| %s | `%s` | %s |\n", group.name, o.ID, cost.FormatDelta(cur, o.Delta))
			}
		}
	}
	for _, o := range over {
		fmt.Fprintf(&sb, "\n❌ over budget: %s", o)
	}
	return sb.String()
}

func where(file string, line int) string {
	switch {
	case file == "":
		return "—"
	case line > 0:
		return fmt.Sprintf("`%s:%d`", file, line)
	}
	return "`" + file + "`"
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func money(cur string, v float64) string { return cost.FormatMoney(cur, v) }
