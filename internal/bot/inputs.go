package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/request"
)

// Whose is each text that shapes a request? GitHub's REST objects name the
// author of an issue or comment but not who last edited it, and anyone
// with write access may edit another person's text. So the bot keeps, in a
// hidden line of its status comment on the request issue (the ledger), a
// short hash of every input it judged (the request form, each comment with
// commands) and who answers for it. An input answers to
//
//   - the person a webhook names for exactly its current text: the opener
//     of the issue, the writer of a comment, or the sender of an edit
//     (the witness of the job);
//   - else the person the ledger names, while the text is the one recorded;
//   - else its author, while it was never edited since it was written;
//   - else nobody: an edit no webhook named and the ledger does not know.
//     Such an input is not applied (the request stays as last accepted)
//     until someone who may ask confirms the request as it reads now with
//     a new /provision rerender, and so answers for it. An unconfirmed
//     input whose author may not ask is left to that author: it could not
//     count anyway.

// issueInput is the ledger's key of the request form; a comment's is
// commentInput(id).
const issueInput = "issue"

func commentInput(id int64) string { return fmt.Sprintf("c%d", id) }

// reviewInput is the ledger's key of a pull request review's body. GitHub
// numbers reviews apart from comments, so their keys differ.
func reviewInput(id int64) string { return fmt.Sprintf("r%d", id) }

// markerInputs starts the ledger line in the status comment.
const markerInputs = "<!-- gitvend:inputs"

// textHash is the short hash of a text the ledger records.
func textHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// issueText is what an issue's input is: the title, which names the
// blueprint of a form, and the body.
func issueText(title, body string) string { return title + "\n" + body }

// Witness is what a webhook saw: Login left Text as the whole of an input
// (the issue's title and body, or a comment's body).
type Witness struct {
	// CommentID is the comment written or edited; 0 for the issue.
	CommentID int64
	// ReviewID is the pull request review submitted, instead of a comment.
	ReviewID int64
	// Login is the webhook's sender: the opener, writer or editor.
	Login string
	// Text is the input as the webhook carried it: the comment's body, or
	// the issue's title and body, joined by a newline.
	Text string
}

func (w *Witness) key() string {
	if w.ReviewID != 0 {
		return reviewInput(w.ReviewID)
	}
	if w.CommentID != 0 {
		return commentInput(w.CommentID)
	}
	return issueInput
}

// entry is the ledger's record of one input.
type entry struct {
	hash  string
	login string
}

// ledger maps inputs to their records.
type ledger map[string]entry

// parseLedger reads the ledger of the bot's status comment body. Only the
// last ledger line counts: what comes before it may quote what people
// wrote.
func parseLedger(body string) ledger {
	l := ledger{}
	i := strings.LastIndex(body, markerInputs)
	if i < 0 {
		return l
	}
	rest := body[i+len(markerInputs):]
	end := strings.Index(rest, "-->")
	if end < 0 {
		return l
	}
	for _, f := range strings.Fields(rest[:end]) {
		key, rec, ok := strings.Cut(f, "=")
		hash, login, ok2 := strings.Cut(rec, ":")
		if ok && ok2 && key != "" && hash != "" && login != "" {
			l[key] = entry{hash: hash, login: login}
		}
	}
	return l
}

// String is the ledger line, its inputs in order.
func (l ledger) String() string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString(markerInputs)
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s=%s:%s", k, l[k].hash, l[k].login)
	}
	sb.WriteString(" -->")
	return sb.String()
}

// input is one text that shapes a request, and who answers for it.
type input struct {
	key     string
	comment *comment // nil for the issue
	author  string
	// association is GitHub's author_association of author.
	association string
	hash        string
	// by answers for the input; "" while nobody does (unconfirmed).
	by string
	// rerender is set on a comment whose commands include /provision
	// rerender and that the ledger has not recorded yet: it may confirm
	// the unconfirmed inputs.
	rerender bool
}

