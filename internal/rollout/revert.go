package rollout

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/request"
)

// A revert asked on a drift issue is level-triggered: the replica that
// reads the command (any replica) records it as a comment of the App's on
// the drift issue carrying a pending revert line (RevertLine); the leader,
// which alone applies, carries out every pending revert of a target it
// finds there and marks the line done in the same comment. It looks when
// the target's drift is reported (so a new leader finds reverts asked
// while none led) and whenever the repository is reconciled (so that a
// push signal from the replica that took the command brings it at once).
// GitHub holds the record: nothing is lost with a replica, and a revert
// done is never done twice, since its line says so.

// Revert states.
const (
	revertPending = "pending"
	revertDone    = "done"
)

// revertLine matches the line of a revert record:
// <!-- gitvend:revert target=dev object=Kind/ns/name state=pending -->.
var revertLine = regexp.MustCompile(`<!-- gitvend:revert target=([a-z0-9-]+) object=(\S*) state=(pending|done) -->`)

// RevertLine is the hidden line that records a revert asked for target,
// of the object ref (request.ObjectRef.String, "" for the whole target),
// still to be carried out.
func RevertLine(target, object string) string {
	return fmt.Sprintf("<!-- gitvend:revert target=%s object=%s state=%s -->", target, object, revertPending)
}

// revertRecord is one revert record found on a drift issue.
type revertRecord struct {
	comment github.Comment
	target  string
	object  string // "" for the whole target
}

// pendingReverts are the App's comments that record reverts of target
// still to be carried out, oldest first. Comments of anyone else are
// never read as records, whatever they hold.
func pendingReverts(cs []github.Comment, login, target string) []revertRecord {
	var out []revertRecord
	for _, c := range cs {
		if login == "" || !strings.EqualFold(c.User, login) {
			continue
		}
		m := revertLine.FindStringSubmatch(c.Body)
		if m == nil || m[1] != target || m[3] != revertPending {
			continue
		}
		out = append(out, revertRecord{comment: c, target: m[1], object: m[2]})
	}
	return out
}

// revertPending carries out the reverts asked on the drift issue of target
// t, if it has one open, and marks each done with what the apply did.
func (r *Rollout) revertPending(ctx context.Context, t *targetState) error {
	if r.opts.Login == "" || t.ReportOnly {
		return nil
	}
	number, ok := t.drift.openNumber()
	if !ok {
		return nil
	}
	gh, owner, name, err := r.client(ctx, t.Repository)
	if err != nil {
		return err
	}
	if number == 0 {
		is, err := gh.FindIssueByTitle(ctx, owner, name, DriftTitle(t.Name), DriftLabel)
		if errors.Is(err, github.ErrNotFound) || (err == nil && is.State != "open") {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find drift issue of %s: %w", t.Name, err)
		}
		number = is.Number
	}
	cs, err := gh.ListComments(ctx, owner, name, number)
	if err != nil {
		return fmt.Errorf("list comments of drift issue #%d: %w", number, err)
	}
	var errs []error
	for _, rec := range pendingReverts(cs, r.opts.Login, t.Name) {
		outcome := r.revert(ctx, t, rec.object)
		done := strings.Replace(rec.comment.Body, revertLine.FindString(rec.comment.Body),
			fmt.Sprintf("<!-- gitvend:revert target=%s object=%s state=%s -->", rec.target, rec.object, revertDone), 1)
		done = strings.TrimRight(done, "\n") + "\n\n" + outcome
		if err := gh.EditComment(ctx, owner, name, rec.comment.ID, done); err != nil {
			errs = append(errs, fmt.Errorf("mark revert done on drift issue #%d: %w", number, err))
		}
	}
	return errors.Join(errs...)
}

// revert applies Git to the whole target (object "") or to one object of
// it now, and says what it did, for the drift issue.
func (r *Rollout) revert(ctx context.Context, t *targetState, object string) string {
	var res *reconcile.Result
	var err error
	what := "target " + t.Name
	if object == "" {
		res, err = t.rec.Heal(ctx)
	} else {
		what = object + " on target " + t.Name
		ref, perr := request.ParseObjectRef(object)
		if perr != nil {
			return fmt.Sprintf("**Not reverted**: %v.", perr)
		}
		res, err = t.rec.HealObjects(ctx, func(u *unstructured.Unstructured) bool {
			return u.GetKind() == ref.Kind && u.GetNamespace() == ref.Namespace && u.GetName() == ref.Name
		})
	}
	switch {
	case errors.Is(err, reconcile.ErrNotApplied) && object != "":
		r.log.Warn("revert: object not in Git", "target", t.Name, "object", object)
		return fmt.Sprintf("**Not reverted**: Git holds no %s.", what)
	case err != nil:
		r.log.Warn("revert failed", "target", t.Name, "object", object, "err", err)
		if res != nil {
			return fmt.Sprintf("**Revert of %s failed**: %s.", what, res.Summary())
		}
		return fmt.Sprintf("**Revert of %s failed**: %s.", what, err)
	}
	r.log.Info("reverted to Git", "target", t.Name, "object", object, "summary", res.Summary())
	return fmt.Sprintf("Reverted %s to Git at `%.12s`: %s.", what, res.Revision, res.Summary())
}

