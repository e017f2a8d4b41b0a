package rollout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/textbudget"
)

var closingRef = regexp.MustCompile(`(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)\b`)

// report tells the merged pull request what its merge did on every target,
// and closes each request issue it resolves with what now exists where.
// Both comments are kept under markers, so a repeated report edits them.
// Sync makes it before the success statuses, so that a process stopped
// in between makes it again. With the targets sharded over replicas,
// each replica reports only the targets it applied, so each target has
// its own comments: one comment for all would keep only the last
// replica's targets.
func (r *Rollout) report(ctx context.Context, gh GitHub, owner, name string, prNumber int, sha, dir string, applied []Applied, revert int) error {
	if !r.opts.Sharded {
		return r.reportGroup(ctx, gh, owner, name, prNumber, sha, dir, applied, revert, "")
	}
	for _, a := range applied {
		if err := r.reportGroup(ctx, gh, owner, name, prNumber, sha, dir, []Applied{a}, revert, "/"+a.Target); err != nil {
			return err
		}
	}
	return nil
}

// reportGroup reports the targets of applied under the comment markers
// "apply" and "applied" followed by suffix.
func (r *Rollout) reportGroup(ctx context.Context, gh GitHub, owner, name string, prNumber int, sha, dir string, applied []Applied, revert int, suffix string) error {
	full := owner + "/" + name
	body := r.fitComment(applyComment(sha, applied, revert), applied)
	key := fmt.Sprintf("%s#%d%s", full, prNumber, suffix)
	if !r.once(key, body) {
		return nil
	}
	fail := func(err error) error {
		r.forget(key)
		return err
	}
	// A merge message can name a pull request that does not exist (a
	// commit pushed with such a message): there is nothing to tell.
	if _, err := gh.UpsertComment(ctx, owner, name, prNumber, "apply"+suffix, body); errors.Is(err, github.ErrNotFound) {
		r.log.Warn("the merged pull request the commit names does not exist; nothing reported", "pr", prNumber, "sha", sha)
		return nil
	} else if err != nil {
		return fail(fmt.Errorf("comment on #%d: %w", prNumber, err))
	}
	pr, err := gh.GetPR(ctx, owner, name, prNumber)
	if err != nil {
		return fail(fmt.Errorf("get pull request #%d: %w", prNumber, err))
	}
	for _, m := range closingRef.FindAllStringSubmatch(pr.Body, -1) {
		n, _ := strconv.Atoi(m[1])
		text, err := existsWhere(dir, fmt.Sprintf("%s#%d", full, n), sha, applied)
		if err != nil {
			return fail(err)
		}
		if text == "" {
			continue // not a request issue
		}
		text = r.fitComment(text, applied)
		if _, err := gh.UpsertComment(ctx, owner, name, n, "applied"+suffix, text); err != nil {
			return fail(fmt.Errorf("comment on request issue #%d: %w", n, err))
		}
		if err := gh.CloseIssue(ctx, owner, name, n, ""); err != nil {
			return fail(fmt.Errorf("close request issue #%d: %w", n, err))
		}
	}
	return nil
}

// setStatus sets the commit status of target on sha, its description
// within GitHub's limit and its target URL the target's view.
func (r *Rollout) setStatus(ctx context.Context, gh GitHub, owner, name, sha, target, state, desc string) error {
	desc = textbudget.Line(desc, textbudget.Chars(github.MaxStatusDescription))
	return gh.SetStatus(ctx, owner, name, sha, StatusPrefix+target, state, desc, r.opts.Links.Target(target))
}

// setPending marks the apply of sha to target as started. It is a hint
// to a reader: failing to set it delays nothing, and the result set after
// the apply replaces it.
func (r *Rollout) setPending(ctx context.Context, gh GitHub, owner, name, sha, target string) {
	if !r.once(owner+"/"+name+"@"+sha+"/"+target, "pending") {
		return
	}
	if err := r.setStatus(ctx, gh, owner, name, sha, target, "pending", "applying to "+target); err != nil {
		r.forget(owner + "/" + name + "@" + sha + "/" + target)
		r.log.Warn("pending status not set", "target", target, "sha", sha, "err", err)
	}
}

// commentBody is the budget of the comments a rollout writes: GitHub's
// limit, less room for the sticky comment's marker.
var commentBody = textbudget.Chars(github.MaxBody).Less(256)

// fitComment fits a comment about applied within GitHub's limit: long
// tables show their first rows and collapse the rest, and what does not
// fit is counted and found on the targets' views.
func (r *Rollout) fitComment(body string, applied []Applied) string {
	where := "`gitvend apply --dry-run` against each target"
	var links []string
	for _, a := range applied {
		if u := r.opts.Links.Target(a.Target); u != "" {
			links = append(links, fmt.Sprintf("[%s](%s)", a.Target, u))
		}
	}
	if len(links) > 0 {
		where = "the views of " + strings.Join(links, ", ")
	}
	return textbudget.Fit(body, commentBody, textbudget.Options{Shown: shownRows, Noun: "objects", Where: where})
}

// shownRows is how many rows of a long table a comment shows before it
// collapses the rest.
const shownRows = 20

