package rollout

import (
	"context"
	"fmt"
	"time"

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
	var envs []config.Environment
	for _, name := range t.Environments {
		if e, ok := cfg.Environment(name); ok && len(e.Windows) > 0 {
			envs = append(envs, e)
		}
	}
	if len(envs) == 0 {
		return hold{}, false, nil
	}
	objs, err := reconcile.Desired(ctx, dir, t.Target)
	if err != nil {
		return hold{}, false, nil
	}
	namespaces := map[string]bool{}
	for _, o := range objs {
		namespaces[o.GetNamespace()] = true
	}
	var h hold
	held := false
	for _, e := range envs {
		for ns := range namespaces {
			name, until, ok := e.Held(now, ns)
			if !ok {
				continue
			}
			// The longest hold is the one that lets go last.
			if !held || until.IsZero() || (!h.until.IsZero() && until.After(h.until)) {
				h, held = hold{window: name, environment: e.Name, until: until}, true
			}
		}
	}
	return h, held, nil
}

// setHeld records when the hold of target ends (zero: not held, or held
// with no end known), for Run to wake then and for the heal gate.
func (r *Rollout) setHeld(target string, held bool, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !held {
		delete(r.heldUntil, target)
		return
	}
	r.heldUntil[target] = until
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
