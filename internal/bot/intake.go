package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/request"
)

// Trigger says what woke the bot for an issue, so that it acknowledges it.
type Trigger struct {
	// Opened is set when the issue was just opened or labelled: the bot
	// reacts on the issue.
	Opened bool
	// CommentID is the comment whose command woke it: the bot reacts on it.
	CommentID int64
}

// thread is a comment with the issue or pull request it was written on.
type thread struct {
	github.Comment
	number int
}

// intake is one request issue read and judged: the draft its form and
// commands give, or why there is none.
type intake struct {
	issue    *github.Issue
	pr       *github.PullRequest // the request's open PR, nil when none
	draft    *request.Draft
	people   []string  // who shaped the draft: the form's author, then commanders
	latest   time.Time // when the newest input the draft used was written
	refusal  string    // set when someone without permission asked
	problems []string  // why the draft cannot be rendered
	// comments are the comments listed of the issue and its PR, by number,
	// so that the bot's own comments are found without listing again.
	comments map[int][]github.Comment
}

// gather reads an issue, its comments and those of its PR, and folds the
// form and every authorized command into a draft. Commands it cannot read
// and people it must refuse get a reply on their comment.
func (b *Bot) gather(ctx context.Context, w *work, issue *github.Issue, cat *blueprint.Catalog) (*intake, error) {
	in := &intake{issue: issue, latest: issue.CreatedAt, comments: map[int][]github.Comment{}}
	// Every pull request the request ever had (merged or closed ones too)
	// holds commands that shaped it.
	prs, err := w.gh.ListPRsByHead(ctx, w.owner, w.name, branchFor(issue.Number))
	if err != nil {
		return nil, fmt.Errorf("find pull requests: %w", err)
	}
	numbers := []int{issue.Number}
	for i := range prs {
		numbers = append(numbers, prs[i].Number)
		if prs[i].State == "open" && in.pr == nil {
			in.pr = &prs[i]
		}
	}
	comments, err := b.threads(ctx, w, in, numbers)
	if err != nil {
		return nil, err
	}
	if bp := request.BlueprintFromTitle(issue.Title); bp != "" && hasLabel(issue, w.cfg.Intake.Label) {
		if ok, err := b.authorize(ctx, w, issue.User); err != nil {
			return nil, err
		} else if !ok {
			in.refusal = b.refusalText(w, issue.User)
			return in, nil
		}
		d, err := b.formDraft(issue, bp, cat)
		if err != nil {
			in.problems = append(in.problems, err.Error())
		}
		in.draft = d
		in.people = append(in.people, issue.User)
	}
	for _, c := range comments {
		if err := b.applyComment(ctx, w, in, c); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// threads lists the comments of the issue and its pull requests, oldest
// first.
func (b *Bot) threads(ctx context.Context, w *work, in *intake, numbers []int) ([]thread, error) {
	var all []thread
	for _, n := range numbers {
		cs, err := w.gh.ListComments(ctx, w.owner, w.name, n)
		if err != nil {
			return nil, fmt.Errorf("list comments of #%d: %w", n, err)
		}
		in.comments[n] = cs
		for _, c := range cs {
			all = append(all, thread{Comment: c, number: n})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	return all, nil
}

// applyComment folds the commands of one comment into the draft. A comment
// with any unreadable command changes nothing and gets a reply saying why.
func (b *Bot) applyComment(ctx context.Context, w *work, in *intake, c thread) error {
	if b.isOwn(c.User) || strings.Contains(c.Body, markerPrefix) {
		return nil
	}
	cmds, errs := request.ParseCommands(c.Body)
	if len(cmds)+len(errs) == 0 {
		return nil
	}
	ok, err := b.authorize(ctx, w, c.User)
	if err != nil {
		return err
	}
	if !ok {
		return b.reply(ctx, w, in, c, mustRender("refusal.md.tmpl", map[string]any{"User": c.User, "Reason": b.refusalReason(w)}))
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return b.reply(ctx, w, in, c, mustRender("reply.md.tmpl", map[string]any{"User": c.User, "Errors": msgs, "Usage": request.Usage}))
	}
	for _, cmd := range cmds {
		switch cmd.Verb {
		case request.Help:
			if err := b.reply(ctx, w, in, c, mustRender("reply.md.tmpl", map[string]any{"Help": true, "Usage": request.Usage})); err != nil {
				return err
			}
			continue
		case request.Set:
			if in.draft == nil {
				return b.reply(ctx, w, in, c, mustRender("reply.md.tmpl", map[string]any{"User": c.User,
					"Errors": []string{fmt.Sprintf("line %d: there is no request to change yet; start one with /provision <blueprint> key=value …", cmd.Line)}, "Usage": request.Usage}))
			}
		case request.Create:
			in.draft = &request.Draft{}
			in.people = nil
			in.problems = nil
		case request.Destroy:
			if in.draft == nil {
				return b.reply(ctx, w, in, c, mustRender("reply.md.tmpl", map[string]any{"User": c.User,
					"Errors": []string{fmt.Sprintf("line %d: there is no request here to remove", cmd.Line)}, "Usage": request.Usage}))
			}
		}
		if in.draft != nil {
			in.draft.Apply(cmd)
			in.people = appendUnique(in.people, c.User)
			if c.CreatedAt.After(in.latest) {
				in.latest = c.CreatedAt
			}
		}
	}
	return nil
}

// formDraft reads the issue form of blueprint bp from the issue body.
func (b *Bot) formDraft(issue *github.Issue, bp string, cat *blueprint.Catalog) (*request.Draft, error) {
	blue, err := cat.Get(bp)
	if err != nil {
		return &request.Draft{Blueprint: bp, Parameters: map[string]string{}}, fmt.Errorf("spec.blueprint: %w", err)
	}
	sections, err := request.FormSections(issue.Body)
	if err != nil {
		return &request.Draft{Blueprint: bp, Parameters: map[string]string{}}, err
	}
	var fields []request.FormField
	for _, f := range blueprint.FormFields(blue) {
		fields = append(fields, request.FormField{Label: f.Label, Key: f.Key})
	}
	return request.DraftFromForm(bp, sections, fields)
}

// authorize tells whether user has the permission the repository asks of
// requesters.
func (b *Bot) authorize(ctx context.Context, w *work, user string) (bool, error) {
	if ok, seen := w.allowed[user]; seen {
		return ok, nil
	}
	perm, err := w.gh.Permission(ctx, w.owner, w.name, user)
	if err != nil {
		return false, fmt.Errorf("permission of %s: %w", user, err)
	}
	ok := config.PermissionAtLeast(perm, w.cfg.Intake.Permission)
	w.allowed[user] = ok
	return ok, nil
}

func (b *Bot) refusalReason(w *work) string {
	return fmt.Sprintf("requests in this repository need %s permission or more.", w.cfg.Intake.Permission)
}

func (b *Bot) refusalText(w *work, user string) string {
	return mustRender("refusal.md.tmpl", map[string]any{"User": user, "Reason": b.refusalReason(w)})
}

// allowEnvironment checks that everyone who shaped the draft belongs to a
// team the draft's environment admits, when it names any.
func (b *Bot) allowEnvironment(ctx context.Context, w *work, in *intake) (string, error) {
	env, ok := w.cfg.Environment(in.draft.Environment)
	if !ok || len(env.Teams) == 0 {
		return "", nil
	}
	for _, user := range in.people {
		member := false
		for _, team := range env.Teams {
			ok, err := w.gh.IsTeamMember(ctx, w.owner, team, user)
			if err != nil {
				return "", fmt.Errorf("team %s membership of %s: %w", team, user, err)
			}
			if ok {
				member = true
				break
			}
		}
		if !member {
			return mustRender("refusal.md.tmpl", map[string]any{"User": user,
				"Reason": fmt.Sprintf("only members of %s may request things in %s.", strings.Join(env.Teams, ", "), env.Name)}), nil
		}
	}
	return "", nil
}

// reply answers one comment, on the thread it was written in, once: the
// answer is kept under a marker of that comment and edited in place.
func (b *Bot) reply(ctx context.Context, w *work, in *intake, c thread, body string) error {
	if err := b.say(ctx, w, in, c.number, fmt.Sprintf("reply-%d", c.ID), body); err != nil {
		return fmt.Errorf("reply to comment %d: %w", c.ID, err)
	}
	b.metrics.replies.Inc()
	return nil
}

// say keeps the bot's one comment with marker on issue or PR number: it is
// created once and edited in place when body changes. When the job listed
// the thread's comments already, they are used instead of listing again.
func (b *Bot) say(ctx context.Context, w *work, in *intake, number int, marker, body string) error {
	known, listed := in.comments[number]
	if !listed {
		_, err := w.gh.UpsertComment(ctx, w.owner, w.name, number, marker, body)
		return err
	}
	tag := github.Marker(marker)
	if !strings.Contains(body, tag) {
		body = strings.TrimRight(body, "\n") + "\n\n" + tag
	}
	for i, c := range known {
		if !b.isOwn(c.User) || !strings.Contains(c.Body, tag) {
			continue
		}
		if c.Body == body {
			return nil
		}
		if err := w.gh.EditComment(ctx, w.owner, w.name, c.ID, body); err != nil {
			return err
		}
		known[i].Body = body
		return nil
	}
	id, err := w.gh.CreateComment(ctx, w.owner, w.name, number, body)
	if err != nil {
		return err
	}
	in.comments[number] = append(known, github.Comment{ID: id, User: b.opts.Login, Body: body})
	return nil
}

func hasLabel(issue *github.Issue, label string) bool {
	for _, l := range issue.Labels {
		if strings.EqualFold(l, label) {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}