// applyComment is the merged pull request's comment: per target, what the
// apply changed, why objects are not healthy, and the pull request that
// reverts the merge when one was opened (revert > 0).
func applyComment(sha string, applied []Applied, revert int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "### gitvend applied `%.12s`\n\n", sha)
	sb.WriteString("| target | result |\n|---|---|\n")
	for _, a := range applied {
		state, desc := statusOf(a)
		icon := "✅"
		if state != "success" {
			icon = "❌"
		}
		if state == "failure" && a.Err == nil && !a.Result.Healthy() {
			// Why is said below, as code: it is text from the cluster.
			desc = fmt.Sprintf("%d not healthy in time (below); %s", max(len(a.Result.UnhealthyObjects()), 1), a.Result.Summary())
		}
		fmt.Fprintf(&sb, "| `%s` | %s %s |\n", a.Target, icon, strings.ReplaceAll(desc, "|", `\|`))
	}
	unhealthy := map[string][]reconcile.ObjectResult{}
	for _, a := range applied {
		if a.Result != nil {
			if bad := a.Result.UnhealthyObjects(); len(bad) > 0 {
				unhealthy[a.Target] = bad
			}
		}
	}
	if len(unhealthy) > 0 {
		sb.WriteString("\n#### Not healthy within the health timeout\n\n")
		sb.WriteString(unhealthyTable(unhealthy))
	}
	if revert > 0 {
		fmt.Fprintf(&sb, "\n↩️ The environment asks to roll back a merge that does not become healthy: #%d reverts this one. Merge it to restore the state from before; gitvend does not merge it by itself.\n", revert)
	}
	for _, a := range applied {
		if a.Result == nil {
			continue
		}
		var rows []string
		for _, o := range a.Result.Objects {
			if o.Action == reconcile.Unchanged {
				continue
			}
			row := fmt.Sprintf("| %s | `%s` | %s |", o.Action, o.ID, o.Status)
			if o.Message != "" {
				row = fmt.Sprintf("| %s | `%s` | %s: %s |", o.Action, o.ID, o.Status, strings.ReplaceAll(o.Message, "|", `\|`))
			}
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&sb, "\n<details><summary>%s: %d changes</summary>\n\n| action | object | status |\n|---|---|---|\n%s\n\n</details>\n",
			a.Target, len(rows), strings.Join(rows, "\n"))
	}
	return sb.String()
}

// existsWhere lists the objects of the request asked for in origin on
// every target, or "" when no record of the repository names that origin.
func existsWhere(dir, origin, sha string, applied []Applied) (string, error) {
	records, err := desired.Requests(dir)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, rec := range records {
		if rec.Err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rec.Path)))
		if err != nil {
			return "", fmt.Errorf("read %s: %w", rec.Path, err)
		}
		if desired.OriginOf(data) != origin {
			continue
		}
		rendered, err := renderedIDs(dir, rec)
		if err != nil {
			return "", err
		}
		for _, a := range applied {
			if a.Result == nil {
				continue
			}
			for _, o := range a.Result.Objects {
				if rendered[o.ID.String()] {
					status := o.Status
					if status == "" {
						status = string(o.Action)
					}
					lines = append(lines, fmt.Sprintf("| `%s` | `%s` | %s |", a.Target, o.ID, status))
				}
			}
		}
	}
	if len(lines) == 0 {
		return "", nil
	}
	sort.Strings(lines)
	return fmt.Sprintf("🚀 Applied in `%.12s`. What this request made, and where:\n\n| target | object | status |\n|---|---|---|\n%s\n",
		sha, strings.Join(lines, "\n")), nil
}

// renderedIDs reads the identities of a record's rendered objects.
func renderedIDs(dir string, rec desired.Record) (map[string]bool, error) {
	objs, err := manifest.Load(filepath.Join(dir, filepath.FromSlash(rec.Request.RenderDir())))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", rec.Request.RenderDir(), err)
	}
	ids := map[string]bool{}
	for _, o := range objs {
		if o.Labels()[blueprint.LabelRequest] == rec.Request.Metadata.Name {
			ids[o.ID.String()] = true
		}
	}
	return ids, nil
}

// unhealthyTable lists the objects that are not healthy, per target, and
// why. The reason's detail is what the cluster reports, untrusted: it is
// shown as code, where Markdown, HTML and mentions are not rendered.
func unhealthyTable(byTarget map[string][]reconcile.ObjectResult) string {
	var sb strings.Builder
	sb.WriteString("| target | object | reason |\n|---|---|---|\n")
	targets := make([]string, 0, len(byTarget))
	for t := range byTarget {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		for _, o := range byTarget[t] {
			fmt.Fprintf(&sb, "| %s | %s | %s |\n", code(t), code(o.ID.String()), reasonCell(o))
		}
	}
	return sb.String()
}

// reasonCell is why o is not healthy, for a table cell.
func reasonCell(o reconcile.ObjectResult) string {
	if o.Unhealthy == nil {
		return "status " + code(o.Status)
	}
	cell := "**" + string(o.Unhealthy.Reason) + "**"
	if o.Unhealthy.Detail != "" {
		cell += " " + code(textbudget.Line(o.Unhealthy.Detail, textbudget.Chars(reconcile.MaxHealthDetail)))
	}
	return cell
}

// healthLine says in one line of plain text why an apply is not healthy:
// the first object not healthy and its reason, and how many more.
func healthLine(res *reconcile.Result) string {
	bad := res.UnhealthyObjects()
	if len(bad) == 0 || bad[0].Unhealthy == nil {
		return "not healthy in time"
	}
	line := fmt.Sprintf("not healthy: %s %s", bad[0].ID, bad[0].Unhealthy)
	if len(bad) > 1 {
		line += fmt.Sprintf(" (+%d more)", len(bad)-1)
	}
	return line
}
