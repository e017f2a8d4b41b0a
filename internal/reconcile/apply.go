package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/ssa"
	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	"github.com/fluxcd/pkg/ssa/utils"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/manifest"
)

// item is one desired object on its way through an apply.
type item struct {
	obj    *unstructured.Unstructured
	key    key
	digest digest
	// existed tells whether the object was live before the apply; known
	// when listed is set.
	existed, listed bool
	// live is the live object's mark, from the list.
	live liveMark
	// pending is set while the scope of the object's kind is not known:
	// its CRD is in the same desired state and not yet applied.
	pending bool
	// unscoped is set when the scope could not be found: the object was
	// never checked nor sent, and the inventory does not record it.
	unscoped bool
	res      ObjectResult
}

func (it *item) fail(err error) {
	it.res.Action, it.res.Message, it.res.retryable = Failed, err.Error(), retryable(err)
}

// done tells whether the item reached the cluster's state (or, report-only,
// was compared with it).
func (it *item) done() bool {
	switch it.res.Action {
	case Created, Configured, Unchanged, Recreated:
		return true
	}
	return false
}

// Apply brings the target to objs, the desired state at revision, with
// server-side apply as field manager gitvend, setting the
// app.kubernetes.io/managed-by label to gitvend on objects that lack it.
// Objects the target's allow-lists refuse are reported and left out; CRDs,
// Namespaces and other cluster-wide prerequisites are applied first and
// waited for; then the rest, concurrently. The inventory records what was
// applied, objects that left Git are pruned when the target prunes, and
// the applied objects are waited for up to the target's HealthTimeout.
// A report-only target is only dry-run.
//
// The Result lists every object; the error is an *ApplyError when some
// object failed or was refused, an *EmptyRenderError when objs is empty
// while the inventory is not, or another error when the inventory could
// not be read or written. Applying again converges.
//
// Pruning more objects than the target's threshold allows
// (cluster.Target.PruneLimit) is refused: those objects are reported
// skipped and kept in the inventory, unless ApplyWith is told the prune
// was confirmed.
func (r *Reconciler) Apply(ctx context.Context, objs []*unstructured.Unstructured, revision string) (*Result, error) {
	return r.ApplyWith(ctx, objs, revision, ApplyOptions{})
}

// ApplyOptions change what one Apply may do.
type ApplyOptions struct {
	// ConfirmPrune, asked only when the apply would prune past the
	// target's threshold, tells whether it may: the change was confirmed
	// (on its pull request, or by whoever runs gitvend apply
	// --confirm-prune). Nil never confirms.
	ConfirmPrune func() bool
	// SkipHealthWhenUnchanged skips the wait for health when the apply
	// wrote nothing (every object unchanged, nothing pruned): nothing it
	// did can change the objects' health then.
	SkipHealthWhenUnchanged bool
}

// wroteNothing tells whether an apply left every object as it was.
func wroteNothing(items []*item, pruned []ObjectResult) bool {
	for _, it := range items {
		switch it.res.Action {
		case Created, Configured, Recreated:
			return false
		}
	}
	for _, o := range pruned {
		if o.Action == Deleted {
			return false
		}
	}
	return true
}

// Confirmed is an ApplyOptions.ConfirmPrune that always confirms.
func Confirmed() bool { return true }

// ApplyWith is Apply with options.
func (r *Reconciler) ApplyWith(ctx context.Context, objs []*unstructured.Unstructured, revision string, opts ApplyOptions) (*Result, error) {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	return r.apply(ctx, objs, revision, false, opts)
}

// Heal applies the objects of the last Apply again, so that fields changed
// since are restored, after any change under way (BeginChange) ended. It
// returns an error when nothing was applied yet or the target is
// report-only.
func (r *Reconciler) Heal(ctx context.Context) (*Result, error) {
	if r.target.ReportOnly {
		return nil, fmt.Errorf("heal target %s: the target is report-only", r.target.Name)
	}
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	objs, rev, ok, _ := r.lastApply()
	if !ok {
		return nil, fmt.Errorf("heal target %s: nothing applied yet", r.target.Name)
	}
	// Healing re-applies what was applied: it prunes nothing new.
	return r.apply(ctx, objs, rev, true, ApplyOptions{})
}

