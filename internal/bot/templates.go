package bot

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/textbudget"
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

// mustRender renders a template. Its data is one of the typed values
// below, built here from plain values, so an execution error is a
// programming error as well; the text says so rather than panicking in the
// middle of a job.
func mustRender(name string, data any) string {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Sprintf("gitvend could not render its %s message: %v", name, err)
	}
	return buf.String()
}

// statusData is the request issue's status comment. Exactly one of its
// cases applies, tried in this order: Unconfirmed (edits nobody answers
// for), PR set (a pull request proposes or removes the request), NotMerged
// (nothing to remove), InBranch (nothing to propose), or else Errors (the
// request does not render).
type statusData struct {
	// Unconfirmed names the inputs edited by someone GitHub did not name
	// ("the issue", or a link to a comment); Author is asked to confirm.
	Unconfirmed []string
	Author      string
	// PR is the request's pull request; Verb says what it does
	// ("proposes" or "removes").
	PR                                int
	Verb                              string
	Name                              string
	Blueprint, Environment, Namespace string
	Passed                            bool   // the policy check passed
	Cost                              string // the monthly cost, formatted
	// NotMerged: the request to remove is not in Base.
	NotMerged bool
	// InBranch: Base holds the request as asked already.
	InBranch bool
	Base     string
	// KeptPR is the request's pull request that stays as it was.
	KeptPR int
	// Errors say why the request does not render; Allowed lists its
	// blueprint's parameters.
	Errors  []string
	Allowed string
}

func (d statusData) render() string {
	return fitBody(mustRender("status.md.tmpl", d), "the issue's own text and `/provision help`")
}

// bodyRoom is what a body leaves for what is added after it is fitted:
// a sticky comment's marker, the status comment's ledger line.
const bodyRoom = 2048

// body is the budget of the issue, pull request and comment bodies the
// bot writes.
var body = textbudget.Chars(github.MaxBody).Less(bodyRoom)

// fitBody fits a body within GitHub's limit, collapsing long lists; where
// says where a reader finds what is cut.
func fitBody(s, where string) string {
	return textbudget.Fit(s, body, textbudget.Options{Shown: shownRows, Where: where})
}

// refusalData answers someone who may not ask.
type refusalData struct {
	User   string
	Reason string
}

func (d refusalData) render() string { return fitBody(mustRender("refusal.md.tmpl", d), "") }

// refusalText is the answer to admission's refusal r.
func refusalText(r *admission.Refusal) string {
	return refusalData{User: r.User, Reason: r.Reason}.render()
}

// replyData answers a comment: the commands' help, or why they could not
// be read.
type replyData struct {
	Help   bool
	User   string
	Errors []string
	Usage  string
}

func (d replyData) render() string {
	return fitBody(mustRender("reply.md.tmpl", d), "`/provision help`")
}

// paramRow is one parameter in a pull request body.
type paramRow struct {
	Name  string
	Value any
	Given bool // asked for, rather than the blueprint's default
}

// prBodyData is a request's pull request body. A removal lists no
// parameters or objects.
type prBodyData struct {
	Request    *request.Request
	Requester  string
	Issue      int
	Remove     bool
	Parameters []paramRow
	Objects    []string
	Report     *check.Report
	Base       string
}

func (d prBodyData) render() string { return mustRender("pr-body.md.tmpl", d) }
