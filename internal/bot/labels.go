package bot

import (
	"context"
	"fmt"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/rollout"
)

// GitHub applies an issue form's labels only when the repository has them,
// so on a fresh repository every form request would arrive unlabelled.
// gitvend makes sure its labels exist whenever it meets a repository (the
// first resync on start, an installation webhook, every resync after), and
// does not rely on them: an issue is a request form when its title names a
// blueprint and its body has that blueprint's form headings, labelled or
// not, and gets the label once it is served.

// labelsOf are the labels gitvend keeps in a repository whose request
// label is request.
func labelsOf(request string) []github.Label {
	return []github.Label{
		{Name: request, Color: "5319e7", Description: "A request for gitvend: opened from a gitvend form or with /provision"},
		{Name: rollout.DriftLabel, Color: "d93f0b", Description: "gitvend found live objects that differ from Git"},
		{Name: ExpiryLabel, Color: "fbca04", Description: "gitvend removes a request whose ttl ran out"},
		{Name: cluster.ConfirmPrune, Color: "b60205", Description: "A maintainer confirms that this pull request's head may prune past a target's threshold"},
	}
}

// ensureLabels makes sure the job's repository has gitvend's labels.
func (b *Bot) ensureLabels(ctx context.Context, w *work) error {
	did, err := w.gh.EnsureLabels(ctx, w.owner, w.name, labelsOf(w.cfg.Intake.Label)...)
	if err != nil {
		return fmt.Errorf("labels of %s: %w", w.full, err)
	}
	if did == github.Created {
		b.log.Info("labels created", "repo", w.full)
	}
	return nil
}

// EnsureLabels makes sure repository full has gitvend's labels, creating
// those it lacks and leaving the others as they are.
func (b *Bot) EnsureLabels(ctx context.Context, full string) error {
	w, err := b.open(ctx, full)
	if err != nil {
		return err
	}
	defer w.cleanup()
	return b.ensureLabels(ctx, w)
}

// isForm tells whether the issue is a request form: its title names a
// blueprint and it carries the request label, or, labelled or not, its
// body has the headings of that blueprint's form for the request's own
// fields (GitHub drops a form's label the repository lacks).
func isForm(issue *github.Issue, label string, cat *blueprint.Catalog) bool {
	bp := request.BlueprintFromTitle(issue.Title)
	if bp == "" {
		return false
	}
	if hasLabel(issue, label) {
		return true
	}
	if cat == nil {
		return false
	}
	blue, err := cat.Get(bp)
	if err != nil {
		return false
	}
	sections, err := request.FormSections(issue.Body)
	if err != nil {
		return false
	}
	// The request's own fields head every gitvend form; the parameters'
	// may have changed since the form was opened, and forms written
	// before blueprints had versions lack the version field.
	n := 0
	for _, f := range blueprint.FormFields(blue) {
		if f.Parameter != "" || f.Label == blueprint.LabelVersion {
			continue
		}
		if _, ok := sections[f.Label]; !ok {
			return false
		}
		n++
	}
	return n > 0
}

// mayBeRequest tells, from what a list of issues shows, whether an issue
// may be a request a resync should look at: it carries the label, or its
// title names a blueprint (a form issue the label was dropped from).
func mayBeRequest(issue *github.Issue, label string) bool {
	return !issue.IsPullRequest && (hasLabel(issue, label) || request.BlueprintFromTitle(issue.Title) != "")
}