func (r *Reconciler) apply(ctx context.Context, objs []*unstructured.Unstructured, revision string, heal bool, opts ApplyOptions) (*Result, error) {
	start := time.Now()
	res := &Result{Target: r.target.Name, Revision: revision, DryRun: r.target.ReportOnly}
	log := r.log.With("revision", revision)
	finish := func(err error) (*Result, error) {
		res.Duration = time.Since(start)
		res.sort()
		if err == nil {
			err = res.err()
		}
		r.metrics.observeApply(r.target.Name, res, err)
		if err != nil {
			log.Warn("apply finished with errors", "summary", res.Summary(), "duration", res.Duration, "err", err)
		} else {
			log.Info("apply finished", "summary", res.Summary(), "duration", res.Duration)
		}
		return res, err
	}

	items, err := r.prepare(ctx, objs)
	if err != nil {
		return finish(err)
	}
	inv, err := r.readInventory(ctx)
	if err != nil {
		return finish(failAll(res, items, err))
	}
	if len(objs) == 0 && len(inv.entries) > 0 {
		return finish(&EmptyRenderError{Target: r.target.Name, Inventory: len(inv.entries)})
	}
	// What an earlier apply found matching Git, in this process or not,
	// spares the comparison of objects that did not change since.
	r.seed(ctx, inv, items)
	// Which objects exist decides how each new one is recorded: created
	// by gitvend, or found in the cluster.
	r.listLive(ctx, items)
	stored := inv
	record := func(items []*item) error {
		if r.target.ReportOnly {
			return nil
		}
		// Record what is about to be applied first, so that an apply
		// cut short never leaves an object gitvend created unrecorded.
		next := stored.with(inv.entriesOf(items))
		if err := r.writeInventory(ctx, next, stored); err != nil {
			return err
		}
		stored = next
		return nil
	}
	if err := record(items); err != nil {
		return finish(failAll(res, items, err))
	}
	pre, rest := stages(items)
	r.applyStage(ctx, pre, nil)
	if !r.target.ReportOnly {
		r.waitEstablished(ctx, pre)
	}
	// Kinds the cluster did not serve are decided now that the CRDs the
	// target accepts are applied.
	if late := r.settlePending(items, (*item).done); len(late) > 0 {
		r.listLive(ctx, late)
		if err := record(late); err != nil {
			for _, it := range late {
				if it.res.Action == "" {
					it.fail(err)
				}
			}
		}
		for _, it := range late {
			if it.res.Action == "" {
				rest = append(rest, it)
			}
		}
	}
	r.applyStage(ctx, rest, createdNamespaces(pre))
	markTakeovers(items, inv, r.target.ReportOnly)

	stale := inv.without(items)
	keep := stale
	var pruned []ObjectResult
	if r.target.Prune {
		candidates, others := pruneCandidates(stale)
		exceeded, why := r.target.PruneLimit(len(candidates), len(inv.entries))
		switch {
		case anyFailed(items):
			log.Warn("not pruning: some objects failed to apply", "stale", len(stale))
		case exceeded && (opts.ConfirmPrune == nil || !opts.ConfirmPrune()):
			log.Warn("not pruning: past the target's prune threshold without confirmation", "stale", len(stale), "reason", why)
			// What gitvend would not prune anyway goes as prune lets it go;
			// the rest waits, recorded, for a confirmed apply.
			for _, e := range others {
				pruned = append(pruned, leftInPlace(e.id, "it existed in the cluster before gitvend applied it"))
			}
			for _, e := range candidates {
				pruned = append(pruned, ObjectResult{ID: e.id, Action: Skipped, Message: "not pruned: " + why +
					"; confirm it with /provision confirm-prune on the pull request (or the gitvend/confirm-prune label), or gitvend apply --confirm-prune"})
			}
			keep = candidates
		default:
			pruned, keep = r.prune(ctx, stale, items, inv.since)
		}
	}
	var invErr error
	if !r.target.ReportOnly {
		next := r.withRecords(ctx, newInventory(revision, append(kept(items, inv), keep...)), items)
		next.since = stored.since
		invErr = r.writeInventory(ctx, next, stored)
		if invErr == nil && r.target.HealthTimeout > 0 && !(opts.SkipHealthWhenUnchanged && wroteNothing(items, pruned)) {
			res.HealthChecked = true
			res.HealthTimedOut = r.checkHealth(ctx, items, r.target.HealthTimeout)
		}
	}
	if !heal {
		r.recordApply(objs, revision)
	}
	for _, it := range items {
		res.Objects = append(res.Objects, it.res)
	}
	res.Objects = append(res.Objects, pruned...)
	if invErr != nil {
		return finish(fmt.Errorf("record inventory of target %s: %w", r.target.Name, classify(invErr)))
	}
	return finish(nil)
}

