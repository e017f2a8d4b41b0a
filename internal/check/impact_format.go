package check

import (
	"fmt"
	"io"
	"strings"

	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/request"
)

// impactKinds are the four kinds of change, in the order they are shown,
// with their names.
var impactKinds = []struct {
	name string
	list func(e *EnvironmentImpact) []policy.Violation
}{
	{"newly denied", func(e *EnvironmentImpact) []policy.Violation { return e.NewlyDenied }},
	{"newly warned", func(e *EnvironmentImpact) []policy.Violation { return e.NewlyWarned }},
	{"no longer denied", func(e *EnvironmentImpact) []policy.Violation { return e.StoppedDenying }},
	{"no longer warned", func(e *EnvironmentImpact) []policy.Violation { return e.StoppedWarning }},
}

// ImpactCounts says how many findings of each kind rep has, such as
// "2 newly denied, 1 no longer denied"; "no change" when none.
func ImpactCounts(rep *ImpactReport) string {
	var parts []string
	for _, k := range impactKinds {
		n := 0
		for i := range rep.Environments {
			n += len(k.list(&rep.Environments[i]))
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k.name))
		}
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// environmentCounts is ImpactCounts for one environment.
func environmentCounts(e *EnvironmentImpact) string {
	return ImpactCounts(&ImpactReport{Environments: []EnvironmentImpact{*e}})
}

// environmentName names an environment in text; findings about no object
// of an environment (budgets) have none.
func environmentName(name string) string {
	if name == "" {
		return "(no environment)"
	}
	return name
}

// subjectOf names the object of a finding: kind, namespace and name, or
// the namespace or team of a finding about no object.
func subjectOf(v policy.Violation) string {
	ref := v.Name
	if v.Namespace != "" {
		ref = v.Namespace + "/" + v.Name
	}
	if v.Kind == "" {
		return ref
	}
	return v.Kind + " " + ref
}

func placeOf(v policy.Violation) string {
	switch {
	case v.File == "":
		return ""
	case v.Line > 0:
		return fmt.Sprintf("%s:%d", v.File, v.Line)
	}
	return v.File
}

func changedText(rep *ImpactReport) string {
	if len(rep.Changed) == 0 {
		return "nothing that judges objects"
	}
	return strings.Join(rep.Changed, ", ")
}

// writeImpactText writes the text format: a headline, then per
// environment one line per finding.
func writeImpactText(w io.Writer, rep *ImpactReport) {
	fmt.Fprintf(w, "impact: the head changes %s; %s of the base judged with the head's rules\n",
		changedText(rep), plural(rep.Objects, "object", "objects"))
	if len(rep.Errors) > 0 {
		fmt.Fprintln(w, "FAILED: the head's policies cannot be used:")
		for _, p := range rep.Errors {
			fmt.Fprintf(w, "  %s\n", problemLine(p))
		}
		return
	}
	verdict := "passed"
	if !rep.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, ImpactCounts(rep))
	for i := range rep.Environments {
		e := &rep.Environments[i]
		fmt.Fprintf(w, "\nenvironment %s: %s\n", environmentName(e.Environment), environmentCounts(e))
		for _, k := range impactKinds {
			for _, v := range k.list(e) {
				at := placeOf(v)
				if at != "" {
					at = " at " + at
				}
				fmt.Fprintf(w, "  %-16s %s: %s%s: %s\n", k.name, v.Policy, subjectOf(v), at, v.Message)
			}
		}
	}
}

func problemLine(p Problem) string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	case p.File != "":
		return p.File + ": " + p.Message
	}
	return p.Message
}

// ImpactMarkdown renders rep as the gitvend/impact check run shows it: a
// headline, then per environment a table of what changes. Every text that
// comes from the repository (policy ids, messages, names, files) is a
// code span.
func ImpactMarkdown(rep *ImpactReport) string {
	var md strings.Builder
	changed := "nothing that judges objects"
	if len(rep.Changed) > 0 {
		parts := make([]string, len(rep.Changed))
		for i, c := range rep.Changed {
			parts[i] = "`" + c + "`"
		}
		changed = strings.Join(parts, ", ")
	}
	fmt.Fprintf(&md, "This pull request changes %s. The base branch's desired state (%s) was judged with the base's rules and with this pull request's, "+
		"whose policies ran in a sandbox (bounded in time and memory, no network).\n\n", changed, plural(rep.Objects, "object", "objects"))
	if len(rep.Errors) > 0 {
		md.WriteString("**The policies of this pull request cannot be used:**\n\n")
		for _, p := range rep.Errors {
			fmt.Fprintf(&md, "- %s\n", request.Code(problemLine(p)))
		}
		return md.String()
	}
	if len(rep.Environments) == 0 {
		md.WriteString("**No change:** every object is judged as before.\n")
		return md.String()
	}
	fmt.Fprintf(&md, "**%s.**\n", ImpactCounts(rep))
	for i := range rep.Environments {
		e := &rep.Environments[i]
		fmt.Fprintf(&md, "\n#### Environment %s: %s\n\n", request.Code(environmentName(e.Environment)), environmentCounts(e))
		md.WriteString("| change | policy | object | where | message |\n|---|---|---|---|---|\n")
		for _, k := range impactKinds {
			for _, v := range k.list(e) {
				where := "—"
				if at := placeOf(v); at != "" {
					where = cell(request.Code(at))
				}
				fmt.Fprintf(&md, "| %s | %s | %s | %s | %s |\n", k.name, cell(request.Code(v.Policy)),
					cell(request.Code(subjectOf(v))), where, cell(request.Code(v.Message)))
			}
		}
	}
	return md.String()
}
