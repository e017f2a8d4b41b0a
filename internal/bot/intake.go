package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/request"
)

// Trigger says what woke the bot for an issue, so that it acknowledges it
// and knows what the webhook witnessed.
type Trigger struct {
	// Opened is set when the issue was just opened or labelled: the bot
	// reacts on the issue.
	Opened bool
	// CommentID is the comment whose command woke it: the bot reacts on it.
	CommentID int64
	// ReviewID is the pull request review whose body's command woke it
	// (GitHub has no reactions on reviews).
	ReviewID int64
	// Actor is the webhook's sender: who opened or edited the issue, or
	// wrote or edited the comment.
	Actor string
	// Association is GitHub's author_association of Actor, when the
	// webhook tells it (Actor wrote the issue or comment); "" when not.
	Association string
	// Wrote is what the webhook saw Actor write, nil when nothing.
	Wrote *Witness
}

// facts are what one job read from GitHub about a request issue.
type facts struct {
	issue *github.Issue
	prs   []github.PullRequest // every pull request of the request, newest first
	open  *github.PullRequest  // the open one of prs, nil when none
	// threads are the comments of the issue and of each of prs, by number;
	// reviews are the review bodies of prs, as comments.
	threads map[int]*github.Thread
	reviews []comment
	// form tells whether the issue is a request form.
	form bool
	// inputs are the texts that shape the request, with who answers for
	// each; ledger is what the status comment recorded of them.
	inputs []*input
	ledger ledger
	// perms are the repository permissions of the people who answer for
	// the inputs; assoc their author_association, when GitHub said it.
	perms map[string]string
	assoc map[string]string
}

// intake is a request issue folded into a draft, without I/O: the draft its
// form and commands give, or why there is none, and the replies its
// comments should have.
type intake struct {
	issue    *github.Issue
	pr       *github.PullRequest // the request's open PR, nil when none
	draft    *request.Draft
	form     bool               // the issue is a request form
	people   []string           // who answers for the draft: the form's, then the commands'
	latest   time.Time          // when the newest input the draft used was written
	refusal  *admission.Refusal // set when whoever answers for the form may not ask
	problems []string           // why the draft cannot be rendered
	replies  []reply            // answers to comments: one per comment, or per person refused
	wakes    []wakeAsk          // /provision wake commands, judged by Bot.wake
	perms    map[string]string  // repository permissions, by login
	assoc    map[string]string  // author_association, by login, when known
	threads  map[int]*github.Thread
	// unconfirmed are the inputs edited by someone nobody can name; ledger
	// is what the status comment should record; author wrote the first
	// input, and is asked to confirm.
	unconfirmed []*input
	ledger      ledger
	author      string
	// extends are the request's /provision extend commands, oldest first;
	// expiry is when it expires, when it does.
	extends []extension
	expiry  *expiry
}

// reply is the bot's answer on a thread, kept under its marker: reply-<id>
// for an answer to one comment, refused-<login> for a refusal.
type reply struct {
	number int
	marker string
	body   string
}

// comment is a comment with the issue or pull request it was written on,
// or the body of a pull request review, read as a comment is.
type comment struct {
	github.Comment
	number int
	review bool
}

// key is the comment's key in the ledger and in the marker of its reply.
func (c comment) key() string {
	if c.review {
		return reviewInput(c.ID)
	}
	return commentInput(c.ID)
}

// read reads an issue's pull requests, the comments of the issue and of
// each of them, who answers for each input, and the permissions of those
// people; known holds permissions the job learned already.
func (b *Bot) read(ctx context.Context, w *work, issue *github.Issue, tr Trigger, known map[string]string) (*facts, error) {
	f := &facts{issue: issue, threads: map[int]*github.Thread{}, perms: map[string]string{}, assoc: map[string]string{}}
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
	// Review bodies hold commands as comments do.
	for _, pr := range f.prs {
		rs, err := w.gh.ListReviews(ctx, w.owner, w.name, pr.Number)
		if err != nil {
			return nil, fmt.Errorf("list reviews of #%d: %w", pr.Number, err)
		}
		f.reviews = append(f.reviews, reviewComments(pr.Number, rs)...)
	}
	f.form = isForm(issue, w.cfg.Intake.Label, w.cat)
	f.ledger = statusLedger(f.threads[issue.Number].Comments, b.isOwn)
	f.inputs = attribute(issue, f.form, comments(f.threads, f.reviews...), f.ledger, tr.Wrote, b.isOwn)
	for _, in := range f.inputs {
		// Someone answers for the input, or else its author may.
		login := in.by
		if login == "" || login == in.author {
			login = in.author
			if in.association != "" {
				f.assoc[login] = in.association
			}
		}
		if _, asked := f.perms[login]; asked {
			continue
		}
		if perm, ok := known[login]; ok {
			f.perms[login] = perm
		} else if !admission.Stranger(w.cfg, f.assoc[login]) {
			if f.perms[login], err = b.permission(ctx, w, login); err != nil {
				return nil, err
			}
		}
		if f.form && in.key == issueInput && in.by != "" && admission.Authorize(w.cfg, f.person(login)) != nil {
			break // whoever answers for the form is refused: no command counts
		}
	}
	return f, nil
}

