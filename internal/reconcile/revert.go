package reconcile

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ErrNotApplied says a revert found nothing to apply: the target has had
// no apply yet, or the object named is not among those of the last one.
var ErrNotApplied = errors.New("not among the objects of the last apply")

// HealObjects applies again, now, those objects of the last Apply that
// match, so that fields changed by hand since are restored, whether or
// not the target heals itself. Unlike Heal it neither records the
// inventory nor prunes: only the matching objects are touched. Objects
// the target refuses stay refused. Like Heal it waits for any change under
// way (BeginChange). It returns ErrNotApplied (wrapped)
// when no object of the last Apply matches.
func (r *Reconciler) HealObjects(ctx context.Context, match func(*unstructured.Unstructured) bool) (*Result, error) {
	if r.target.ReportOnly {
		return nil, fmt.Errorf("revert on target %s: the target is report-only", r.target.Name)
	}
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	objs, rev, ok, _ := r.lastApply()
	if !ok {
		return nil, fmt.Errorf("revert on target %s: nothing applied yet: %w", r.target.Name, ErrNotApplied)
	}
	var chosen []*unstructured.Unstructured
	for _, o := range objs {
		if match(o) {
			chosen = append(chosen, o)
		}
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("revert on target %s: %w", r.target.Name, ErrNotApplied)
	}
	res := &Result{Target: r.target.Name, Revision: rev}
	items, err := r.prepare(ctx, chosen)
	if err != nil {
		return nil, err
	}
	pre, rest := stages(items)
	r.applyStage(ctx, append(pre, rest...), nil)
	for _, it := range items {
		if it.res.Action == "" && it.pending {
			it.fail(errors.New("the scope of its kind is not known"))
		}
		res.Objects = append(res.Objects, it.res)
	}
	res.sort()
	r.log.Info("reverted to Git", "revision", rev, "summary", res.Summary())
	return res, res.err()
}

// LastApplied returns the objects and revision of the last Apply (or
// Observe), and false when there was none.
func (r *Reconciler) LastApplied() ([]*unstructured.Unstructured, string, bool) {
	objs, rev, ok, _ := r.lastApply()
	return objs, rev, ok
}
