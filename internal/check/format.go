package check

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
)

// Formats lists the output formats Write accepts.
var Formats = []string{"text", "json", "markdown", "github", "sarif"}

//go:embed templates/*.tmpl
var templateFS embed.FS

// Writer renders reports. Build one with NewWriter; it is safe for
// concurrent use.
type Writer struct {
	templates *template.Template
	rules     []policy.Info
}

// NewWriter parses the report templates. rules describe the policies, for
// SARIF's rule list.
func NewWriter(rules []policy.Info) (*Writer, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"money":  cost.FormatMoney,
		"hours":  func(h float64) string { return strconv.FormatFloat(math.Round(h*10)/10, 'f', -1, 64) },
		"signed": cost.FormatDelta,
		"count":  countSeverity,
		"object": func(id manifest.ID) string {
			if id.Kind == "" {
				return "—"
			}
			return "`" + id.String() + "`"
		},
		"where":    where,
		"cell":     cell,
		"objects":  objectsLine,
		"over":     overBudget,
		"headroom": cost.FormatHeadroom,
	}).ParseFS(templateFS, "templates/*.md.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse report templates: %w", err)
	}
	return &Writer{templates: t, rules: rules}, nil
}

// Write renders rep in format to w. color asks for ANSI colours in the text
// format (only on a terminal).
func (f *Writer) Write(w io.Writer, rep *Report, format string, color bool) error {
	switch format {
	case "text", "":
		return writeText(w, rep, color)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "markdown":
		return f.Markdown(w, rep)
	case "github":
		return writeGitHub(w, rep)
	case "sarif":
		return f.writeSARIF(w, rep)
	}
	return fmt.Errorf("--format: unknown format %q; allowed: %s", format, strings.Join(Formats, ", "))
}

// Markdown renders the summary shown on pull requests: counts, cost and
// policy findings.
func (f *Writer) Markdown(w io.Writer, rep *Report) error {
	return f.render(w, "summary.md.tmpl", rep)
}

// PolicyMarkdown renders the policy part of the summary, headed by the
// policy verdict, as the policy check run shows it.
func (f *Writer) PolicyMarkdown(w io.Writer, rep *Report) error {
	return f.render(w, "policy.md.tmpl", rep)
}

// CostMarkdown renders the cost part of the summary, headed by the
// budgets' verdict, as the cost check run shows it.
func (f *Writer) CostMarkdown(w io.Writer, rep *Report) error {
	return f.render(w, "cost.md.tmpl", rep)
}

func (f *Writer) render(w io.Writer, name string, rep *Report) error {
	var buf bytes.Buffer
	if err := f.templates.ExecuteTemplate(&buf, name, struct{ Report *Report }{rep}); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	_, err := w.Write(append(bytes.TrimRight(buf.Bytes(), "\n"), '\n'))
	return err
}

// OverBudget tells whether the report's estimate exceeds any budget.
func (r *Report) OverBudget() bool { return overBudget(r) }

func overBudget(r *Report) bool {
	for _, b := range r.Budgets {
		if b.Exceeded {
			return true
		}
	}
	return false
}

