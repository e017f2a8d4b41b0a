package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Sleeping environments.
//
// The sleep schedules of gitvend.yaml (config.Sleep) put the workloads of
// an environment's namespaces to sleep: at every reconcile of a target the
// rollout works out, for each Deployment, StatefulSet, CronJob and
// HorizontalPodAutoscaler the target's environments build, whether it
// should sleep now, and makes the cluster say so:
//
//   - a Deployment or StatefulSet sleeps at spec.replicas 0;
//   - a CronJob sleeps at spec.suspend true;
//   - a workload an HPA of the same environment scales is not scaled by
//     gitvend: the HPA would scale it back, and the API server refuses an
//     HPA minReplicas of 0 unless the alpha HPAScaleToZero feature gate is
//     on. The HPA sleeps instead, at minReplicas and maxReplicas 1, so the
//     cluster keeps the workload at one replica until it wakes.
//
// What sleep changed is recorded in the SleepAnnotation of the object it
// changed, as JSON of the values before (such as {"replicas":5}), written
// in the same patch that changes them, and restored from it exactly on
// wake, annotation removed. The annotation rather than the inventory: the
// record travels with the object it restores (a deleted object takes its
// record along, so nothing stale is ever restored), is written atomically
// with the change, is there for whichever replica leads after a restart,
// and shows anyone running kubectl why a workload is at zero.
//
// Sleep and wake patch with their own field manager, SleepFieldManager
// (a JSON merge patch, an update): the fields it sets change owner, so a
// later apply that leaves them out does not remove them. While asleep, the
// objects gitvend applies and watches for drift carry the sleeping values,
// so an apply of a new commit does not wake anything, and self-heal keeps
// the workloads asleep; their sleep fields are quiet to drift
// (reconcile.Reconciler.SetQuiet) from before the first patch until the
// wake is done, so gitvend's own sleep is never drift. A workload created
// while asleep is created at zero with the record of Git's values.
//
// A wake override (Rollout.Wake, from /provision wake) is the
// AwakeUntilAnnotation on the Namespace, an RFC 3339 time: until then the
// namespace's workloads stay awake whatever the schedule says. Being in the
// cluster, it is found again after a restart, like a sleep window that
// started while gitvend was down: the state is worked out from the clock
// at every reconcile, never from events.
//
// Sleep goes on during a change window, and while a window holds a merge
// (the commit last applied sleeps); a window with sleep: hold keeps the
// workloads it covers as they are, asleep or awake, wake overrides
// included, until it ends (holdSleep).
const (
	// SleepAnnotation holds what sleep changed on an object.
	SleepAnnotation = "gitvend.dev/asleep"
	// AwakeUntilAnnotation on a Namespace keeps its workloads awake until
	// the RFC 3339 time it holds.
	AwakeUntilAnnotation = "gitvend.dev/awake-until"
	// SleepFieldManager is the field manager of sleep's and wake's patches.
	SleepFieldManager = "gitvend-sleep"
)

// sleepKind is how one kind sleeps.
type sleepKind struct {
	// paths are the fields sleep sets, as drift reports name them.
	paths []string
	// record reads the values sleep would change from a live object.
	record func(u *unstructured.Unstructured) map[string]any
	// asleep are the sleeping values, by field.
	asleep map[string]any
}

// sleepKinds are the kinds that sleep, by group/kind.
var sleepKinds = map[string]sleepKind{
	"apps/Deployment":  replicasKind,
	"apps/StatefulSet": replicasKind,
	"batch/CronJob": {paths: []string{"spec.suspend"}, asleep: map[string]any{"suspend": true},
		record: func(u *unstructured.Unstructured) map[string]any {
			v, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
			return map[string]any{"suspend": v}
		}},
	"autoscaling/HorizontalPodAutoscaler": {paths: []string{"spec.minReplicas", "spec.maxReplicas"},
		asleep: map[string]any{"minReplicas": int64(1), "maxReplicas": int64(1)},
		record: func(u *unstructured.Unstructured) map[string]any {
			return map[string]any{"minReplicas": int64Or(u, 1, "spec", "minReplicas"), "maxReplicas": int64Or(u, 1, "spec", "maxReplicas")}
		}},
}

