package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/request"
)

// Outcome is what SyncIssue did with a request issue.
type Outcome string

// Outcomes of SyncIssue.
const (
	OutcomeIgnored  Outcome = "ignored"  // not a request issue
	OutcomeRefused  Outcome = "refused"  // asked by someone without permission
	OutcomeInvalid  Outcome = "invalid"  // the request does not render
	OutcomeProposed Outcome = "proposed" // a pull request was opened or updated
	OutcomeCurrent  Outcome = "current"  // the pull request already matched
	OutcomeInBranch Outcome = "in-branch"
)

// SyncIssue brings request issue number of repository full (owner/name)
// to the state it should have: its form and commands folded into a
// request, the request rendered onto branch gitvend/request-<number>, one
// pull request for it with both checks, and a status comment on the issue.
// It is safe to call any number of times.
func (b *Bot) SyncIssue(ctx context.Context, full string, number int, tr Trigger) (Outcome, error) {
	unlock := b.lockRequest(full, number)
	defer func() { unlock() }()
	w, err := b.open(ctx, full)
	if err != nil {
		return "", err
	}
	defer w.cleanup()
	got, err := w.gh.GetIssue(ctx, w.owner, w.name, number)
	if err != nil {
		return "", fmt.Errorf("get issue #%d: %w", number, err)
	}
	if got.IsPullRequest {
		// A command on a request's pull request syncs the request's issue.
		pr, err := w.gh.GetPR(ctx, w.owner, w.name, number)
		if err != nil {
			return "", fmt.Errorf("get pull request #%d: %w", number, err)
		}
		n := issueOfBranch(pr.Head)
		if n == 0 {
			return OutcomeIgnored, nil
		}
		unlock()
		unlock = func() {}
		w.cleanup()
		return b.SyncIssue(ctx, full, n, tr)
	}
	return b.syncIssue(ctx, w, &got, tr)
}

// syncIssue is SyncIssue on an issue read, its request locked.
func (b *Bot) syncIssue(ctx context.Context, w *work, issue *github.Issue, tr Trigger) (Outcome, error) {
	number := issue.Number
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "request", fmt.Sprintf("%s#%d", w.full, number))
	if tr.CommentID != 0 {
		if err := w.gh.ReactToComment(ctx, w.owner, w.name, tr.CommentID, "eyes"); err != nil {
			return "", fmt.Errorf("react to comment: %w", err)
		}
	} else if tr.Opened && hasLabel(issue, w.cfg.Intake.Label) {
		if err := w.gh.ReactToIssue(ctx, w.owner, w.name, number, "eyes"); err != nil {
			return "", fmt.Errorf("react to issue: %w", err)
		}
	}
	in, err := b.gather(ctx, w, issue, w.cat)
	if err != nil {
		return "", err
	}
	if issue.State != "open" && in.latest.Before(issue.ClosedAt) {
		// A closed request issue only acts on commands written after it
		// closed (or in the same second: GitHub's times are in seconds),
		// such as /provision destroy once its request was applied.
		return OutcomeIgnored, nil
	}
	switch {
	case in.refusal != "":
		log.Info("request refused", "user", issue.User)
		return b.finish(ctx, w, in, OutcomeRefused, in.refusal)
	case in.draft == nil:
		return OutcomeIgnored, nil
	}
	if !hasLabel(issue, w.cfg.Intake.Label) {
		if err := w.gh.AddLabels(ctx, w.owner, w.name, number, w.cfg.Intake.Label); err != nil {
			return "", fmt.Errorf("label issue: %w", err)
		}
	}
	if refusal, err := b.allowEnvironment(ctx, w, in); err != nil {
		return "", err
	} else if refusal != "" {
		return b.finish(ctx, w, in, OutcomeRefused, refusal)
	}
	req, err := b.judge(in, w)
	if err != nil {
		in.problems = append(in.problems, messages(err)...)
	}
	if len(in.problems) > 0 {
		log.Info("request invalid", "problems", len(in.problems))
		return b.finish(ctx, w, in, OutcomeInvalid, b.problemText(in, w))
	}
	origin := fmt.Sprintf("%s#%d", w.full, number)
	if in.draft.Destroy {
		return b.withdraw(ctx, w, in, req, origin)
	}
	change, err := desired.Propose(ctx, w.baseDir, w.cfg, w.cat, req, origin)
	if err != nil {
		in.problems = messages(err)
		log.Info("request invalid", "problems", len(in.problems))
		return b.finish(ctx, w, in, OutcomeInvalid, b.problemText(in, w))
	}
	o, err := b.propose(ctx, w, in, req, change)
	if err == nil {
		log.Info("request synced", "outcome", o, "name", req.Metadata.Name, "blueprint", req.Spec.Blueprint)
	}
	return o, err
}

