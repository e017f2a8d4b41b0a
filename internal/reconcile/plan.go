package reconcile

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Plan is what applying a desired state to a target would do, found with
// server-side dry-runs against the target's cluster and its inventory,
// without writing anything.
type Plan struct {
	Target string `json:"target"`
	// Environments are the environments the target serves.
	Environments []string `json:"environments,omitempty"`
	// Revision is the Git revision planned, when the caller knows it.
	Revision string `json:"revision,omitempty"`
	// Unreachable, when set, says why the target's cluster could not be
	// asked; the plan then holds nothing else.
	Unreachable string `json:"unreachable,omitempty"`
	// BuildError, when set, says why the desired state did not build; the
	// plan then holds nothing else.
	BuildError string `json:"buildError,omitempty"`
	// Total is how many objects the target's inventory records now.
	Total int `json:"total"`
	// Create are the objects the cluster does not have.
	Create []PlannedObject `json:"create,omitempty"`
	// Change are the objects that exist and would change, with the fields
	// that would, values hidden as in drift reports (see FieldChange).
	Change []ObjectDrift `json:"change,omitempty"`
	// Unchanged counts the objects that already match.
	Unchanged int `json:"unchanged"`
	// Untouched counts the objects a planned change leaves exactly as its
	// base has them (see PlanChange): they are not compared with the
	// cluster, drift detection does that.
	Untouched int `json:"untouched,omitempty"`
	// Prune are the objects of the inventory that leave Git and that
	// gitvend would delete; Keep those that leave Git but that it would
	// leave in place (it did not create them, or the target does not
	// prune).
	Prune []PlannedObject `json:"prune,omitempty"`
	Keep  []PlannedObject `json:"keep,omitempty"`
	// Refuse are the objects the target's allow-lists refuse.
	Refuse []PlannedObject `json:"refuse,omitempty"`
	// Fail are the objects the dry-run rejected, with the API server's
	// reason.
	Fail []PlannedObject `json:"fail,omitempty"`
	// PruneExceeded, when set, says why the prune goes past the target's
	// threshold (cluster.Target.PruneLimit): it needs a confirmation.
	PruneExceeded string `json:"pruneExceeded,omitempty"`
	// HeldBy, when set, names the change window of the target's
	// environments that would hold the apply of a merge now, until
	// HeldUntil (zero when no end is known).
	HeldBy    string    `json:"heldBy,omitempty"`
	HeldUntil time.Time `json:"heldUntil,omitzero"`
}

// PlannedObject is one object of a plan and, where there is one, a note.
type PlannedObject struct {
	ID      manifest.ID `json:"id"`
	Message string      `json:"message,omitempty"`
}

// Empty tells whether the plan changes nothing on its target.
func (p *Plan) Empty() bool {
	return p.Unreachable == "" && p.BuildError == "" && len(p.Create)+len(p.Change)+len(p.Prune)+len(p.Keep)+len(p.Refuse)+len(p.Fail) == 0
}