var replicasKind = sleepKind{paths: []string{"spec.replicas"}, asleep: map[string]any{"replicas": int64(0)},
	record: func(u *unstructured.Unstructured) map[string]any {
		return map[string]any{"replicas": int64Or(u, 1, "spec", "replicas")}
	}}

func int64Or(u *unstructured.Unstructured, def int64, path ...string) int64 {
	if v, ok, _ := unstructured.NestedInt64(u.Object, path...); ok {
		return v
	}
	return def
}

func kindKey(u *unstructured.Unstructured) string {
	return u.GroupVersionKind().Group + "/" + u.GetKind()
}

// sleeper is one target's sleep: its cluster client, what it set quiet,
// and which objects carry a sleep record.
type sleeper struct {
	c  client.Client
	mu sync.Mutex
	// quiet are the fields of what sleeps, set quiet by the last
	// reconcile.
	quiet map[manifest.ID][]string
	// records are the objects known to carry a sleep record, complete
	// once swept: enact has read every object that may sleep since the
	// sleeper last forgot (at the start of a leadership or an ownership
	// of the target, when another process may have written records).
	// Once swept, an object that should be awake and is not in records
	// is not read: it has nothing to wake, so a reconcile of a target
	// where nothing sleeps reads nothing, whatever the target holds.
	records map[manifest.ID]bool
	swept   bool
}

// forget drops what the sleeper knows of the cluster's sleep records: the
// next enact reads every object that may sleep again.
func (s *sleeper) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records, s.swept = nil, false
}

// mayHoldRecord tells whether enact must read the object id to know
// whether it carries a sleep record.
func (s *sleeper) mayHoldRecord(id manifest.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.swept || s.records[id]
}

// noteRecord records whether the object id carries a sleep record.
func (s *sleeper) noteRecord(id manifest.ID, has bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records == nil {
		s.records = map[manifest.ID]bool{}
	}
	if has {
		s.records[id] = true
	} else {
		delete(s.records, id)
	}
}

// sweptAll marks the records complete.
func (s *sleeper) sweptAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.swept = true
}

// sleepItem is one object that may sleep.
type sleepItem struct {
	obj   *unstructured.Unstructured // desired
	kind  sleepKind
	sleep bool // should sleep now
}

// sleepPlan is what sleep should do on a target now.
type sleepPlan struct {
	items []sleepItem
	// next is when the plan may change next (zero when never).
	next time.Time
}

// planSleep works out which objects of objs, built for target t from the
// checkout dir, should sleep at now.
func (r *Rollout) planSleep(ctx context.Context, t *targetState, dir string, objs []*unstructured.Unstructured, now time.Time) (sleepPlan, error) {
	var p sleepPlan
	cfg, err := config.LoadRepo(dir)
	if err != nil {
		return p, err
	}
	envs, err := environmentsOf(ctx, dir, cfg, t, objs)
	if err != nil {
		return p, err
	}
	scaled := map[string]bool{} // namespace/kind/name of workloads an HPA scales
	for _, o := range objs {
		if kindKey(o) == "autoscaling/HorizontalPodAutoscaler" {
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "kind")
			name, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "name")
			scaled[o.GetNamespace()+"/"+kind+"/"+name] = true
		}
	}
	awake := map[string]time.Time{} // namespace → awake until
	soonest := func(at time.Time) {
		if !at.IsZero() && (p.next.IsZero() || at.Before(p.next)) {
			p.next = at
		}
	}
	for _, o := range objs {
		kind, ok := sleepKinds[kindKey(o)]
		if !ok || scaled[o.GetNamespace()+"/"+o.GetKind()+"/"+o.GetName()] ||
			!cluster.NamespaceAllowed(t.Namespaces, o.GetNamespace()) {
			continue
		}
		it := sleepItem{obj: o, kind: kind}
		if s, ok := cfg.SleepFor(envs[o], o.GetNamespace()); ok {
			asleep, next := s.Asleep(now)
			soonest(next)
			until, known := awake[o.GetNamespace()]
			if !known {
				if until, err = t.sleep.awakeUntil(ctx, o.GetNamespace()); err != nil {
					return p, err
				}
				awake[o.GetNamespace()] = until
			}
			if until.After(now) {
				soonest(until)
				asleep = false
			}
			it.sleep = asleep
		}
		p.items = append(p.items, it)
	}
	return p, r.holdSleep(ctx, t, dir, cfg, envs, &p, now, soonest)
}