// takeoverMessage says what taking over an object that existed without
// gitvend means for it.
func takeoverMessage(o origin, dryRun bool) string {
	verb := map[bool]string{false: "was", true: "would be"}[dryRun]
	if o == originAdopted {
		return fmt.Sprintf("existed in the cluster before gitvend applied it; %s adopted (%s: \"true\"), so it is pruned when it leaves Git", verb, AdoptAnnotation)
	}
	return fmt.Sprintf("existed in the cluster before gitvend applied it; %s taken over but is left in place when it leaves Git (set the annotation %s: \"true\" on it in Git to let gitvend prune it)", verb, AdoptAnnotation)
}

// markTakeovers marks the results of objects this apply took over: objects
// that were in the cluster before gitvend applied them, and that the
// inventory inv, read before the apply, did not record (or recorded as
// found, and Git now adopts). Their messages say whether gitvend will
// prune them.
func markTakeovers(items []*item, inv *inventory, dryRun bool) {
	index := inv.index()
	for _, it := range items {
		if !applicable(it) || !it.done() {
			continue
		}
		old, recorded := index[it.key]
		o := originOf(it, old.origin, recorded)
		found := !recorded && (o == originExisting || o == originAdopted)
		nowAdopted := recorded && old.origin == originExisting && o == originAdopted
		if !found && !nowAdopted {
			continue
		}
		msg := takeoverMessage(o, dryRun)
		it.res.Existing = true
		if it.res.Message != "" {
			msg = it.res.Message + "; " + msg
		}
		it.res.Message = msg
	}
}

func anyFailed(items []*item) bool {
	for _, it := range items {
		if it.res.Action == Failed {
			return true
		}
	}
	return false
}

// failAll marks every object not yet decided as failed with err and returns
// the error the apply ends with.
func failAll(res *Result, items []*item, err error) error {
	for _, it := range items {
		if it.res.Action == "" {
			it.fail(err)
		}
		res.Objects = append(res.Objects, it.res)
	}
	return fmt.Errorf("apply to target %s: %w", res.Target, classify(err))
}

// prepare turns the desired objects into items: copies with cluster-scoped
// objects stripped of a namespace and the managed-by label set to gitvend
// where it is absent (so that every applied object carries gitvend's
// ownership, even one whose only fields are its name), duplicates and
// objects the target refuses already decided. The scope of a kind comes
// from Kubernetes' built-in kinds or the cluster's discovery, never from a
// CRD in the desired state, which the target may refuse: an item whose kind
// neither knows is left pending, for settlePending to decide once the CRDs
// the target accepts are applied.
func (r *Reconciler) prepare(ctx context.Context, objs []*unstructured.Unstructured) ([]*item, error) {
	items := make([]*item, 0, len(objs))
	seen := map[key]bool{}
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("prepare apply: %w", err)
		}
		it := &item{obj: o.DeepCopy()}
		it.key = keyOf(it.obj)
		it.res.ID = idOf(it.obj)
		items = append(items, it)
		if it.key.Kind == "" || it.key.Name == "" || it.obj.GetAPIVersion() == "" {
			it.res.Action, it.res.Message = Failed, "object needs apiVersion, kind and metadata.name"
			continue
		}
		if _, ok := it.obj.GetLabels()[LabelManagedBy]; !ok {
			labels := it.obj.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[LabelManagedBy] = ManagedBy
			it.obj.SetLabels(labels)
		}
		namespaced, err := r.namespaced(it.obj)
		switch {
		case meta.IsNoMatchError(err):
			it.pending = true
			continue
		case err != nil:
			it.unscoped = true
			it.fail(fmt.Errorf("find the scope of %s: %w", it.key.groupKind(), err))
			continue
		}
		r.settle(it, namespaced, seen)
	}
	return items, nil
}