// revertAsked carries out the reverts asked on a target's drift issue
// after its drift was reported, while there is drift to revert.
func (r *Rollout) revertAsked(ctx context.Context, t *targetState, rep *reconcile.DriftReport) error {
	if !rep.HasDrift() {
		return nil
	}
	t.revertMu.Lock()
	defer t.revertMu.Unlock()
	return r.revertPending(ctx, t)
}

// revertOnSync carries out the reverts asked on a target's drift issue
// when its repository is reconciled without a new commit: a push signal
// sent by the replica that took the command.
func (r *Rollout) revertOnSync(ctx context.Context, t *targetState) error {
	t.revertMu.Lock()
	defer t.revertMu.Unlock()
	return r.revertPending(ctx, t)
}

// settleReverts marks done, before the drift issue number of target
// closes, the reverts still pending there: the cluster matches Git
// without them, and a drift that comes back later is a new one that
// nobody asked to revert yet.
func (r *Rollout) settleReverts(ctx context.Context, gh GitHub, owner, name string, number int, target string) error {
	if r.opts.Login == "" {
		return nil
	}
	cs, err := gh.ListComments(ctx, owner, name, number)
	if err != nil {
		return fmt.Errorf("list comments of drift issue #%d: %w", number, err)
	}
	for _, rec := range pendingReverts(cs, r.opts.Login, target) {
		done := strings.Replace(rec.comment.Body, revertLine.FindString(rec.comment.Body),
			fmt.Sprintf("<!-- gitvend:revert target=%s object=%s state=%s -->", rec.target, rec.object, revertDone), 1)
		done = strings.TrimRight(done, "\n") + "\n\nNothing to revert: the cluster matched Git again before the revert ran."
		if err := gh.EditComment(ctx, owner, name, rec.comment.ID, done); err != nil {
			return fmt.Errorf("settle revert on drift issue #%d: %w", number, err)
		}
	}
	return nil
}

// DriftTarget names the target of repository repo whose drift issue has
// title, and the environments it applies; false when none has.
func (r *Rollout) DriftTarget(repo, title string) (string, []string, bool) {
	for _, t := range r.targets {
		if config.SameRepo(t.Repository, repo) && DriftTitle(t.Name) == title {
			return t.Name, append([]string(nil), t.Environments...), true
		}
	}
	return "", nil, false
}

// RevertLine is the hidden line that records a revert asked for target
// (see the package-level RevertLine).
func (r *Rollout) RevertLine(target, object string) string { return RevertLine(target, object) }

// KickRevert reconciles repo at once on this replica, which carries out
// the reverts recorded on its targets' drift issues; for a single
// replica, or the leader.
func (r *Rollout) KickRevert(_ context.Context, repo string) { r.Kick(repo) }

// LiveDrift compares target's cluster with the desired state of dir, a
// checkout of the target's repository, and returns the drifted objects
// with their live values, hidden ones as the drift issue hides them.
// Nothing is written; any replica may ask.
func (r *Rollout) LiveDrift(ctx context.Context, target, dir string) ([]desired.LiveObject, error) {
	var t *targetState
	for _, c := range r.targets {
		if c.Name == target {
			t = c
		}
	}
	if t == nil {
		return nil, fmt.Errorf("target %s is not configured", target)
	}
	objs, err := r.desired(ctx, reconcile.Checkout{Dir: dir}, t.Target)
	if err != nil {
		return nil, fmt.Errorf("render target %s: %w", target, err)
	}
	rep, err := t.rec.Drift(ctx, objs)
	if err != nil {
		return nil, fmt.Errorf("compare target %s with Git: %w", target, err)
	}
	out := make([]desired.LiveObject, 0, len(rep.Objects))
	for _, o := range rep.Objects {
		lo := desired.LiveObject{ID: o.ID, Missing: o.Missing, Error: o.Error}
		for _, c := range o.Changes {
			// A Secret's values are masked, never fingerprinted: hidden too.
			hidden := c.Hidden || strings.Contains(c.Live, reconcile.Masked) || strings.Contains(c.Git, reconcile.Masked)
			lo.Fields = append(lo.Fields, desired.LiveField{Path: c.Path, Live: c.Live, Hidden: hidden})
		}
		out = append(out, lo)
	}
	return out, nil
}

// recheckDrift compares target t with Git once more right after sha was
// applied, while its drift issue may be open: an apply that changes
// nothing in the cluster (a merged adoption, which made Git hold the live
// values) wakes no watch, and the issue must still close.
func (r *Rollout) recheckDrift(ctx context.Context, t *targetState, sha string) {
	if _, open := t.drift.openNumber(); !open || t.ReportOnly {
		return
	}
	objs, rev, ok := t.rec.LastApplied()
	if !ok || rev != sha {
		return
	}
	rep, err := t.rec.Drift(ctx, objs)
	if err != nil {
		r.log.Warn("check drift after apply", "target", t.Name, "err", err)
		return
	}
	rep.Revision = sha
	if err := r.reportDrift(ctx, t, rep); err != nil {
		r.log.Warn("report drift after apply", "target", t.Name, "err", err)
	}
}