// holdSleep keeps, in plan p, the objects a change window with sleep:
// hold holds at now as they are in the cluster, asleep or awake, and
// makes p change again when the hold ends. Without such a window sleep
// goes on during a freeze.
func (r *Rollout) holdSleep(ctx context.Context, t *targetState, dir string, cfg *config.Repo, envs map[*unstructured.Unstructured]string,
	p *sleepPlan, now time.Time, soonest func(time.Time)) error {
	if len(p.items) == 0 || !hasWindows(cfg, t) {
		return nil
	}
	objs := make([]*unstructured.Unstructured, len(p.items))
	for i, it := range p.items {
		objs[i] = it.obj
	}
	subjects, err := subjectsOf(ctx, dir, cfg, t, objs)
	if err != nil {
		return err
	}
	for i, it := range p.items {
		_, until, held := config.HeldBy(now, subjects[it.obj], config.ForSleep, windowSets(cfg, t, envs[it.obj])...)
		if !held {
			continue
		}
		asleep, err := t.sleep.recorded(ctx, it.obj)
		if err != nil {
			return err
		}
		p.items[i].sleep = asleep
		soonest(until)
	}
	return nil
}

// recorded tells whether o sleeps in the cluster: it carries the sleep
// record.
func (s *sleeper) recorded(ctx context.Context, o *unstructured.Unstructured) (bool, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(o.GroupVersionKind())
	err := s.c.Get(ctx, client.ObjectKeyFromObject(o), live)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", describe(o), err)
	}
	_, ok := live.GetAnnotations()[SleepAnnotation]
	return ok, nil
}

// environmentsOf tells which environment built each object of objs: the
// target's one environment, or, for a target serving several, the
// environment whose build holds it (the first, for an object several
// build alike).
func environmentsOf(ctx context.Context, dir string, cfg *config.Repo, t *targetState, objs []*unstructured.Unstructured) (map[*unstructured.Unstructured]string, error) {
	out := make(map[*unstructured.Unstructured]string, len(objs))
	if len(t.Environments) == 1 || len(cfg.Sleep) == 0 {
		for _, o := range objs {
			out[o] = t.Environments[0]
		}
		return out, nil
	}
	built, err := builtBy(ctx, dir, cfg, t)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		out[o] = built[idOf(o)].env
	}
	return out, nil
}

// awakeUntil reads the wake override of namespace: zero when none (or
// the namespace does not exist yet).
func (s *sleeper) awakeUntil(ctx context.Context, namespace string) (time.Time, error) {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	err := s.c.Get(ctx, client.ObjectKey{Name: namespace}, ns)
	if apierrors.IsNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read namespace %s: %w", namespace, err)
	}
	raw, ok := ns.GetAnnotations()[AwakeUntilAnnotation]
	if !ok {
		return time.Time{}, nil
	}
	until, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, nil // not gitvend's writing: no override
	}
	return until, nil
}

// setAwakeUntil writes the wake override of namespace.
func (s *sleeper) setAwakeUntil(ctx context.Context, namespace string, until time.Time) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{
		AwakeUntilAnnotation: until.UTC().Format(time.RFC3339)}}})
	if err != nil {
		return err
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(namespace)
	if err := s.c.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(SleepFieldManager)); err != nil {
		return fmt.Errorf("keep namespace %s awake: %w", namespace, err)
	}
	return nil
}

// quiet is the fields of p's objects drift must leave out: those of every
// object that sleeps.
func (p sleepPlan) quiet() map[manifest.ID][]string {
	out := map[manifest.ID][]string{}
	for _, it := range p.items {
		if it.sleep {
			id := manifest.ID{APIVersion: it.obj.GetAPIVersion(), Kind: it.obj.GetKind(), Namespace: it.obj.GetNamespace(), Name: it.obj.GetName()}
			out[id] = it.kind.paths
		}
	}
	return out
}

