package rollout

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"text/template"

	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// DriftLabel marks drift issues.
const DriftLabel = "gitvend-drift"

// How a drift issue body shows long lists: the first objects and the
// first fields of each, the rest collapsed; an object's section is held
// within objectBudget so that one object cannot crowd out the others.
const (
	shownObjects = 40
	shownChanges = 25
	objectBudget = 8000
)

// DriftTitle is the stable title of a target's drift issue, within
// GitHub's limit on titles.
func DriftTitle(target string) string {
	return textbudget.Line("Drift on target "+target, textbudget.Chars(github.MaxTitle))
}

//go:embed templates/drift.md.tmpl
var templateFS embed.FS

// driftTemplate renders a drift report as an issue body; it is parsed once
// and never changed.
var driftTemplate = template.Must(template.New("drift.md.tmpl").Funcs(template.FuncMap{
	"code":    code,
	"value":   orAbsent,
	"hidden":  hidden,
	"changed": changedHidden,
	"text":    func(s string) string { return strings.ReplaceAll(s, "\n", " ") },
	"ref":     objectRef,
}).ParseFS(templateFS, "templates/drift.md.tmpl"))

// objectRef names an object as object= takes it: Kind/namespace/name.
func objectRef(id manifest.ID) string {
	return request.ObjectRef{Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}.String()
}

// code writes s as a Markdown code span that is safe inside a table cell.
func code(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || len(fence) > 1 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

func orAbsent(s string) string {
	if s == "" {
		return "_(absent)_"
	}
	return code(s)
}

// hidden shows the fingerprint of a value the drift report hides.
func hidden(s string) string {
	if s == "" {
		return orAbsent(s)
	}
	return "_hidden_ " + code(s)
}

// changedHidden shows the live side of a hidden change, marked changed
// since the reader cannot compare the values.
func changedHidden(s string) string {
	if s == "" {
		return orAbsent(s)
	}
	return "**changed**, " + hidden(s)
}

// driftBody renders a drift report as the body of the target's drift
// issue: per object, a table of the fields that differ with Git's and the
// live value, within GitHub's limit on bodies (see textbudget). The same
// report always gives the same text.
func driftBody(d *reconcile.DriftReport) (string, error) {
	var doc textbudget.Doc
	var head, foot bytes.Buffer
	if err := driftTemplate.ExecuteTemplate(&head, "head", d); err != nil {
		return "", fmt.Errorf("render drift report: %w", err)
	}
	doc.Text(head.String())
	hidden := false
	var objects []string
	for _, o := range d.Objects {
		var buf bytes.Buffer
		if err := driftTemplate.ExecuteTemplate(&buf, "object", o); err != nil {
			return "", fmt.Errorf("render drift of %s: %w", o.ID, err)
		}
		shown := textbudget.Fit(buf.String(), textbudget.Chars(objectBudget), textbudget.Options{Shown: shownChanges, Where: "the cluster itself", Noun: "fields"})
		objects = append(objects, shown)
		for _, c := range o.Changes {
			hidden = hidden || c.Hidden
		}
	}
	doc.Add(textbudget.List{Rows: objects, Noun: "objects"})
	if err := driftTemplate.ExecuteTemplate(&foot, "foot", struct{ Hidden bool }{hidden}); err != nil {
		return "", fmt.Errorf("render drift report: %w", err)
	}
	doc.Text(foot.String())
	return doc.Fit(driftBodyLimit, textbudget.Options{Shown: shownObjects,
		Where: "the status page, or `gitvend drift` against the target"}), nil
}

// driftBodyLimit is GitHub's limit on an issue body.
var driftBodyLimit = textbudget.Chars(github.MaxBody)

// issueTracker keeps one issue per title.
type issueTracker interface {
	// OpenOrUpdate opens an issue with title and body, or sets the body of
	// the open issue with that title, and returns its number.
	OpenOrUpdate(ctx context.Context, title, body string) (int, error)
	// Resolve closes the open issue with title, if any, after commenting.
	Resolve(ctx context.Context, title, comment string) error
}

// driftIssue keeps the drift issue of one target up to date: opened when
// drift appears, its body edited in place when the drift changes, closed
// with a comment when the drift is gone. It calls the tracker only when
// something changed since its last call. It is safe for concurrent use.
type driftIssue struct {
	tracker issueTracker
	log     *slog.Logger

	mu     sync.Mutex
	known  bool // whether the tracker has been brought in line once
	open   bool
	body   string
	number int // the open issue's number, 0 when not known
}

// openNumber tells whether the drift issue may be open, and its number
// when known (0 when it must be looked up).
func (d *driftIssue) openNumber() (int, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.known {
		return 0, true
	}
	return d.number, d.open
}

// newDriftIssue returns a driftIssue that reports through tracker.
func newDriftIssue(tracker issueTracker, logger *slog.Logger) *driftIssue {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &driftIssue{tracker: tracker, log: logger}
}

// Report brings the target's drift issue in line with rep.
func (d *driftIssue) Report(ctx context.Context, rep *reconcile.DriftReport) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	title := DriftTitle(rep.Target)
	if !rep.HasDrift() {
		if d.known && !d.open {
			return nil
		}
		comment := fmt.Sprintf("The live objects on target %s match Git again", rep.Target)
		if rep.Revision != "" {
			comment += " at `" + rep.Revision + "`"
		}
		if err := d.tracker.Resolve(ctx, title, comment+"."); err != nil {
			return fmt.Errorf("resolve drift issue of target %s: %w", rep.Target, err)
		}
		if d.known {
			d.log.Info("drift resolved", "target", rep.Target)
		}
		d.known, d.open, d.body, d.number = true, false, "", 0
		return nil
	}
	body, err := driftBody(rep)
	if err != nil {
		return err
	}
	if d.known && d.open && d.body == body {
		return nil
	}
	number, err := d.tracker.OpenOrUpdate(ctx, title, body)
	if err != nil {
		return fmt.Errorf("report drift of target %s: %w", rep.Target, err)
	}
	d.known, d.open, d.body, d.number = true, true, body, number
	d.log.Info("drift reported", "target", rep.Target, "issue", number, "objects", len(rep.Objects))
	return nil
}

