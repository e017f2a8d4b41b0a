package rollout

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// Change windows.
//
// The windows of gitvend.yaml's environments (config.Window) hold the
// apply of merged commits: while a window holds a target's environment
// for a namespace the target's desired objects live in (a target that
// serves several environments is held when any of them holds), the head of
// the desired-state branch is not applied. Its gitvend/apply/<target>
// status is pending, "held by window <name> until <time>", and the merged
// pull request is told once, under a marker, when the change goes out.
// Run wakes when the hold ends, as at sleep's edges, and the head of the
// branch then, the newest merge, is applied once, taking every merge held
// before it along. Nothing of the hold is kept in the process: the head's
// status is not success, so every sync (and every process after a
// restart) works the hold out again from the clock, and applies once the
// windows let it.
//
// Drift during a hold is still found and reported; a target that heals
// itself waits for the hold's end (reconcile.Reconciler.SetHealGate).

// hold is why the apply of a target waits.
type hold struct {
	window      string    // the window that holds
	environment string    // its environment
	until       time.Time // when it lets go; zero when unknown
}

// description is the commit status of a held apply, with GitHub's limit
// kept by setStatus.
func (h hold) description() string {
	if h.until.IsZero() {
		return fmt.Sprintf("held by window %s of %s (it opens no later than a year from now)", h.window, h.environment)
	}
	return fmt.Sprintf("held by window %s until %s", h.window, formatUntil(h.until))
}

// formatUntil is how statuses and comments write the end of a hold.
func formatUntil(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// windowHold tells whether the apply of the objects target t builds from
// the checkout dir waits at now, and why. A commit that does not render
// is not held: its apply reports the render error.
func (r *Rollout) windowHold(ctx context.Context, t *targetState, dir string, now time.Time) (hold, bool, error) {
	cfg, err := config.LoadRepo(dir)
	if err != nil {
		return hold{}, false, fmt.Errorf("change windows of %s: %w", t.Name, err)
	}
	if !hasWindows(cfg, t) {
		return hold{}, false, nil
	}
	objs, err := reconcile.Desired(ctx, dir, t.Target)
	if err != nil {
		return hold{}, false, nil
	}
	h, held := holdOf(cfg, t, objs, now)
	return h, held, nil
}

// hasWindows tells whether an environment of target t declares windows.
func hasWindows(cfg *config.Repo, t *targetState) bool {
	for _, name := range t.Environments {
		if e, ok := cfg.Environment(name); ok && len(e.Windows) > 0 {
			return true
		}
	}
	return false
}

// holdOf tells whether the windows of cfg hold the apply of objs to
// target t at now: some environment of t holds a namespace of objs (""
// for cluster-scoped objects). Of several holds, the one that lets go
// last is told.
func holdOf(cfg *config.Repo, t *targetState, objs []*unstructured.Unstructured, now time.Time) (hold, bool) {
	namespaces := map[string]bool{}
	for _, o := range objs {
		namespaces[o.GetNamespace()] = true
	}
	var h hold
	held := false
	for _, env := range t.Environments {
		e, ok := cfg.Environment(env)
		if !ok || len(e.Windows) == 0 {
			continue
		}
		for ns := range namespaces {
			name, until, ok := e.Held(now, ns)
			if !ok || (held && h.until.IsZero()) {
				continue
			}
			if !held || until.IsZero() || until.After(h.until) {
				h, held = hold{window: name, environment: e.Name, until: until}, true
			}
		}
	}
	return h, held
}

// planHold marks plan p of target t, built from objs, with the hold the
// windows of the desired-state branch (baseDir) put on an apply at now.
func (r *Rollout) planHold(t *targetState, baseDir string, objs []*unstructured.Unstructured, p *reconcile.Plan) {
	cfg, err := config.LoadRepo(baseDir)
	if err != nil || !hasWindows(cfg, t) {
		return
	}
	if h, held := holdOf(cfg, t, objs, r.now()); held {
		p.HeldBy, p.HeldUntil = h.window, h.until.UTC()
	}
}

// setHeld records when the hold of target ends (zero: not held, or held
// with no end known), for Run to wake then and for the heal gate.
func (r *Rollout) setHeld(target string, held bool, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !held {
		delete(r.heldUntil, target)
		delete(r.heldApplies, target)
		return
	}
	r.heldUntil[target] = until
}

// HeldApply is a merged commit whose apply to a target a change window
// holds, as the status page shows it.
type HeldApply struct {
	Target      string    `json:"target"`
	Repository  string    `json:"repository"`
	Revision    string    `json:"revision"`
	Window      string    `json:"window"`
	Environment string    `json:"environment"`
	Until       time.Time `json:"until,omitzero"`
}

// Held returns the commits held by change windows, by target and in the
// order they were merged; the last of a target is the one applied when
// its hold ends. A restarted process lists each target's newest held
// commit only, found again at its first sync.
func (r *Rollout) Held() []HeldApply {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []HeldApply
	for _, t := range r.targets {
		out = append(out, r.heldApplies[t.Name]...)
	}
	return out
}

// recordHeld lists sha as held on target t for the status page.
func (r *Rollout) recordHeld(repo, sha string, t *targetState, h hold) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.heldApplies[t.Name]
	for _, a := range list {
		if a.Revision == sha {
			return
		}
	}
	r.heldApplies[t.Name] = append(list, HeldApply{Target: t.Name, Repository: repo, Revision: sha,
		Window: h.window, Environment: h.environment, Until: h.until.UTC()})
}

