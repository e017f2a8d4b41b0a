package reconcile

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/template"
)

// Bounds of a drift issue body, which GitHub caps at 65,536 characters.
const (
	maxBodyObjects = 40
	maxBodyChanges = 25
)

//go:embed templates/drift.md.tmpl
var templateFS embed.FS

// driftTemplate renders a drift report as an issue body; it is parsed once
// and never changed.
var driftTemplate = template.Must(template.New("drift.md.tmpl").Funcs(template.FuncMap{
	"code":  code,
	"value": orAbsent,
	"text":  func(s string) string { return strings.ReplaceAll(s, "\n", " ") },
}).ParseFS(templateFS, "templates/drift.md.tmpl"))

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

// bodyObject is an object as the issue body shows it.
type bodyObject struct {
	ObjectDrift
	Shown []FieldChange
	More  int
}

// Markdown renders the report as the body of the target's drift issue: per
// object, a table of the fields that differ with Git's and the live value.
// The same report always gives the same text.
func (d *DriftReport) Markdown() (string, error) {
	view := struct {
		*DriftReport
		Shown []bodyObject
		More  int
	}{DriftReport: d}
	for i, o := range d.Objects {
		if i == maxBodyObjects {
			view.More = len(d.Objects) - i
			break
		}
		b := bodyObject{ObjectDrift: o, Shown: o.Changes}
		if len(o.Changes) > maxBodyChanges {
			b.Shown, b.More = o.Changes[:maxBodyChanges], len(o.Changes)-maxBodyChanges
		}
		view.Shown = append(view.Shown, b)
	}
	var buf bytes.Buffer
	if err := driftTemplate.Execute(&buf, view); err != nil {
		return "", fmt.Errorf("render drift report: %w", err)
	}
	return buf.String(), nil
}

// IssueTracker keeps one issue per title, such as a GitHub issue in the
// desired-state repository.
type IssueTracker interface {
	// OpenOrUpdate opens an issue with title and body, or sets the body of
	// the open issue with that title, and returns its number.
	OpenOrUpdate(ctx context.Context, title, body string) (int, error)
	// Resolve closes the open issue with title, if any, after commenting.
	Resolve(ctx context.Context, title, comment string) error
}

// DriftReporter keeps one drift issue per target up to date: opened when
// drift appears, its body edited in place when the drift changes, closed
// with a comment when the drift is gone. It calls the tracker only when
// something changed since its last call. It is safe for concurrent use.
type DriftReporter struct {
	tracker IssueTracker
	log     *slog.Logger

	mu     sync.Mutex
	issues map[string]issueState // by title; absent until first reported
}

type issueState struct {
	open bool
	body string
}

// NewDriftReporter returns a DriftReporter that reports through tracker.
// logger may be nil.
func NewDriftReporter(tracker IssueTracker, logger *slog.Logger) *DriftReporter {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &DriftReporter{tracker: tracker, log: logger, issues: map[string]issueState{}}
}

// Report brings the target's drift issue in line with rep.
func (d *DriftReporter) Report(ctx context.Context, rep *DriftReport) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	title := rep.Title()
	st, known := d.issues[title]
	if !rep.HasDrift() {
		if known && !st.open {
			return nil
		}
		comment := fmt.Sprintf("The live objects on target %s match Git again", rep.Target)
		if rep.Revision != "" {
			comment += " at `" + rep.Revision + "`"
		}
		if err := d.tracker.Resolve(ctx, title, comment+"."); err != nil {
			return fmt.Errorf("resolve drift issue of target %s: %w", rep.Target, err)
		}
		d.issues[title] = issueState{}
		if known {
			d.log.Info("drift resolved", "target", rep.Target)
		}
		return nil
	}
	body, err := rep.Markdown()
	if err != nil {
		return err
	}
	if known && st.open && st.body == body {
		return nil
	}
	number, err := d.tracker.OpenOrUpdate(ctx, title, body)
	if err != nil {
		return fmt.Errorf("report drift of target %s: %w", rep.Target, err)
	}
	d.issues[title] = issueState{open: true, body: body}
	d.log.Info("drift reported", "target", rep.Target, "issue", number, "objects", len(rep.Objects))
	return nil
}
