package bot

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// The plan of a request sync is worked out here without I/O, from what the
// job read and computed: the commit its branch should hold (proposal), and
// once that commit is checked, what its pull request, check runs and
// comments should say (review). The executor (execute.go) makes the branch
// and GitHub match it.

// proposal is the commit the request's branch should hold, and the title of
// the pull request that proposes it.
type proposal struct {
	remove bool // the commit removes the request
	commit gitrepo.CommitSpec
	title  string
}

// planProposal plans the commit of change c for request r onto the job's
// base: written by author, dated when the newest input was written, so the
// same inputs give the same commit.
func planProposal(w *work, in *intake, r *request.Request, c *desired.Change, author gitrepo.Signature) proposal {
	where := fmt.Sprintf("%s/%s", r.Spec.Environment, r.Spec.Namespace)
	p := proposal{remove: c.Rendered == nil}
	message := fmt.Sprintf("Request %s: %s in %s", r.Metadata.Name, r.Spec.Blueprint, where)
	p.title = fmt.Sprintf("gitvend: %s (%s) in %s", r.Metadata.Name, r.Spec.Blueprint, where)
	if p.remove {
		message = fmt.Sprintf("Remove request %s: %s from %s", r.Metadata.Name, r.Spec.Blueprint, where)
		p.title = fmt.Sprintf("gitvend: remove %s (%s) from %s", r.Metadata.Name, r.Spec.Blueprint, where)
	}
	files := make(map[string][]byte, len(c.Files))
	for _, f := range c.Files {
		files[f.Path] = f.Data
	}
	p.title = textbudget.Line(p.title, textbudget.Chars(github.MaxTitle))
	p.commit = gitrepo.CommitSpec{
		Parent:  w.baseSHA,
		Files:   files,
		Delete:  c.Delete,
		Message: fmt.Sprintf("%s\n\nAsked for in %s#%d by @%s.\n", message, w.full, in.issue.Number, strings.Join(in.people, ", @")),
		Author:  author,
		Time:    in.latest.UTC(),
	}
	return p
}

// review is what the request's pull request should show once its commit
// sha is checked: its body, the check runs on sha, the summary comment, and
// the issue's status comment (whose PR the executor fills in).
type review struct {
	body    string
	runs    []github.CheckRunSpec
	summary string
	status  statusData
}

// planReview plans the review of proposal p, committed as sha and checked
// with report rep, whose Markdown summary is summary: the summary comment
// says which commit it describes; each check run carries its own part.
func planReview(w *work, in *intake, r *request.Request, c *desired.Change, p proposal, sha string, rep *check.Report, summary string) review {
	verb := "proposes"
	if p.remove {
		verb = "removes"
	}
	return review{
		body:    fitBody(prBody(w, in, r, c, rep).render(), "the request's rendered folder in the pull request's files"),
		runs:    runs(sha, rep),
		summary: stamp(summary, sha, repoURL(in.issue.HTMLURL)),
		status: statusData{Verb: verb, Name: r.Metadata.Name, Blueprint: r.Spec.Blueprint,
			Environment: r.Spec.Environment, Namespace: r.Spec.Namespace,
			Passed: rep.Passed, Cost: cost.FormatMoney(rep.Cost.Currency, rep.Cost.Monthly)},
	}
}

// prBody is the data of a request's pull request body.
func prBody(w *work, in *intake, r *request.Request, c *desired.Change, rep *check.Report) prBodyData {
	d := prBodyData{Request: r, Requester: in.people[0], Issue: in.issue.Number, Remove: c.Rendered == nil, Report: rep, Base: w.branch}
	if c.Rendered != nil {
		for name, v := range c.Rendered.Parameters {
			_, given := in.draft.Parameters[name]
			d.Parameters = append(d.Parameters, paramRow{Name: name, Value: v, Given: given})
		}
		sort.Slice(d.Parameters, func(i, j int) bool { return d.Parameters[i].Name < d.Parameters[j].Name })
		for _, o := range c.Rendered.Objects {
			d.Objects = append(d.Objects, o.ID.String())
		}
	}
	return d
}

// inBranchStatus says the base branch holds request name as asked.
func inBranchStatus(name, base string) statusData {
	return statusData{InBranch: true, Name: name, Base: base}
}

// notMergedStatus says request name, to be removed, is not in base; the
// open pull request, if any, stays.
func notMergedStatus(name, base string, open *github.PullRequest) statusData {
	d := statusData{NotMerged: true, Name: name, Base: base}
	if open != nil {
		d.KeptPR = open.Number
	}
	return d
}

// invalidStatus says why the request does not render, with the parameters
// its blueprint allows; the open pull request, if any, stays.
func invalidStatus(in *intake, cat *blueprint.Catalog) statusData {
	d := statusData{Errors: in.problems}
	if in.pr != nil {
		d.KeptPR = in.pr.Number
	}
	if in.draft != nil {
		if bp, err := cat.Get(in.draft.Blueprint); err == nil {
			d.Allowed = allowedText(bp)
		}
	}
	return d
}

// unconfirmedStatus says which inputs changed with nobody to answer for
// them, and asks the request's author to confirm it; the open pull
// request, if any, stays.
func unconfirmedStatus(in *intake) statusData {
	d := statusData{Author: in.author}
	for _, u := range in.unconfirmed {
		if u.comment == nil {
			d.Unconfirmed = append(d.Unconfirmed, "the issue")
			continue
		}
		d.Unconfirmed = append(d.Unconfirmed, fmt.Sprintf("[a comment of @%s](%s)", u.author, u.comment.HTMLURL))
	}
	if in.pr != nil {
		d.KeptPR = in.pr.Number
	}
	return d
}

// allowedText lists a blueprint's parameters and what each allows.
func allowedText(bp *blueprint.Blueprint) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "<details><summary>Parameters of %s</summary>\n\n", bp.Name)
	for _, p := range bp.Parameters {
		fmt.Fprintf(&sb, "- `%s`: %s\n", p.Name, p.Allowed())
	}
	sb.WriteString("\n</details>")
	return sb.String()
}