// Summary counts what the plan does in one line, such as
// "1 to create, 2 to change, 3 to prune".
func (p *Plan) Summary() string {
	switch {
	case p.Unreachable != "":
		return "unreachable"
	case p.BuildError != "":
		return "does not build"
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(len(p.Create), "to create")
	add(len(p.Change), "to change")
	add(len(p.Prune), "to prune")
	add(len(p.Keep), "left in place")
	add(len(p.Refuse), "refused")
	add(len(p.Fail), "rejected by the dry-run")
	untouched := ""
	if p.Untouched > 0 {
		untouched = fmt.Sprintf("; %d untouched by the change", p.Untouched)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no changes (%d unchanged%s)", p.Unchanged, untouched)
	}
	return strings.Join(parts, ", ") + untouched
}

// WriteText writes the plan as plain text, one line per object, the same
// for gitvend apply --dry-run and the gitvend/plan check run:
//
//   - created, ~ changed (each field below it), - pruned,
//     = left in place, ! refused by the target, x rejected by the dry-run.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target %s: %s\n", p.Target, p.Summary())
	if p.Unreachable != "" {
		fmt.Fprintf(&b, "  the cluster could not be asked: %s\n", p.Unreachable)
	}
	if p.BuildError != "" {
		fmt.Fprintf(&b, "  %s\n", p.BuildError)
	}
	line := func(mark string, o PlannedObject) {
		fmt.Fprintf(&b, "%s %s", mark, o.ID)
		if o.Message != "" {
			fmt.Fprintf(&b, ": %s", o.Message)
		}
		b.WriteByte('\n')
	}
	for _, o := range p.Create {
		line("+", o)
	}
	for _, o := range p.Change {
		fmt.Fprintf(&b, "~ %s\n", o.ID)
		for _, c := range o.Changes {
			if c.Hidden {
				fmt.Fprintf(&b, "    %s: %s → %s (values hidden)\n", c.Path, orAbsent(c.Live), orAbsent(c.Git))
				continue
			}
			fmt.Fprintf(&b, "    %s: %s → %s\n", c.Path, orAbsent(c.Live), orAbsent(c.Git))
		}
	}
	for _, o := range p.Prune {
		line("-", o)
	}
	for _, o := range p.Keep {
		line("=", o)
	}
	for _, o := range p.Refuse {
		line("!", o)
	}
	for _, o := range p.Fail {
		line("x", o)
	}
	if p.PruneExceeded != "" {
		fmt.Fprintf(&b, "prune needs confirmation: %s\n", p.PruneExceeded)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orAbsent(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

// Plan tells what applying objs, the desired state at revision (a pull
// request's head, say), would do to the target: each object is applied as
// a server-side dry-run (field manager gitvend) and compared with the live
// one as Drift does (an object whose content and live object are as
// gitvend last found them matching is not dry-run again), so an object
// is to create, to change (with the fields
// that would change, values hidden as in drift reports) or unchanged; the
// inventory's objects that leave Git are to prune or left in place; the
// objects the target's allow-lists refuse are listed as refused. Nothing
// is written: no object, no inventory, no event. The error is non-nil when
// the cluster could not be asked.
func (r *Reconciler) Plan(ctx context.Context, objs []*unstructured.Unstructured, revision string) (*Plan, error) {
	return r.plan(ctx, objs, nil, revision)
}

// Change is a desired state split by a change (SplitChange): the objects
// the change adds or alters, and those it leaves exactly as they were.
type Change struct {
	Touched, Untouched []*unstructured.Unstructured
}

// PlanChange is Plan of a desired state after a change, split against the
// desired state before it (SplitChange): only the objects the change adds
// or alters are compared with the cluster, and those it leaves exactly as
// they were are counted in Untouched, since drift detection compares them.
// What would be pruned, and the prune threshold, are found over the whole
// desired state as Plan finds them. The requests made grow with the
// change, not with the target.
func (r *Reconciler) PlanChange(ctx context.Context, c Change, revision string) (*Plan, error) {
	return r.plan(ctx, c.Touched, c.Untouched, revision)
}

// SplitChange splits objs, the desired state after a change, by base, the
// desired state before it (as built from the change's base commit; nil
// when unknown, and then all of objs is touched): the objects base lacks
// or holds otherwise are touched, those base holds exactly so untouched.
// An ID that objs holds more than once is touched, so that a plan reports
// the duplicate.
func SplitChange(base, objs []*unstructured.Unstructured) Change {
	var c Change
	before := make(map[manifest.ID]*unstructured.Unstructured, len(base))
	for _, o := range base {
		before[idOf(o)] = o
	}
	ids := make([]manifest.ID, len(objs))
	count := make(map[manifest.ID]int, len(objs))
	for i, o := range objs {
		ids[i] = idOf(o)
		count[ids[i]]++
	}
	for i, o := range objs {
		id := ids[i]
		if was, ok := before[id]; ok && count[id] == 1 && SameContent(was, o) {
			c.Untouched = append(c.Untouched, o)
			continue
		}
		c.Touched = append(c.Touched, o)
	}
	return c
}

// plan plans the objects of compare against the cluster; objects of
// untouched, the rest of the desired state, only keep their inventory
// entries from the prune.
func (r *Reconciler) plan(ctx context.Context, compare, untouched []*unstructured.Unstructured, revision string) (*Plan, error) {
	items, err := r.prepareAll(ctx, compare)
	if err != nil {
		return nil, err
	}
	inv, err := r.readInventory(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the inventory of target %s: %w", r.target.Name, err)
	}
	p := &Plan{Target: r.target.Name, Environments: r.target.Environments, Revision: revision, Total: len(inv.entries), Untouched: len(untouched)}
	var compared []*item
	newNamespaces := map[string]bool{}
	for _, it := range items {
		switch it.res.Action {
		case Refused:
			p.Refuse = append(p.Refuse, PlannedObject{ID: it.res.ID, Message: it.res.Message})
		case Failed:
			p.Fail = append(p.Fail, PlannedObject{ID: it.res.ID, Message: it.res.Message})
		default:
			compared = append(compared, it)
		}
	}
	r.seed(ctx, inv, compared)
	r.listLive(ctx, compared)
	for _, it := range compared {
		if it.key.isNamespace() && it.listed && !it.existed {
			newNamespaces[it.key.Name] = true
		}
	}
	results := make([]ObjectDrift, len(compared))
	errs := make([]error, len(compared))
	r.forEach(len(compared), func(i int) {
		results[i], errs[i] = r.planOne(ctx, compared[i], newNamespaces)
	})
	for i, d := range results {
		if errs[i] != nil {
			return nil, fmt.Errorf("dry-run %s on target %s: %w", compared[i].key, r.target.Name, errs[i])
		}
		switch {
		case d.Error != "":
			p.Fail = append(p.Fail, PlannedObject{ID: d.ID, Message: d.Error})
		case d.Missing:
			p.Create = append(p.Create, PlannedObject{ID: d.ID, Message: createNote(compared[i], newNamespaces)})
		case len(d.Changes) > 0:
			p.Change = append(p.Change, d)
		default:
			p.Unchanged++
		}
	}
	stay := make(map[key]bool, len(items)+len(untouched))
	for _, it := range items {
		stay[it.key] = true
	}
	for _, o := range untouched {
		stay[r.scopedKey(o)] = true
	}
	prune, keep := pruneCandidates(inv.withoutKeys(stay))
	for _, e := range keep {
		p.Keep = append(p.Keep, PlannedObject{ID: e.id, Message: "it existed in the cluster before gitvend applied it and was never adopted"})
	}
	for _, e := range prune {
		if !r.target.Prune {
			p.Keep = append(p.Keep, PlannedObject{ID: e.id, Message: "the target does not prune"})
			continue
		}
		p.Prune = append(p.Prune, PlannedObject{ID: e.id})
	}
	if r.target.Prune {
		_, p.PruneExceeded = r.target.PruneLimit(len(prune), len(inv.entries))
	}
	for _, list := range [][]PlannedObject{p.Create, p.Prune, p.Keep, p.Refuse, p.Fail} {
		slices.SortStableFunc(list, func(a, b PlannedObject) int { return compareIDs(a.ID, b.ID) })
	}
	slices.SortStableFunc(p.Change, func(a, b ObjectDrift) int { return compareIDs(a.ID, b.ID) })
	return p, nil
}

// createNote says why an object to create could not be dry-run, when it
// could not: its namespace or its kind comes with the same change.
func createNote(it *item, newNamespaces map[string]bool) string {
	if it.pending || it.unscoped {
		return "its kind is defined by the same change"
	}
	if it.key.Namespace != "" && newNamespaces[it.key.Namespace] {
		return "its namespace is created by the same change"
	}
	return ""
}

// planOne dry-runs one object against the cluster: Missing when it would
// be created, Changes when it would change, Error when the API server
// rejects it. An error is returned only when the cluster could not be
// asked.
func (r *Reconciler) planOne(ctx context.Context, it *item, newNamespaces map[string]bool) (ObjectDrift, error) {
	d := ObjectDrift{ID: it.res.ID}
	if it.listed && it.existed && r.seen.matches(it.key, it.digest, it.live) {
		// Content and live object as gitvend last found them matching.
		return d, nil
	}
	err := r.compareLive(ctx, it, &d, func(err error) bool {
		if meta.IsNoMatchError(err) {
			// The kind's CRD comes with the same desired state.
			it.pending = true
			return true
		}
		return apierrors.IsNotFound(err) && newNamespaces[it.key.Namespace]
	})
	return d, err
}

// pruneCandidates splits the stale entries (in the inventory, no longer in
// Git) into those gitvend prunes and those it leaves in place because it
// did not create them. Plan and the prune guard of Apply count the same
// way, so that what a pull request's plan judges is what its merge does.
func pruneCandidates(stale []entry) (prune, keep []entry) {
	for _, e := range stale {
		if e.origin.prunable() {
			prune = append(prune, e)
		} else {
			keep = append(keep, e)
		}
	}
	return prune, keep
}

// scopedKey is the key of u as prepare settles it: without a namespace
// when its kind is cluster-scoped.
func (r *Reconciler) scopedKey(u *unstructured.Unstructured) key {
	k := keyOf(u)
	if namespaced, err := r.namespaced(u); err == nil && !namespaced {
		k.Namespace = ""
	}
	return k
}