// enact makes the cluster sleep or wake as p says: an object that should
// sleep and has no record gets one and its sleeping values; one that
// sleeps already is put back to them when changed; one that should be
// awake and has a record is restored from it. It returns the objects to
// apply and watch instead of objs: the sleeping ones with their sleeping
// values (and, for those not in the cluster yet, the record of Git's).
// It counts what it put to sleep and woke. Objects that should be awake
// are read only until the sleeper knows which carry a record (see
// sleeper.records).
func (s *sleeper) enact(ctx context.Context, p sleepPlan, objs []*unstructured.Unstructured) (out []*unstructured.Unstructured, slept, woke int, err error) {
	replace := map[*unstructured.Unstructured]*unstructured.Unstructured{}
	var errs []error
	for _, it := range p.items {
		id := idOf(it.obj)
		if !it.sleep && !s.mayHoldRecord(id) {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(it.obj.GroupVersionKind())
		err := s.c.Get(ctx, client.ObjectKeyFromObject(it.obj), live)
		exists := err == nil
		if err != nil && !apierrors.IsNotFound(err) {
			s.noteRecord(id, true) // unknown: read it again next time
			errs = append(errs, fmt.Errorf("read %s: %w", describe(it.obj), err))
			continue
		}
		var rec map[string]any
		raw, recorded := live.GetAnnotations()[SleepAnnotation] // none when it does not exist
		if recorded {
			if err := json.Unmarshal([]byte(raw), &rec); err != nil {
				rec = nil // unreadable: sleep records anew, wake leaves it
			}
		}
		// A record stays until a patch removes it; an object created
		// asleep by the apply will carry one.
		s.noteRecord(id, recorded || it.sleep)
		switch {
		case it.sleep:
			record := rec
			if record == nil {
				src := live
				if !exists {
					src = it.obj
				}
				record = it.kind.record(src)
			}
			want := asleepObject(it.obj, it.kind, record, !exists)
			replace[it.obj] = want
			if !exists {
				slept++
				continue // created asleep by the apply
			}
			if rec != nil && matches(live, it.kind.asleep) {
				continue
			}
			if err := s.patch(ctx, live, it.kind.asleep, record); err != nil {
				errs = append(errs, err)
				continue
			}
			if rec == nil {
				slept++
			}
		case rec != nil:
			if err := s.patch(ctx, live, rec, nil); err != nil {
				errs = append(errs, err)
				continue
			}
			s.noteRecord(id, false)
			woke++
		}
	}
	if len(errs) == 0 {
		s.sweptAll()
	}
	out = make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		if w, ok := replace[o]; ok {
			o = w
		}
		out[i] = o
	}
	return out, slept, woke, errors.Join(errs...)
}

// asleepObject is desired object o with its sleeping values; one that is
// created asleep carries the record of Git's values too.
func asleepObject(o *unstructured.Unstructured, k sleepKind, record map[string]any, create bool) *unstructured.Unstructured {
	w := o.DeepCopy()
	for f, v := range k.asleep {
		_ = unstructured.SetNestedField(w.Object, v, "spec", f)
	}
	if create {
		raw, _ := json.Marshal(record)
		ann := w.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[SleepAnnotation] = string(raw)
		w.SetAnnotations(ann)
	}
	return w
}

// matches tells whether live's spec holds values.
func matches(live *unstructured.Unstructured, values map[string]any) bool {
	for f, v := range values {
		got, ok, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", f)
		if !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// patch sets values in live's spec with a JSON merge patch, and the sleep
// record (removed when nil), as SleepFieldManager. The patch carries the
// live resourceVersion, so that a change made since it was read fails the
// patch (and the next reconcile reads it again) rather than being
// recorded wrong.
func (s *sleeper) patch(ctx context.Context, live *unstructured.Unstructured, values, record map[string]any) error {
	var ann any // null removes the record
	if record != nil {
		raw, err := json.Marshal(record)
		if err != nil {
			return err
		}
		ann = string(raw)
	}
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": live.GetResourceVersion(), "annotations": map[string]any{SleepAnnotation: ann}},
		"spec":     values,
	})
	if err != nil {
		return err
	}
	if err := s.c.Patch(ctx, live, client.RawPatch(types.MergePatchType, body), client.FieldOwner(SleepFieldManager)); err != nil {
		what := "wake"
		if record != nil {
			what = "put to sleep"
		}
		return fmt.Errorf("%s %s: %w", what, describe(live), err)
	}
	return nil
}

func describe(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
}