// judge checks the draft against its blueprint and the repository's teams
// and returns the request record it gives.
func (b *Bot) judge(in *intake, w *work) (*request.Request, error) {
	d := in.draft
	bp, err := w.cat.Get(d.Blueprint)
	if err != nil {
		return nil, &request.FieldError{Field: "spec.blueprint", Msg: fmt.Sprintf("%v; blueprints here: %s", err, strings.Join(catalogNames(w.cat), ", "))}
	}
	var errs []error
	given := make(map[string]any, len(d.Parameters))
	typed := make(map[string]any, len(d.Parameters))
	for k, v := range d.Parameters {
		given[k] = v
		if p := bp.Parameter(k); p != nil {
			if t, err := p.Coerce(v); err == nil {
				typed[k] = t
			}
		}
	}
	if _, err := bp.Resolve(blueprint.Input{Name: d.Name, Namespace: d.Namespace, Environment: d.Environment, Owner: d.Owner, Parameters: given}); err != nil {
		errs = append(errs, err)
	}
	if _, ok := w.cfg.Environment(d.Environment); d.Environment != "" && !ok {
		errs = append(errs, &request.FieldError{Field: "spec.environment", Msg: fmt.Sprintf("unknown environment %q; this repository has %s", d.Environment, strings.Join(w.cfg.EnvironmentNames(), ", "))})
	}
	if len(w.cfg.Teams) > 0 && d.Owner != "" {
		if team, ok := w.cfg.Team(d.Owner); !ok {
			errs = append(errs, &request.FieldError{Field: "spec.owner", Msg: fmt.Sprintf("unknown team %q; teams here: %s", d.Owner, strings.Join(teamNames(w), ", "))})
		} else if d.Namespace != "" && !team.MayUse(d.Namespace) {
			errs = append(errs, &request.FieldError{Field: "spec.namespace", Msg: fmt.Sprintf("team %s may not use namespace %q; it may use %s", team.Name, d.Namespace, strings.Join(team.Namespaces, ", "))})
		}
	}
	r, err := d.Request(typed)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// propose commits the change onto the request's branch, opens or updates its
// pull request, checks it, and tells the issue.
func (b *Bot) propose(ctx context.Context, w *work, in *intake, r *request.Request, c *desired.Change) (Outcome, error) {
	verb, message := "proposes", fmt.Sprintf("Request %s: %s in %s/%s", r.Metadata.Name, r.Spec.Blueprint, r.Spec.Environment, r.Spec.Namespace)
	title := fmt.Sprintf("gitvend: %s (%s) in %s/%s", r.Metadata.Name, r.Spec.Blueprint, r.Spec.Environment, r.Spec.Namespace)
	if c.Rendered == nil {
		verb, message = "removes", fmt.Sprintf("Remove request %s: %s from %s/%s", r.Metadata.Name, r.Spec.Blueprint, r.Spec.Environment, r.Spec.Namespace)
		title = fmt.Sprintf("gitvend: remove %s (%s) from %s/%s", r.Metadata.Name, r.Spec.Blueprint, r.Spec.Environment, r.Spec.Namespace)
	}
	files := make(map[string][]byte, len(c.Files))
	for _, f := range c.Files {
		files[f.Path] = f.Data
	}
	sha, err := w.repo.Commit(ctx, gitrepo.CommitSpec{
		Parent:  w.baseSHA,
		Files:   files,
		Delete:  c.Delete,
		Message: fmt.Sprintf("%s\n\nAsked for in %s#%d by @%s.\n", message, w.full, in.issue.Number, strings.Join(in.people, ", @")),
		Author:  b.opts.Author,
		Time:    in.latest.UTC(),
	})
	if err != nil {
		return "", fmt.Errorf("commit request: %w", err)
	}
	if sha == w.baseSHA {
		return b.finish(ctx, w, in, OutcomeInBranch, mustRender("status.md.tmpl", map[string]any{"InBranch": true, "Name": r.Metadata.Name, "Base": w.branch}))
	}
	branch := branchFor(in.issue.Number)
	fresh := in.pr == nil || in.pr.HeadSHA != sha
	// The push and the checks of the new commit run side by side; the pull
	// request waits for both.
	pushed := make(chan error, 1)
	go func() { pushed <- w.repo.Push(ctx, sha, branch, true) }()
	rep, err := b.checkCommit(ctx, w, sha)
	if perr := <-pushed; perr != nil {
		return "", fmt.Errorf("push %s: %w", branch, perr)
	}
	if err != nil {
		return "", err
	}
	body := mustRender("pr-body.md.tmpl", prBody(w, in, r, c, rep))
	outcome := OutcomeProposed
	var pr github.PullRequest
	switch {
	case in.pr == nil:
		pr, err = w.gh.CreatePR(ctx, w.owner, w.name, github.NewPR{Title: title, Head: branch, Base: w.branch, Body: body})
		if err != nil {
			return "", fmt.Errorf("open pull request: %w", err)
		}
		b.metrics.prs.Inc()
		in.comments[pr.Number] = []github.Comment{} // a new pull request has none
	case in.pr.Title != title || in.pr.Body != body:
		pr, err = w.gh.EditPR(ctx, w.owner, w.name, in.pr.Number, github.PREdit{Title: &title, Body: &body})
		if err != nil {
			return "", fmt.Errorf("edit pull request #%d: %w", in.pr.Number, err)
		}
	default:
		pr = *in.pr
	}
	if !fresh && in.pr.Title == title && in.pr.Body == body {
		outcome = OutcomeCurrent
	}
	if err := b.postChecks(ctx, w, in, pr.Number, sha, rep, !fresh); err != nil {
		return "", err
	}
	status := mustRender("status.md.tmpl", map[string]any{"PR": pr.Number, "Verb": verb, "Name": r.Metadata.Name,
		"Blueprint": r.Spec.Blueprint, "Environment": r.Spec.Environment, "Namespace": r.Spec.Namespace,
		"Passed": rep.Passed, "Cost": cost.FormatMoney(rep.Cost.Currency, rep.Cost.Monthly)})
	return b.finish(ctx, w, in, outcome, status)
}

// withdraw proposes removing the request from the repository.
func (b *Bot) withdraw(ctx context.Context, w *work, in *intake, r *request.Request, origin string) (Outcome, error) {
	change, err := desired.Withdraw(w.baseDir, w.cfg, r, origin)
	switch {
	case errors.Is(err, desired.ErrNotInBranch):
		data := map[string]any{"NotMerged": true, "Name": r.Metadata.Name, "Base": w.branch}
		if in.pr != nil {
			data["KeptPR"] = in.pr.Number
		}
		return b.finish(ctx, w, in, OutcomeInvalid, mustRender("status.md.tmpl", data))
	case err != nil:
		in.problems = messages(err)
		return b.finish(ctx, w, in, OutcomeInvalid, b.problemText(in, w))
	}
	return b.propose(ctx, w, in, r, change)
}

// finish writes the issue's status comment and counts the outcome.
func (b *Bot) finish(ctx context.Context, w *work, in *intake, o Outcome, status string) (Outcome, error) {
	if err := b.say(ctx, w, in, in.issue.Number, markerStatus, status); err != nil {
		return "", fmt.Errorf("status comment: %w", err)
	}
	b.metrics.requests.WithLabelValues(string(o)).Inc()
	if o == OutcomeProposed && in.issue.CreatedAt.Before(b.now()) {
		b.metrics.toPR.Observe(b.now().Sub(in.latest).Seconds())
	}
	return o, nil
}

func (b *Bot) problemText(in *intake, w *work) string {
	data := map[string]any{"Errors": in.problems}
	if in.pr != nil {
		data["KeptPR"] = in.pr.Number
	}
	if in.draft != nil {
		if bp, err := w.cat.Get(in.draft.Blueprint); err == nil {
			data["Allowed"] = allowedText(bp)
		}
	}
	return mustRender("status.md.tmpl", data)
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

// messages splits a joined error into its messages.
func messages(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		out = append(out, e.Error())
	}
	walk(err)
	sort.Strings(out)
	return out
}

func catalogNames(cat *blueprint.Catalog) []string {
	var names []string
	for _, bp := range cat.List() {
		names = append(names, bp.Name)
	}
	return names
}

func teamNames(w *work) []string {
	var names []string
	for _, t := range w.cfg.Teams {
		names = append(names, t.Name)
	}
	return names
}