// settle decides an item whose scope is known: it strips a cluster-scoped
// object of its namespace and marks duplicates and refusals.
func (r *Reconciler) settle(it *item, namespaced bool, seen map[key]bool) {
	it.pending = false
	if !namespaced && it.obj.GetNamespace() != "" {
		it.obj.SetNamespace("")
		it.key.Namespace, it.res.ID.Namespace = "", ""
	}
	if seen[it.key] {
		it.res.Action, it.res.Message = Failed, "the object appears twice in the desired state"
		return
	}
	seen[it.key] = true
	if reason := refusal(r.target, it.key, namespaced); reason != "" {
		it.res.Action, it.res.Message = Refused, reason
		return
	}
	var err error
	if it.digest, err = digestOf(it.obj); err != nil {
		it.fail(err)
	}
}

// settlePending decides the pending items, whose kinds the cluster did not
// serve when they were prepared: from discovery, asked again, or else from
// a CRD among the items for which accepted holds (for an apply: applied in
// this run; for a use that writes nothing: allowed by the target). A kind
// neither knows fails. It returns the items it decided.
func (r *Reconciler) settlePending(items []*item, accepted func(*item) bool) []*item {
	var pending []*item
	seen := map[key]bool{}
	for _, it := range items {
		switch {
		case it.pending:
			pending = append(pending, it)
		case it.key.Kind != "" && it.key.Name != "":
			seen[it.key] = true
		}
	}
	if len(pending) == 0 {
		return nil
	}
	scopes := map[schema.GroupKind]bool{}
	for _, it := range items {
		if it.key.isCRD() && !it.pending && accepted(it) {
			group, _, _ := unstructured.NestedString(it.obj.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(it.obj.Object, "spec", "names", "kind")
			scope, _, _ := unstructured.NestedString(it.obj.Object, "spec", "scope")
			scopes[schema.GroupKind{Group: group, Kind: kind}] = scope != "Cluster"
		}
	}
	for _, it := range pending {
		namespaced, err := r.namespaced(it.obj)
		if meta.IsNoMatchError(err) {
			var ok bool
			if namespaced, ok = scopes[it.key.groupKind()]; ok {
				err = nil
			}
		}
		if err != nil {
			it.pending, it.unscoped = false, true
			it.fail(fmt.Errorf("find the scope of %s: the cluster does not serve it and no CRD the target accepts defines it: %w", it.key.groupKind(), err))
			continue
		}
		r.settle(it, namespaced, seen)
	}
	return pending
}

// prepareAll prepares the items of a use that writes nothing (drift, watch,
// plan): pending kinds are decided at once, from the CRDs the target
// allows.
func (r *Reconciler) prepareAll(ctx context.Context, objs []*unstructured.Unstructured) ([]*item, error) {
	items, err := r.prepare(ctx, objs)
	if err != nil {
		return nil, err
	}
	r.settlePending(items, func(it *item) bool { return it.res.Action == "" })
	return items, nil
}

// namespaced tells whether u's kind is namespaced: from the built-in kinds
// or the cluster's discovery. The error is a no-match error when neither
// knows the kind.
func (r *Reconciler) namespaced(u *unstructured.Unstructured) (bool, error) {
	if ns, known := manifest.Scope(idOf(u)); known {
		return ns, nil
	}
	gvk := u.GroupVersionKind()
	m, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return false, err
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// stages splits the items to apply into cluster-wide prerequisites (CRDs,
// Namespaces, ClusterRoles, classes) and the rest.
func stages(items []*item) (pre, rest []*item) {
	for _, it := range items {
		switch {
		case it.res.Action != "" || it.pending:
		case utils.IsClusterDefinition(it.obj) || utils.IsClassDefinition(it.obj):
			pre = append(pre, it)
		default:
			rest = append(rest, it)
		}
	}
	return pre, rest
}

// createdNamespaces lists the namespaces a report-only apply would create,
// in whose absence a dry-run of their objects cannot succeed.
func createdNamespaces(pre []*item) map[string]bool {
	out := map[string]bool{}
	for _, it := range pre {
		if it.key.isNamespace() && it.res.Action == Created {
			out[it.key.Name] = true
		}
	}
	return out
}

// applyStage applies items concurrently. Objects the list of live objects
// shows absent are created with one apply request; objects unchanged since
// gitvend last compared them are reported unchanged; the rest go through
// ssa's dry-run, compare and apply.
func (r *Reconciler) applyStage(ctx context.Context, items []*item, newNamespaces map[string]bool) {
	if len(items) == 0 {
		return
	}
	r.listLive(ctx, items)
	r.forEach(len(items), func(i int) {
		it := items[i]
		switch {
		case it.pending:
			// Never reached: stages leaves pending items out. An object
			// whose scope is not known was never checked against the
			// allow-lists.
			it.fail(errors.New("the scope of its kind is not known"))
		case ctx.Err() != nil:
			it.fail(fmt.Errorf("apply cut short: %w", ctx.Err()))
		case r.target.ReportOnly:
			r.dryRun(ctx, it, newNamespaces)
		case it.listed && !it.existed:
			r.create(ctx, it)
		case it.listed && r.seen.matches(it.key, it.digest, it.live):
			it.res.Action = Unchanged
		default:
			r.ssaApply(ctx, it)
		}
	})
}

// create applies an object the cluster does not have, with one
// server-side apply whose answer is the new object's metadata only (all
// the mark needs; the API server spares encoding the whole object, and
// gitvend decoding it).
func (r *Reconciler) create(ctx context.Context, it *item) {
	body, err := json.Marshal(it.obj.Object)
	if err != nil {
		it.fail(fmt.Errorf("encode: %w", err))
		return
	}
	gvk := it.obj.GroupVersionKind()
	mapping, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		it.fail(fmt.Errorf("find the resource of %s: %w", gvk, err))
		return
	}
	force := true
	live, err := r.meta.Resource(mapping.Resource).Namespace(it.key.Namespace).Patch(ctx, it.key.Name,
		types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		it.fail(applyError(err))
		return
	}
	it.res.Action = Created
	r.seen.put(it.key, it.digest, fieldsTrusted(it, markOf(live)), nil)
}

// ssaApply lets ssa compare the object with a server-side dry-run and
// apply it when it differs.
func (r *Reconciler) ssaApply(ctx context.Context, it *item) {
	entry, err := r.rm.Apply(ctx, it.obj.DeepCopy(), ssa.DefaultApplyOptions())
	switch {
	case err != nil && immutable(err) && optedIn(it.obj):
		r.recreate(ctx, it)
		return
	case err != nil:
		it.fail(applyError(err))
		return
	}
	switch entry.Action {
	case ssa.CreatedAction:
		it.res.Action = Created
		r.seen.forget(it.key)
	case ssa.UnchangedAction:
		it.res.Action = Unchanged
		if it.listed {
			r.seen.put(it.key, it.digest, it.live.versionOnly(), nil)
		}
	default:
		it.res.Action = Configured
		r.seen.forget(it.key)
	}
}

// recreate deletes the live object, exactly the version read, waits until
// it is gone and creates it from Git.
func (r *Reconciler) recreate(ctx context.Context, it *item) {
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(it.obj.GroupVersionKind())
	nn := client.ObjectKeyFromObject(it.obj)
	if err := r.client.Get(ctx, nn, live); err != nil && !apierrors.IsNotFound(err) {
		it.fail(fmt.Errorf("read before recreating: %w", err))
		return
	} else if err == nil {
		uid := live.GetUID()
		err := r.client.Delete(ctx, live, client.Preconditions{UID: &uid},
			client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			it.fail(fmt.Errorf("delete to recreate: %w", err))
			return
		}
		err = wait.PollUntilContextTimeout(ctx, r.interval/4, stageTimeout, true, func(ctx context.Context) (bool, error) {
			err := r.client.Get(ctx, nn, live)
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		if err != nil {
			it.fail(fmt.Errorf("wait for the old object to go before recreating: %w", err))
			return
		}
	}
	r.create(ctx, it)
	if it.res.Action == Created {
		it.res.Action = Recreated
		it.res.Message = "an immutable field changed; deleted and created again as " + RecreateAnnotation + " allows"
	}
}

// dryRun reports what applying the object would do, writing nothing.
func (r *Reconciler) dryRun(ctx context.Context, it *item, newNamespaces map[string]bool) {
	entry, _, _, err := r.rm.Diff(ctx, it.obj.DeepCopy(), ssa.DefaultDiffOptions())
	switch {
	case err != nil && apierrors.IsNotFound(err) && newNamespaces[it.key.Namespace]:
		it.res.Action, it.res.Message = Created, "its namespace is created by the same apply"
	case err != nil && immutable(err) && optedIn(it.obj):
		it.res.Action = Recreated
		it.res.Message = "an immutable field changed; would be deleted and created again as " + RecreateAnnotation + " allows"
	case err != nil:
		it.fail(applyError(err))
	case entry.Action == ssa.CreatedAction:
		it.res.Action = Created
	case entry.Action == ssa.UnchangedAction:
		it.res.Action = Unchanged
	default:
		it.res.Action = Configured
	}
}

// immutable tells whether the API server refused a change to an immutable
// field. ssa's own test also takes every invalid object for one, which
// would let an invalid change delete the live object.
func immutable(err error) bool {
	return apierrors.IsInvalid(unwrapDryRun(err)) && strings.Contains(err.Error(), "immutable")
}

// adopted tells whether the object in Git lets gitvend adopt it: prune it
// although it existed before gitvend applied it.
func adopted(u *unstructured.Unstructured) bool {
	return u != nil && u.GetAnnotations()[AdoptAnnotation] == "true"
}

// optedIn tells whether the object allows gitvend to recreate it.
func optedIn(u *unstructured.Unstructured) bool {
	return u.GetAnnotations()[RecreateAnnotation] == "true"
}

// applyError turns an error from applying an object into what the result
// says.
func applyError(err error) error {
	if immutable(err) {
		return fmt.Errorf("an immutable field changed and the API server refuses the update; set the annotation %s: \"true\" on the object in Git to let gitvend delete and recreate it: %w", RecreateAnnotation, unwrapDryRun(err))
	}
	return unwrapDryRun(err)
}

// unwrapDryRun returns the API server's error inside ssa's dry-run error,
// whose own message repeats the object's name.
func unwrapDryRun(err error) error {
	var dr *ssaerrors.DryRunErr
	if errors.As(err, &dr) && dr.Unwrap() != nil {
		return dr.Unwrap()
	}
	return err
}

// waitEstablished waits for the CRDs and Namespaces just applied to be
// established, so that the objects that need them can be applied; those
// that are not in time are marked failed.
func (r *Reconciler) waitEstablished(ctx context.Context, pre []*item) {
	var wait []*item
	for _, it := range pre {
		if (it.key.isCRD() || it.key.isNamespace()) && (it.res.Action == Created || it.res.Action == Configured || it.res.Action == Recreated) {
			wait = append(wait, it)
		}
	}
	if len(wait) == 0 {
		return
	}
	timeout := r.target.HealthTimeout
	if timeout <= 0 {
		timeout = stageTimeout
	}
	statuses, _ := r.waitStatus(ctx, wait, timeout)
	for _, it := range wait {
		if s := statuses[it.key]; s.status != string(status.CurrentStatus) {
			it.res.Action = Failed
			it.res.Message = fmt.Sprintf("applied but not established within %s (status %s)", timeout, orUnknown(s.status))
			if s.message != "" {
				it.res.Message += ": " + s.message
			}
			it.res.retryable = true
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