// person is login with what GitHub said about them.
func (f *facts) person(login string) admission.Person {
	return admission.Person{Login: login, Association: f.assoc[login], Permission: f.perms[login]}
}

// reviewComments are the reviews of pull request number as comments. A
// review shows no edit time: its body answers to its reviewer until the
// ledger records it, and to the ledger after.
func reviewComments(number int, rs []github.Review) []comment {
	out := make([]comment, 0, len(rs))
	for _, r := range rs {
		if strings.TrimSpace(r.Body) == "" {
			continue
		}
		out = append(out, comment{Comment: github.Comment{ID: r.ID, User: r.User, AuthorAssociation: r.AuthorAssociation,
			Body: r.Body, HTMLURL: r.HTMLURL, CreatedAt: r.SubmittedAt, UpdatedAt: r.SubmittedAt}, number: number, review: true})
	}
	return out
}

// comments are the comments of every thread, and the reviews given, oldest
// first.
func comments(threads map[int]*github.Thread, reviews ...comment) []comment {
	all := append([]comment{}, reviews...)
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
// form (when the issue is one and whoever answers for it may ask) and then
// every command of someone who may ask, oldest first, fold into a draft;
// each input counts as the request of whoever answers for it. Commands that
// cannot be read, or that come from someone who may not ask, change nothing
// and get a reply instead. Inputs nobody answers for are left out; the
// caller applies nothing while there are any.
func (b *Bot) fold(w *work, f *facts) *intake {
	issue := f.issue
	in := &intake{issue: issue, pr: f.open, form: f.form, latest: issue.CreatedAt, perms: f.perms, assoc: f.assoc, threads: f.threads}
	may := func(login string) bool { return admission.Authorize(w.cfg, in.person(login)) == nil }
	in.unconfirmed = settle(f.inputs, may)
	in.ledger = record(f.inputs, f.ledger, may)
	if len(f.inputs) > 0 {
		in.author = f.inputs[0].author
	}
	for _, input := range f.inputs {
		if input.by == "" {
			continue
		}
		if input.comment == nil {
			if !f.form {
				continue
			}
			if r := admission.Authorize(w.cfg, in.person(input.by)); r != nil {
				in.refusal = r
				return in
			}
			d, err := formDraft(issue, request.BlueprintFromTitle(issue.Title), w.cat)
			if err != nil {
				in.problems = append(in.problems, err.Error())
			}
			in.draft = d
			in.people = append(in.people, input.by)
			continue
		}
		b.foldComment(w, in, *input.comment, input.by)
	}
	return in
}

// foldComment folds the commands of one comment, which by answers for,
// into the draft. A comment with any command that cannot be read, or that
// names a verb, blueprint, parameter or environment the repository does
// not know, changes nothing and gets a reply saying why (and what was
// probably meant), so that a typo never replaces the request and a
// corrected command written later applies to the request as it was.
func (b *Bot) foldComment(w *work, in *intake, c comment, by string) {
	cmds, errs := request.ParseCommands(c.Body)
	if len(cmds)+len(errs) == 0 {
		return
	}
	if r := admission.Authorize(w.cfg, in.person(by)); r != nil {
		in.refuse(c.number, r)
		return
	}
	place := in.place(b, c.number)
	usage := request.Usage(place)
	if place == request.BotIssue {
		in.reply(c, replyData{Help: true, Usage: usage}.render())
		return
	}
	current := ""
	if in.draft != nil {
		current = in.draft.Blueprint
	}
	v := vocabulary(w)
	for _, cmd := range cmds {
		errs = append(errs, v.Check(cmd, place, current)...)
		if cmd.Verb == request.Create {
			current = cmd.Blueprint
		}
	}
	if len(errs) > 0 {
		in.reply(c, replyData{User: by, Errors: replyErrors(errs), Usage: usage}.render())
		return
	}
	for _, cmd := range cmds {
		switch cmd.Verb {
		case request.Help:
			in.reply(c, replyData{Help: true, Usage: usage}.render())
			continue
		case request.Extend:
			in.extend(c, cmd, by, usage)
			continue
		case request.ConfirmPrune:
			continue // confirms the pull request's prune (confirm.go), not the request
		case request.ApplyNow:
			continue // applies the merged pull request at once (applynow.go), not the request
		case request.Set:
			if in.draft == nil {
				in.reply(c, replyData{User: by, Usage: usage,
					Errors: []string{fmt.Sprintf("line %d: there is no request to change yet; start one with `/provision <blueprint> key=value …`", cmd.Line)}}.render())
				return
			}
		case request.Create:
			in.draft = &request.Draft{}
			in.people = nil
			in.problems = nil
		case request.Wake:
			in.wakes = append(in.wakes, wakeAsk{c: c, by: by, cmd: cmd})
			continue
		case request.Destroy:
			if in.draft == nil {
				in.reply(c, replyData{User: by, Usage: usage,
					Errors: []string{fmt.Sprintf("line %d: there is no request here to remove", cmd.Line)}}.render())
				return
			}
		}
		if in.draft != nil {
			in.draft.Apply(cmd)
			in.people = appendUnique(in.people, by)
			if c.CreatedAt.After(in.latest) {
				in.latest = c.CreatedAt
			}
		}
	}
}

// place is where a comment on thread number was written: the request's
// pull request, an issue the bot opened itself (a drift issue), the
// request issue, or an issue without a request yet.
func (in *intake) place(b *Bot, number int) request.Place {
	switch {
	case number != in.issue.Number:
		return request.RequestPR
	case b.isOwn(in.issue.User):
		return request.BotIssue
	case in.draft != nil:
		return request.RequestIssue
	default:
		return request.NewIssue
	}
}

// vocabulary is what commands may name in the job's repository.
func vocabulary(w *work) request.Vocabulary {
	v := request.Vocabulary{Parameters: func(bp string) []string {
		blue, err := w.cat.Get(bp)
		if err != nil {
			return nil
		}
		return blue.ParameterNames()
	}}
	for _, blue := range w.cat.List() {
		v.Blueprints = append(v.Blueprints, blue.Name)
	}
	for _, e := range w.cfg.Environments {
		v.Environments = append(v.Environments, e.Name)
	}
	return v
}

// replyErrors are the problems of a comment's commands as a reply lists
// them: the command as written in a code span, since a comment is
// Markdown and the command is whatever its writer typed.
func replyErrors(errs []error) []string {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		var fe *field.Error
		if errors.As(err, &fe) && fe.Line > 0 {
			msgs[i] = fmt.Sprintf("line %d, %s: %s", fe.Line, request.Code(fe.Field), fe.Msg)
			continue
		}
		msgs[i] = request.Code(err.Error())
	}
	return msgs
}

// reply sets the answer to comment c; a later answer to the same comment
// replaces an earlier one.
func (in *intake) reply(c comment, body string) {
	marker := fmt.Sprintf("reply-%d", c.ID)
	if c.review {
		marker = "reply-" + c.key()
	}
	in.keep(c.number, marker, body)
}

// refuse sets the one reply on thread number refusing r.User, whatever
// they wrote there and however often.
func (in *intake) refuse(number int, r *admission.Refusal) {
	in.keep(number, refusedMarker(r.User), refusalText(r))
}

func (in *intake) keep(number int, marker, body string) {
	for i := range in.replies {
		if in.replies[i].number == number && in.replies[i].marker == marker {
			in.replies[i].body = body
			return
		}
	}
	in.replies = append(in.replies, reply{number: number, marker: marker, body: body})
}

// person is login with what GitHub said about them.
func (in *intake) person(login string) admission.Person {
	return admission.Person{Login: login, Association: in.assoc[login], Permission: in.perms[login]}
}

// may tells whether login may make requests, by what the job learned.
func (in *intake) may(w *work, login string) bool {
	if _, known := in.perms[login]; !known && in.assoc[login] == "" {
		return false
	}
	return admission.Authorize(w.cfg, in.person(login)) == nil
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