// objectsLine says what the checked objects are: against a base, what
// the change adds, changes and removes, and how many the head has in
// all; without one, how many were checked.
func objectsLine(r *Report) string {
	c := r.Change
	if c == nil {
		return plural(r.Objects, "object", "objects")
	}
	where := "in the environment"
	if c.Environments > 1 {
		where = fmt.Sprintf("in %d environments", c.Environments)
	}
	return fmt.Sprintf("%s added, %d changed, %d removed; %d %s",
		plural(c.Added, "object", "objects"), c.Changed, c.Removed, c.Total, where)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func countSeverity(vs []policy.Violation, sev string) int {
	n := 0
	for _, v := range vs {
		if v.Severity == sev {
			n++
		}
	}
	return n
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

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// ANSI colours for the text format.
const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	green  = "\x1b[32m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

func writeText(w io.Writer, rep *Report, color bool) error {
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + reset
	}
	var b strings.Builder
	byFile := map[string][]policy.Violation{}
	var files []string
	for _, v := range rep.Violations {
		if _, ok := byFile[v.File]; !ok {
			files = append(files, v.File)
		}
		byFile[v.File] = append(byFile[v.File], v)
	}
	sort.Strings(files)
	for _, f := range files {
		name := f
		if name == "" {
			name = "(repository)"
		}
		b.WriteString(paint(bold, name) + "\n")
		for _, v := range byFile[f] {
			sev := paint(yellow, "warn")
			if v.Severity == "deny" {
				sev = paint(red, "deny")
			}
			loc := ""
			if v.Line > 0 {
				loc = fmt.Sprintf("%d", v.Line)
			}
			obj := ""
			if v.Kind != "" {
				obj = v.ID.String() + ": "
			}
			fmt.Fprintf(&b, "  %5s  %s  %-26s %s%s\n", loc, sev, v.Policy, obj, v.Message)
		}
		b.WriteString("\n")
	}
	if len(rep.Excepted) > 0 {
		b.WriteString(paint(bold, "Excepted by gitvend.yaml") + "\n")
		for _, v := range rep.Excepted {
			fmt.Fprintf(&b, "  %s  %s:%d  %s — reason: %s\n", v.Policy, v.File, v.Line, v.ID, v.Exception)
		}
		b.WriteString("\n")
	}
	if len(rep.Errors) > 0 {
		b.WriteString(paint(bold, "Could not read") + "\n")
		for _, e := range rep.Errors {
			fmt.Fprintf(&b, "  %s: %s\n", location(e), e.Message)
		}
		b.WriteString("\n")
	}
	for _, n := range rep.Notices {
		fmt.Fprintf(&b, "note: %s: %s\n", location(n), n.Message)
	}
	c := rep.Cost
	fmt.Fprintf(&b, "Cost: %s/month", cost.FormatMoney(c.Currency, c.Monthly))
	if c.MonthlyMax > c.Monthly+0.005 {
		fmt.Fprintf(&b, " (up to %s when autoscaled)", cost.FormatMoney(c.Currency, c.MonthlyMax))
	}
	if c.HasBase {
		fmt.Fprintf(&b, ", %s against the base (%s)", cost.FormatDelta(c.Currency, c.Delta), cost.FormatMoney(c.Currency, c.BaseMonthly))
	}
	b.WriteString("\n")
	for _, sv := range c.Savings {
		fmt.Fprintf(&b, "  sleep %s\n", sv.String(c.Currency))
	}
	for _, bs := range rep.Budgets {
		state := paint(green, "within budget")
		if bs.Exceeded {
			state = paint(red, "OVER BUDGET")
		}
		env := ""
		if bs.Environment != "" {
			env = " in " + bs.Environment
		}
		fmt.Fprintf(&b, "  budget %s %s%s: %s, %s\n", bs.Scope, bs.Name, env, bs.Use(c.Currency), state)
	}
	status := paint(green, "PASSED")
	if !rep.Passed {
		status = paint(red, "FAILED")
	}
	fmt.Fprintf(&b, "%s: %s, %d denied, %d warnings, %d excepted, %d unreadable\n", status, objectsLine(rep),
		countSeverity(rep.Violations, "deny"), countSeverity(rep.Violations, "warn"), len(rep.Excepted), len(rep.Errors))
	_, err := io.WriteString(w, b.String())
	return err
}

func location(p Problem) string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return p.File
}

// writeGitHub prints GitHub Actions workflow commands that annotate files.
func writeGitHub(w io.Writer, rep *Report) error {
	var b strings.Builder
	annotate := func(level, file string, line int, title, msg string) {
		props := []string{}
		if file != "" {
			props = append(props, "file="+escapeProperty(file))
			if line > 0 {
				props = append(props, fmt.Sprintf("line=%d", line))
			}
		}
		props = append(props, "title="+escapeProperty(title))
		fmt.Fprintf(&b, "::%s %s::%s\n", level, strings.Join(props, ","), escapeData(msg))
	}
	for _, v := range rep.Violations {
		level := "warning"
		if v.Severity == "deny" {
			level = "error"
		}
		msg := v.Message
		if v.Kind != "" {
			msg = v.ID.String() + ": " + msg
		}
		annotate(level, v.File, v.Line, "gitvend "+v.Policy, msg)
	}
	for _, e := range rep.Errors {
		annotate("error", e.File, e.Line, "gitvend: unreadable input", e.Message)
	}
	for _, n := range rep.Notices {
		annotate("notice", n.File, n.Line, "gitvend", n.Message)
	}
	fmt.Fprintf(&b, "::notice title=gitvend cost::%s\n", escapeData(fmt.Sprintf("monthly estimate %s (change %s)",
		cost.FormatMoney(rep.Cost.Currency, rep.Cost.Monthly), cost.FormatDelta(rep.Cost.Currency, rep.Cost.Delta))))
	_, err := io.WriteString(w, b.String())
	return err
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// parts renders the summary's parts for callers without a Writer at hand;
// the templates are embedded, so they parse or the build is broken.
var parts = sync.OnceValue(func() *Writer {
	w, err := NewWriter(nil)
	if err != nil {
		panic(err)
	}
	return w
})

// PolicyPart is the policy part of rep's summary (see Writer.PolicyMarkdown).
func PolicyPart(rep *Report) string {
	var b strings.Builder
	if err := parts().PolicyMarkdown(&b, rep); err != nil {
		return fmt.Sprintf("gitvend could not render its policy findings: %v\n", err)
	}
	return b.String()
}

// CostPart is the cost part of rep's summary (see Writer.CostMarkdown).
func CostPart(rep *Report) string {
	var b strings.Builder
	if err := parts().CostMarkdown(&b, rep); err != nil {
		return fmt.Sprintf("gitvend could not render its cost estimate: %v\n", err)
	}
	return b.String()
}