// tracker keeps drift issues as GitHub issues of a repository, one per
// title, labelled gitvend-drift; a drift that comes back reopens its issue.
type tracker struct {
	r           *Rollout
	owner, name string
	target      string
}

// OpenOrUpdate opens the drift issue or brings its body up to date.
func (t *tracker) OpenOrUpdate(ctx context.Context, title, body string) (int, error) {
	gh, _, _, err := t.r.client(ctx, t.owner+"/"+t.name)
	if err != nil {
		return 0, err
	}
	is, err := gh.FindIssueByTitle(ctx, t.owner, t.name, title, DriftLabel)
	switch {
	case errors.Is(err, github.ErrNotFound):
		is, err = gh.CreateIssue(ctx, t.owner, t.name, github.NewIssue{Title: title, Body: body, Labels: []string{DriftLabel}})
		if err != nil {
			return 0, fmt.Errorf("open drift issue: %w", err)
		}
		return is.Number, nil
	case err != nil:
		return 0, fmt.Errorf("find drift issue: %w", err)
	}
	edit := github.IssueEdit{}
	if is.Body != body {
		edit.Body = &body
	}
	if is.State != "open" {
		open := "open"
		edit.State = &open
	}
	if edit.Body != nil || edit.State != nil {
		if _, err := gh.EditIssue(ctx, t.owner, t.name, is.Number, edit); err != nil {
			return 0, fmt.Errorf("update drift issue #%d: %w", is.Number, err)
		}
	}
	return is.Number, nil
}

// Resolve closes the open drift issue with a comment.
func (t *tracker) Resolve(ctx context.Context, title, comment string) error {
	gh, _, _, err := t.r.client(ctx, t.owner+"/"+t.name)
	if err != nil {
		return err
	}
	is, err := gh.FindIssueByTitle(ctx, t.owner, t.name, title, DriftLabel)
	if errors.Is(err, github.ErrNotFound) || (err == nil && is.State != "open") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find drift issue: %w", err)
	}
	if err := t.r.settleReverts(ctx, gh, t.owner, t.name, is.Number, t.target); err != nil {
		return err
	}
	if err := gh.CloseIssue(ctx, t.owner, t.name, is.Number, comment); err != nil {
		return fmt.Errorf("close drift issue #%d: %w", is.Number, err)
	}
	return nil
}