// heldNow tells whether target is held at now, by what the last sync found.
func (r *Rollout) heldNow(target string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.heldUntil[target]
	return ok && (until.IsZero() || now.Before(until))
}

// reportHeld sets the pending status of the held apply of sha to target
// and tells the merged pull request when it goes out, each once.
func (r *Rollout) reportHeld(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, sha string, t *targetState, h hold) error {
	desc := h.description()
	r.recordHeld(owner+"/"+name, sha, t, h)
	key := owner + "/" + name + "@" + sha + "/" + t.Name
	if r.once(key, "held: "+desc) {
		r.log.Info("apply held by a change window", "target", t.Name, "sha", sha, "window", h.window, "environment", h.environment, "until", h.until.UTC())
		if err := r.setStatus(ctx, gh, owner, name, sha, t.Name, "pending", desc); err != nil {
			r.forget(key)
			return fmt.Errorf("status of %s: %w", t.Name, err)
		}
	}
	info, err := clone.CommitInfo(ctx, sha)
	if err != nil {
		return fmt.Errorf("read commit %.12s: %w", sha, err)
	}
	pr := mergedPR(info.Message)
	if pr == 0 {
		return nil
	}
	body := heldComment(sha, t.Name, h)
	ckey := fmt.Sprintf("%s/%s#%d/held/%s", owner, name, pr, t.Name)
	if !r.once(ckey, body) {
		return nil
	}
	if _, err := gh.UpsertComment(ctx, owner, name, pr, "held:"+t.Name, body); err != nil {
		r.forget(ckey)
		return fmt.Errorf("comment on #%d: %w", pr, err)
	}
	return nil
}

// heldComment tells a merged pull request that its apply to target waits.
func heldComment(sha, target string, h hold) string {
	when := "when the window lets it go (it opens no later than a year from now)"
	if !h.until.IsZero() {
		when = "after " + formatUntil(h.until)
	}
	return fmt.Sprintf("### ⏸ Held by change window `%s`\n\nThe environment `%s` is in the change window `%s`: "+
		"this merge (`%.12s`) is not applied to target `%s` yet. It will be applied %s, together with "+
		"any later merge (the newest merged commit is applied then). The `%s%s` status shows when it is.\n",
		h.window, h.environment, h.window, sha, target, when, StatusPrefix, target)
}

// hadHold tells whether the last sync found target held (its hold may
// have ended since).
func (r *Rollout) hadHold(target string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.heldUntil[target]
	return ok
}

// healAfterHold heals the drift self-heal left alone during a hold of
// target, when the target heals itself.
func (r *Rollout) healAfterHold(ctx context.Context, t *targetState) {
	if !t.SelfHeal || t.ReportOnly {
		return
	}
	res, err := t.rec.Heal(ctx)
	if err != nil {
		r.log.Warn("self-heal at the end of a change window", "target", t.Name, "err", err)
		return
	}
	r.log.Info("self-healed at the end of a change window", "target", t.Name, "summary", res.Summary())
}

// edges are the times at which some target's sleep may change or its
// change window lets go; the caller holds r.mu.
func (r *Rollout) edges() []time.Time {
	out := make([]time.Time, 0, len(r.nextSleep)+len(r.heldUntil))
	for _, at := range r.nextSleep {
		out = append(out, at)
	}
	for _, at := range r.heldUntil {
		if !at.IsZero() {
			out = append(out, at)
		}
	}
	return out
}

// appliedNow tells whether someone allowed asked for sha to be applied at
// once despite the hold h of target t: gitvend's own commit status
// cluster.ApplyNow on sha, which the bot sets for /provision apply-now
// (its description names who asked and why). A status of that context set
// by anyone else is not asked about (GitHub.Status keeps to the
// App's).
func (r *Rollout) appliedNow(ctx context.Context, gh GitHub, owner, name, sha string, t *targetState, h hold) bool {
	st, err := gh.Status(ctx, owner, name, sha, cluster.ApplyNow)
	if err != nil {
		r.log.Warn("cannot read the apply-now override; held", "target", t.Name, "sha", sha, "err", err)
		return false
	}
	if st.State != "success" {
		return false
	}
	if r.once(owner+"/"+name+"@"+sha+"/"+t.Name+"/apply-now", "override") {
		r.log.Info("applied during a change window by override", "target", t.Name, "sha", sha, "window", h.window,
			"environment", h.environment, "override", st.Description)
	}
	return true
}