// sleepTarget brings target t's sleep to what the schedules of the
// checkout dir and the wake overrides say at now, and returns the objects
// to apply or watch in place of objs, and settle, to be called once they
// were applied or observed (or not, when the apply failed). Nothing is
// written to a target that only reports.
//
// Sleep and wake change the cluster before the desired state the drift
// monitor compares with: from the first write until settle, the fields of
// both what slept and what sleeps now are quiet, and the target's
// reconciler does not heal (reconcile.Reconciler.BeginChange), which
// would write the replaced desired state back. settle narrows the quiet
// fields to what sleeps now only when the new objects are the desired
// state the reconciler watches; after an apply that failed before it got
// there, both stay quiet until a later reconcile settles. A drift check
// of the replaced objects that outlasts the change is dropped by the
// monitor, so neither sleep nor wake is ever reported as drift.
func (r *Rollout) sleepTarget(ctx context.Context, t *targetState, dir string, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, func(), error) {
	if t.ReportOnly || t.sleep == nil {
		return objs, func() {}, nil
	}
	now := r.now()
	p, err := r.planSleep(ctx, t, dir, objs, now)
	if err != nil {
		return nil, nil, fmt.Errorf("sleep schedules of %s: %w", t.Name, err)
	}
	r.setNextSleep(t.Name, p.next)
	end := t.rec.BeginChange()
	// While the cluster and the objects watched change, both what slept
	// and what sleeps now are quiet. (After a restart nothing is watched
	// before the first reconcile, so what slept then needs no quiet.)
	asleep, during := p.quiet(), map[manifest.ID][]string{}
	t.sleep.mu.Lock()
	maps.Copy(during, t.sleep.quiet)
	t.sleep.mu.Unlock()
	maps.Copy(during, asleep)
	t.rec.SetQuiet(during)
	out, slept, woke, err := t.sleep.enact(ctx, p, objs)
	if slept+woke > 0 {
		r.log.Info("sleep", "target", t.Name, "asleep", slept, "woken", woke)
	}
	if err != nil {
		end()
		return nil, nil, err
	}
	return out, func() {
		defer end()
		if !t.rec.Recorded(out) {
			return
		}
		// The objects watched carry the new state: only what sleeps
		// stays quiet.
		t.rec.SetQuiet(asleep)
		t.sleep.mu.Lock()
		t.sleep.quiet = asleep
		t.sleep.mu.Unlock()
	}, nil
}

// setNextSleep records when target's sleep may change next.
func (r *Rollout) setNextSleep(target string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at.IsZero() {
		delete(r.nextSleep, target)
		return
	}
	r.nextSleep[target] = at
}

// sleepDue returns a channel that fires (a second late, to be sure the
// schedule reads the new state) when the sleep of some target may change
// next, nil when none will. A time already past is left to the sync that
// failed to move it, retried with its backoff.
func (r *Rollout) sleepDue() <-chan time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	now := r.now()
	for _, at := range r.edges() {
		if !at.After(now) {
			continue
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if next.IsZero() {
		return nil
	}
	return time.After(next.Sub(now) + time.Second)
}

// Wake keeps the workloads of namespace in environment awake until until,
// whatever the sleep schedules say, on every target of repository repo
// that serves environment and may hold namespace, and asks for a
// reconcile, which wakes them. The override is the AwakeUntilAnnotation of
// the namespace, found again after a restart. A namespace that does not
// exist on a target is skipped.
func (r *Rollout) Wake(ctx context.Context, repo, environment, namespace string, until time.Time) error {
	repo, ok := r.canonical(repo)
	if !ok {
		return fmt.Errorf("repository %s is not served", repo)
	}
	var errs []error
	for _, t := range r.targets {
		if !config.SameRepo(t.Repository, repo) || !slices.Contains(t.Environments, environment) ||
			!cluster.NamespaceAllowed(t.Namespaces, namespace) || t.ReportOnly || t.sleep == nil {
			continue
		}
		current, err := t.sleep.awakeUntil(ctx, namespace)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !current.Before(until) {
			continue // awake that long already
		}
		if err := t.sleep.setAwakeUntil(ctx, namespace, until); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("target %s: %w", t.Name, err))
		}
	}
	r.Kick(repo)
	return errors.Join(errs...)
}