// attribute lists the inputs of a request issue, oldest first: the form
// (when form is set) and every comment with commands or in the ledger, and
// says who answers for each, from the ledger l and the webhook's witness w
// (nil when none). Unconfirmed inputs have an empty by.
func attribute(issue *github.Issue, form bool, all []comment, l ledger, w *Witness, own func(string) bool) []*input {
	var out []*input
	witnessed := func(key, hash string) string {
		if w != nil && w.key() == key && textHash(w.Text) == hash {
			return w.Login
		}
		return ""
	}
	if form {
		in := &input{key: issueInput, author: issue.User, association: issue.AuthorAssociation,
			hash: textHash(issueText(issue.Title, issue.Body))}
		rec, recorded := l[issueInput]
		switch {
		case witnessed(issueInput, in.hash) != "":
			in.by = witnessed(issueInput, in.hash)
		case recorded && rec.hash == in.hash:
			in.by = rec.login
		case recorded:
			// Edited since it was judged; nobody named.
		case w != nil && w.key() == issueInput:
			// A webhook saw another text: edited since, by nobody named.
		default:
			in.by = issue.User // first seen
		}
		out = append(out, in)
	}
	for i := range all {
		c := &all[i]
		key := c.key()
		rec, recorded := l[key]
		cmds, errs := request.ParseCommands(c.Body)
		if own(c.User) || strings.Contains(c.Body, markerPrefix) || (len(cmds)+len(errs) == 0 && !recorded) {
			continue
		}
		in := &input{key: key, comment: c, author: c.User, association: c.AuthorAssociation, hash: textHash(c.Body)}
		switch {
		case witnessed(key, in.hash) != "":
			in.by = witnessed(key, in.hash)
		case recorded && rec.hash == in.hash:
			in.by = rec.login
		case recorded || c.UpdatedAt.After(c.CreatedAt):
			// Edited since it was judged or written; nobody named.
		default:
			in.by = c.User
		}
		in.rerender = !recorded && slices.ContainsFunc(cmds, func(cmd request.Command) bool { return cmd.Verb == request.Rerender })
		out = append(out, in)
	}
	return out
}

// settle decides who answers for the unconfirmed inputs, given may (whether
// a login may ask): an input whose author may not ask is the author's, and
// a new /provision rerender of someone who may ask, written after an input
// was last edited (for a comment; any for the form), makes its writer
// answer for it. It returns the inputs still unconfirmed.
func settle(ins []*input, may func(login string) bool) []*input {
	var open []*input
	for _, in := range ins {
		if in.by != "" {
			continue
		}
		if !may(in.author) {
			in.by = in.author
			continue
		}
		for _, r := range ins {
			if !r.rerender || r.by == "" || r == in || !may(r.by) {
				continue
			}
			if in.comment == nil || !in.comment.UpdatedAt.After(r.comment.CreatedAt) {
				in.by = r.by
				break
			}
		}
		if in.by == "" {
			open = append(open, in)
		}
	}
	return open
}

// record is the ledger after a job: every input someone who may ask
// answers for, and the old records of those still unconfirmed. The inputs
// of people who may not ask never count, whoever wrote them: recording
// them would only let them fill the status comment.
func record(ins []*input, old ledger, may func(login string) bool) ledger {
	l := ledger{}
	for _, in := range ins {
		switch {
		case in.by != "" && may(in.by):
			l[in.key] = entry{hash: in.hash, login: in.by}
		case in.by != "":
		default:
			if rec, ok := old[in.key]; ok {
				l[in.key] = rec
			}
		}
	}
	return l
}

// statusLedger finds the ledger in the bot's status comment among cs, the
// request issue's comments.
func statusLedger(cs []github.Comment, own func(string) bool) ledger {
	tag := github.Marker(markerStatus)
	for _, c := range cs {
		if own(c.User) && strings.Contains(c.Body, tag) {
			return parseLedger(c.Body)
		}
	}
	return ledger{}
}
