package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/blueprint"
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

// facts are what one job read from GitHub about a request issue.
type facts struct {
	issue *github.Issue
	prs   []github.PullRequest // every pull request of the request, newest first
	open  *github.PullRequest  // the open one of prs, nil when none
	// threads are the comments of the issue and of each of prs, by number.
	threads map[int]*github.Thread
	// perms are the repository permissions of the people who asked.
	perms map[string]string
}

// intake is a request issue folded into a draft, without I/O: the draft its
// form and commands give, or why there is none, and the replies its
// comments should have.
type intake struct {
	issue    *github.Issue
	pr       *github.PullRequest // the request's open PR, nil when none
	draft    *request.Draft
	people   []string           // who shaped the draft: the form's author, then commanders
	latest   time.Time          // when the newest input the draft used was written
	refusal  *admission.Refusal // set when the form's author may not ask
	problems []string           // why the draft cannot be rendered
	replies  []reply            // answers to comments, one per comment
	perms    map[string]string  // repository permissions, by login
	threads  map[int]*github.Thread
}

// reply is the bot's answer to one comment, kept on the comment's thread
// under the marker reply-<comment id>.
type reply struct {
	number int
	marker string
	body   string
}

// comment is a comment with the issue or pull request it was written on.
type comment struct {
	github.Comment
	number int
}

// read reads an issue's pull requests, the comments of the issue and of
// each of them, and the permissions of the people who asked in them.
func (b *Bot) read(ctx context.Context, w *work, issue *github.Issue) (*facts, error) {
	f := &facts{issue: issue, threads: map[int]*github.Thread{}, perms: map[string]string{}}
	// Every pull request the request ever had (merged or closed ones too)
	// holds commands that shaped it.
	var err error
	if f.prs, f.open, err = b.onePR.find(ctx, w, issue.Number); err != nil {
		return nil, err
	}
	numbers := []int{issue.Number}
	for _, pr := range f.prs {
		numbers = append(numbers, pr.Number)
	}
	for _, n := range numbers {
		cs, err := w.gh.ListComments(ctx, w.owner, w.name, n)
		if err != nil {
			return nil, fmt.Errorf("list comments of #%d: %w", n, err)
		}
		f.threads[n] = &github.Thread{Number: n, Comments: cs}
	}
	logins, form := b.askers(w, issue, comments(f.threads))
	for i, login := range logins {
		perm, err := w.gh.Permission(ctx, w.owner, w.name, login)
		if err != nil {
			return nil, fmt.Errorf("permission of %s: %w", login, err)
		}
		f.perms[login] = perm
		if i == 0 && form && admission.Authorize(w.cfg, admission.Person{Login: login, Permission: perm}) != nil {
			break // the form's author is refused: no command counts
		}
	}
	return f, nil
}

// askers are the people whose permission the intake needs, in order: the
// form's author when the issue is a request form (form true), then the
// authors of comments with commands.
func (b *Bot) askers(w *work, issue *github.Issue, all []comment) ([]string, bool) {
	var logins []string
	form := request.BlueprintFromTitle(issue.Title) != "" && hasLabel(issue, w.cfg.Intake.Label)
	if form {
		logins = append(logins, issue.User)
	}
	for _, c := range all {
		if b.commands(c) {
			logins = appendUnique(logins, c.User)
		}
	}
	return logins, form
}

// commands tells whether c is someone's comment with commands, readable or
// not, rather than the bot's own or one without any.
func (b *Bot) commands(c comment) bool {
	if b.isOwn(c.User) || strings.Contains(c.Body, markerPrefix) {
		return false
	}
	cmds, errs := request.ParseCommands(c.Body)
	return len(cmds)+len(errs) > 0
}

// comments are the comments of every thread, oldest first.
func comments(threads map[int]*github.Thread) []comment {
	var all []comment
	for n, t := range threads {
		for _, c := range t.Comments {
			all = append(all, comment{Comment: c, number: n})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	return all
}

// fold works out the request an issue asks for from what read found: the
// form (when the issue is one and its author may ask) and then every
// command of someone who may ask, oldest first, fold into a draft.
// Commands that cannot be read, or that come from someone who may not
// ask, change nothing and get a reply instead.
func (b *Bot) fold(w *work, f *facts) *intake {
	issue := f.issue
	in := &intake{issue: issue, pr: f.open, latest: issue.CreatedAt, perms: f.perms, threads: f.threads}
	if bp := request.BlueprintFromTitle(issue.Title); bp != "" && hasLabel(issue, w.cfg.Intake.Label) {
		if r := admission.Authorize(w.cfg, in.person(issue.User)); r != nil {
			in.refusal = r
			return in
		}
		d, err := formDraft(issue, bp, w.cat)
		if err != nil {
			in.problems = append(in.problems, err.Error())
		}
		in.draft = d
		in.people = append(in.people, issue.User)
	}
	for _, c := range comments(f.threads) {
		if b.commands(c) {
			b.foldComment(w, in, c)
		}
	}
	return in
}

// foldComment folds the commands of one comment into the draft. A comment
// with any unreadable command changes nothing and gets a reply saying why.
func (b *Bot) foldComment(w *work, in *intake, c comment) {
	cmds, errs := request.ParseCommands(c.Body)
	if r := admission.Authorize(w.cfg, in.person(c.User)); r != nil {
		in.reply(c, refusalText(r))
		return
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		in.reply(c, replyData{User: c.User, Errors: msgs, Usage: request.Usage}.render())
		return
	}
	for _, cmd := range cmds {
		switch cmd.Verb {
		case request.Help:
			in.reply(c, replyData{Help: true, Usage: request.Usage}.render())
			continue
		case request.Set:
			if in.draft == nil {
				in.reply(c, replyData{User: c.User, Usage: request.Usage,
					Errors: []string{fmt.Sprintf("line %d: there is no request to change yet; start one with /provision <blueprint> key=value …", cmd.Line)}}.render())
				return
			}
		case request.Create:
			in.draft = &request.Draft{}
			in.people = nil
			in.problems = nil
		case request.Destroy:
			if in.draft == nil {
				in.reply(c, replyData{User: c.User, Usage: request.Usage,
					Errors: []string{fmt.Sprintf("line %d: there is no request here to remove", cmd.Line)}}.render())
				return
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
}

// reply sets the answer to comment c; a later answer to the same comment
// replaces an earlier one.
func (in *intake) reply(c comment, body string) {
	marker := fmt.Sprintf("reply-%d", c.ID)
	for i := range in.replies {
		if in.replies[i].marker == marker {
			in.replies[i].body = body
			return
		}
	}
	in.replies = append(in.replies, reply{number: c.number, marker: marker, body: body})
}

// person is login with the permission GitHub reported.
func (in *intake) person(login string) admission.Person {
	return admission.Person{Login: login, Permission: in.perms[login]}
}

// admissionInput is the draft and the people who shaped it, for
// admission.
func (in *intake) admissionInput(w *work) admission.Input {
	people := make([]admission.Person, len(in.people))
	for i, login := range in.people {
		people[i] = in.person(login)
	}
	return admission.Input{Config: w.cfg, Catalog: w.cat, Draft: in.draft, People: people}
}

// formDraft reads the issue form of blueprint bp from the issue body.
func formDraft(issue *github.Issue, bp string, cat *blueprint.Catalog) (*request.Draft, error) {
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
