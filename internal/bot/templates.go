package bot

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"text/template"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/request"
)

//go:embed templates/*.md.tmpl
var templateFS embed.FS

// templates are parsed once; they are fixed at build time, so a parse
// error is a programming error caught by every test.
var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"money":  cost.FormatMoney,
	"signed": cost.FormatDelta,
	"denied": func(r *check.Report) int { d, _ := count(r.Violations); return d },
	"warned": func(r *check.Report) int { _, w := count(r.Violations); return w },
}).ParseFS(templateFS, "templates/*.md.tmpl"))

// mustRender renders a template. Its data is built here from plain values,
// so an execution error is a programming error as well; the text says so
// rather than panicking in the middle of a job.
func mustRender(name string, data any) string {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Sprintf("gitvend could not render its %s message: %v", name, err)
	}
	return buf.String()
}

type paramRow struct {
	Name  string
	Value any
	Given bool
}

// prBody is the data of a request's pull request body.
// A removal (c.Rendered nil) lists no parameters or objects.
func prBody(w *work, in *intake, r *request.Request, c *desired.Change, rep *check.Report) map[string]any {
	var params []paramRow
	var objects []string
	if c.Rendered != nil {
		for name, v := range c.Rendered.Parameters {
			_, given := in.draft.Parameters[name]
			params = append(params, paramRow{Name: name, Value: v, Given: given})
		}
		sort.Slice(params, func(i, j int) bool { return params[i].Name < params[j].Name })
		for _, o := range c.Rendered.Objects {
			objects = append(objects, o.ID.String())
		}
	}
	return map[string]any{
		"Request": r, "Requester": in.people[0], "Issue": in.issue.Number, "Remove": c.Rendered == nil,
		"Parameters": params, "Objects": objects, "Report": rep, "Base": w.branch,
	}
}
