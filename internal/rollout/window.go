package rollout

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// Change windows.
//
// The windows of gitvend.yaml's environments (config.Window), and those
// the server configuration puts on a target (cluster.Target.Windows, the
// platform team's, each set worked out on its own so that the
// repository's cannot weaken them), hold the apply of merged commits:
// while a window holds, for the namespace and owner of an object the
// head of the desired-state branch changes from the commit last applied,
// an environment of the target (a target that serves several is held
// when any of them holds), the head is not applied. Its
// gitvend/apply/<target> status is pending, "held by window <name> until
// <time>", and the merged pull request is told once, under a marker, when
// the change goes out. Run wakes when the hold ends, as at sleep's edges,
// and the head of the branch then, the newest merge, is applied once,
// taking every merge held before it along; their statuses are settled
// then (settleHeld). Nothing of the hold is kept in the process: the
// head's status is not success, so every sync (and every process after a
// restart) works the hold out again from the clock, and applies once the
// windows let it.
//
// During a hold the target watches the commit last applied, found again
// after a restart from gitvend's own statuses (watchDuringHold): drift is
// reported, and sleep goes on unless a window says sleep: hold. A target
// that heals itself waits for the end of the windows that hold self-heal
// (reconcile.Reconciler.SetHealGate; a window with selfHeal: true does
// not). The removal of an expired request that gitvend merged goes
// through a window that allows expiry (expiryThrough).

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
		return fmt.Sprintf(heldPrefix+"window %s of %s (it opens no later than a year from now)", h.window, h.environment)
	}
	return fmt.Sprintf(heldPrefix+"window %s until %s", h.window, formatUntil(h.until))
}

// formatUntil is how statuses and comments write the end of a hold.
func formatUntil(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// windowState is what the change windows say of a target at a sync.
type windowState struct {
	apply hold // why the apply waits, when held
	held  bool
	// healEnded is set when self-heal was held at the last sync and is
	// not now: what it left alone is to be healed.
	healEnded bool
}

// windowHold tells whether the apply of head, checked out in files, to
// target t waits at now, and why, and records whether self-heal waits
// (for the heal gate and Run's wake). The apply is asked about only when
// head is not applied (current false), for the objects it changes from
// the commit last applied (every object, when none is known): a window
// limited to namespaces or owners holds the changes it covers, not every
// merge to a target that holds such objects. The windows that hold it are
// those of head's gitvend.yaml and those of the commit last applied, each
// judging with its own teams: a merge cannot lift the freeze it is merged
// in (by removing or narrowing a window, or moving a team's paths), since
// the rules in force are those applied. Self-heal is asked about for
// every object of the target, by head's rules. A commit that does not
// render is not held: its apply reports the render error.
func (r *Rollout) windowHold(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, head string, t *targetState, files reconcile.Checkout, current bool, now time.Time) (windowState, error) {
	dir := files.Dir
	var ws windowState
	cfg, err := config.LoadRepo(dir)
	if err != nil {
		return ws, fmt.Errorf("change windows of %s: %w", t.Name, err)
	}
	objs, err := r.desired(ctx, files, t.Target)
	if err != nil {
		ws.healEnded = r.setHealHeld(t.Name, false, time.Time{})
		return ws, nil
	}
	if !hasWindows(cfg, t) {
		ws.healEnded = r.setHealHeld(t.Name, false, time.Time{})
	} else {
		subjects, err := subjectsOf(ctx, dir, cfg, t, objs)
		if err != nil {
			return ws, fmt.Errorf("change windows of %s: %w", t.Name, err)
		}
		heal, healHeld := holdOf(cfg, t, subjects, now, config.ForSelfHeal)
		ws.healEnded = r.setHealHeld(t.Name, healHeld, heal.until)
	}
	if current {
		return ws, nil
	}
	applied, err := r.exportApplied(ctx, gh, clone, owner, name, head, t)
	if err != nil {
		return ws, fmt.Errorf("change windows of %s: %w", t.Name, err)
	}
	defer applied.close()
	for _, rules := range []*config.Repo{cfg, applied.cfg} {
		if rules == nil || !hasWindows(rules, t) {
			continue
		}
		changed, err := changedUnder(ctx, rules, t, dir, objs, applied)
		if err != nil {
			return ws, fmt.Errorf("change windows of %s: %w", t.Name, err)
		}
		if h, held := holdOf(rules, t, changed, now, config.ForApply); held && (!ws.held || later(h, ws.apply)) {
			ws.apply, ws.held = h, true
		}
	}
	return ws, nil
}

// later tells whether hold a lets go after hold b (an unknown end is the
// latest).
func later(a, b hold) bool {
	return !b.until.IsZero() && (a.until.IsZero() || a.until.After(b.until))
}

// appliedCommit is the commit last applied to a target, exported to a
// scratch directory: its objects and its gitvend.yaml. Zero when no
// applied commit is known, or when it no longer builds or reads (its
// fields are then nil).
type appliedCommit struct {
	sha  string
	dir  string
	cfg  *config.Repo
	objs []*unstructured.Unstructured
	done func() // gives the checkout back
}

// close gives the checkout back.
func (a appliedCommit) close() {
	if a.done != nil {
		a.done()
	}
}

// exportApplied checks out the commit last applied to target t before
// head (see lastApplied), moving a kept checkout when there is one (see
// checkout); call close on the result.
func (r *Rollout) exportApplied(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, head string, t *targetState) (appliedCommit, error) {
	sha, err := r.lastApplied(ctx, gh, clone, owner, name, head, t)
	if err != nil || sha == "" {
		return appliedCommit{}, err
	}
	files, done, err := r.checkout(ctx, clone, t.Repository, sha)
	if err != nil {
		return appliedCommit{}, err
	}
	a := appliedCommit{sha: sha, dir: files.Dir, done: done}
	if a.objs, err = r.desired(ctx, files, t.Target); err != nil {
		a.objs = nil
	}
	if a.cfg, err = config.LoadRepo(files.Dir); err != nil {
		a.cfg = nil
	}
	return a, nil
}

// changedUnder are the subjects, as the rules of cfg place them, of the
// objects of head (objs, built from headDir) that differ from the commit
// applied, and of those it has and head has not; every object of head
// when no applied commit is known or it does not build.
func changedUnder(ctx context.Context, cfg *config.Repo, t *targetState, headDir string, objs []*unstructured.Unstructured, applied appliedCommit) (map[*unstructured.Unstructured]config.Subject, error) {
	subjects, err := subjectsOf(ctx, headDir, cfg, t, objs)
	if err != nil || applied.objs == nil {
		return subjects, err
	}
	was, err := subjectsOf(ctx, applied.dir, cfg, t, applied.objs)
	if err != nil {
		return subjects, nil
	}
	return changedBetween(applied.objs, objs, was, subjects), nil
}

// hasWindows tells whether target t, or an environment of it, declares
// windows.
func hasWindows(cfg *config.Repo, t *targetState) bool {
	if len(t.Windows) > 0 {
		return true
	}
	for _, name := range t.Environments {
		if e, ok := cfg.Environment(name); ok && len(e.Windows) > 0 {
			return true
		}
	}
	return false
}

// windowSets are the windows that apply to environment env of target t,
// each set on its own: the target's (the platform team's), then the
// environment's (the repository's), which cannot weaken the target's.
func windowSets(cfg *config.Repo, t *targetState, env string) []config.Windows {
	sets := []config.Windows{config.TargetWindows(t.Target)}
	if e, ok := cfg.Environment(env); ok {
		sets = append(sets, e.Windows)
	}
	return sets
}

// needsOwners tells whether a window of target t or its environments is
// limited to owners.
func needsOwners(cfg *config.Repo, t *targetState) bool {
	for _, env := range t.Environments {
		for _, ws := range windowSets(cfg, t, env) {
			for _, w := range ws {
				if len(w.Owners) > 0 {
					return true
				}
			}
		}
	}
	return false
}

// subjectsOf is what windows may apply to of each object of objs, built
// for target t from the checkout dir with cfg: its namespace, and, when a
// window is limited to owners, the team that owns it as gitvend's checks
// place it (check.Owners: from its path and cfg's teams, never from a
// label on the object).
func subjectsOf(ctx context.Context, dir string, cfg *config.Repo, t *targetState, objs []*unstructured.Unstructured) (map[*unstructured.Unstructured]config.Subject, error) {
	out := make(map[*unstructured.Unstructured]config.Subject, len(objs))
	for _, o := range objs {
		out[o] = config.Subject{Namespace: o.GetNamespace()}
	}
	if !needsOwners(cfg, t) {
		return out, nil
	}
	built, err := builtBy(ctx, dir, cfg, t)
	if err != nil {
		return nil, err
	}
	ownerOf := check.Owners(dir, cfg)
	for _, o := range objs {
		if b, ok := built[idOf(o)]; ok {
			s := out[o]
			s.Owner = ownerOf(&b.obj)
			out[o] = s
		}
	}
	return out, nil
}

// holdOf tells whether the windows of cfg and of target t hold purpose p
// for some of subjects at now, in some environment of t. Of several
// holds, the one that lets go last is told.
func holdOf(cfg *config.Repo, t *targetState, subjects map[*unstructured.Unstructured]config.Subject, now time.Time, p config.Purpose) (hold, bool) {
	distinct := map[config.Subject]bool{}
	for _, s := range subjects {
		distinct[s] = true
	}
	var h hold
	held := false
	for _, env := range t.Environments {
		sets := windowSets(cfg, t, env)
		for s := range distinct {
			name, until, ok := config.HeldBy(now, s, p, sets...)
			if !ok || (held && h.until.IsZero()) {
				continue
			}
			if !held || until.IsZero() || until.After(h.until) {
				h, held = hold{window: name, environment: env, until: until}, true
			}
		}
	}
	return h, held
}

// planHold marks plan p of target t with the hold the windows put on an
// apply at now of what the pull request changes: the objects of head
// (built from headDir) that differ from base (built from baseDir; nil when
// it does not build, and every object of head counts), and those of base
// it removes, judged as the apply will judge them, by the windows of the
// desired-state branch and of the pull request's gitvend.yaml.
func (r *Rollout) planHold(ctx context.Context, t *targetState, baseDir, headDir string, base, head []*unstructured.Unstructured, p *reconcile.Plan) {
	baseCfg, _ := config.LoadRepo(baseDir)
	headCfg, _ := config.LoadRepo(headDir)
	was := appliedCommit{dir: baseDir, cfg: baseCfg, objs: base} // not closed: the caller's
	var h hold
	held := false
	for _, rules := range []*config.Repo{baseCfg, headCfg} {
		if rules == nil || !hasWindows(rules, t) {
			continue
		}
		changed, err := changedUnder(ctx, rules, t, headDir, head, was)
		if err != nil {
			continue
		}
		if hh, ok := holdOf(rules, t, changed, r.now(), config.ForApply); ok && (!held || later(hh, h)) {
			h, held = hh, true
		}
	}
	if held {
		p.HeldBy, p.HeldUntil = h.window, h.until.UTC()
	}
}

// changedBetween are the subjects of the objects of after that differ
// from before, and of those of before that after has not.
func changedBetween(before, after []*unstructured.Unstructured, was, is map[*unstructured.Unstructured]config.Subject) map[*unstructured.Unstructured]config.Subject {
	old := make(map[manifest.ID]*unstructured.Unstructured, len(before))
	for _, o := range before {
		old[idOf(o)] = o
	}
	out := map[*unstructured.Unstructured]config.Subject{}
	for _, o := range after {
		id := idOf(o)
		if prev, ok := old[id]; !ok || !equality.Semantic.DeepEqual(prev.Object, o.Object) {
			out[o] = is[o]
		}
		delete(old, id)
	}
	for _, o := range old {
		out[o] = was[o]
	}
	return out
}

// setHealHeld records whether self-heal of target waits, and until when
// (zero: unknown), and tells whether it waited until now and no longer.
func (r *Rollout) setHealHeld(target string, held bool, until time.Time) (ended bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, was := r.healUntil[target]
	if !held {
		delete(r.healUntil, target)
		return was
	}
	r.healUntil[target] = until
	return false
}

// healHeldNow tells whether self-heal of target waits at now, by what the
// last sync found.
func (r *Rollout) healHeldNow(target string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.healUntil[target]
	return ok && (until.IsZero() || now.Before(until))
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
	out := make([]time.Time, 0, len(r.nextSleep)+len(r.heldUntil)+len(r.healUntil))
	for _, at := range r.nextSleep {
		out = append(out, at)
	}
	for _, held := range []map[string]time.Time{r.heldUntil, r.healUntil} {
		for _, at := range held {
			if !at.IsZero() {
				out = append(out, at)
			}
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

// maxHeldHistory bounds how many commits of the desired-state branch are
// walked back to find the commit last applied to a target, or the merges
// held before one applied.
const maxHeldHistory = 200

// watchDuringHold keeps target t watched while a window holds the apply
// of head, or it waits for approvals: the commit last applied in full (found again after a restart
// from gitvend's own statuses on the branch's first-parent history) is
// what drift is compared with, so drift during a hold is reported in a
// new process too, and its sleep schedules go on (a window with sleep:
// hold keeps the workloads as they are, see planSleep). healEnded heals
// what self-heal left alone, when its hold just ended.
func (r *Rollout) watchDuringHold(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, head string, t *targetState, healEnded bool) error {
	applied, err := r.lastApplied(ctx, gh, clone, owner, name, head, t)
	if err != nil || applied == "" {
		return err
	}
	files, done, err := r.checkout(ctx, clone, t.Repository, applied)
	if err != nil {
		return err
	}
	defer done()
	dir := files.Dir
	objs, err := r.desired(ctx, files, t.Target)
	if err != nil {
		return nil // applied once, yet not rendering now: nothing to watch
	}
	objs, settled, err := r.sleepTarget(ctx, t, dir, objs)
	if err != nil {
		return err
	}
	t.rec.Observe(objs, applied)
	settled()
	if healEnded {
		r.healAfterHold(ctx, t)
	}
	return nil
}

// lastApplied is the commit last applied in full to target t before head:
// the one this process applied, else the newest first-parent ancestor of
// head with gitvend's own success status for t; "" when none is found.
func (r *Rollout) lastApplied(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, head string, t *targetState) (string, error) {
	r.mu.Lock()
	last := r.applied[t.Name]
	r.mu.Unlock()
	if last != "" && last != head {
		return last, nil
	}
	sha := head
	for range maxHeldHistory {
		info, err := clone.CommitInfo(ctx, sha)
		if err != nil {
			return "", fmt.Errorf("read commit %.12s: %w", sha, err)
		}
		if len(info.Parents) == 0 {
			return "", nil
		}
		sha = info.Parents[0]
		st, err := gh.Status(ctx, owner, name, sha, StatusPrefix+t.Name)
		if err != nil {
			return "", fmt.Errorf("status of %s on %.12s: %w", t.Name, sha, err)
		}
		if st.State == "success" {
			r.mu.Lock()
			r.applied[t.Name] = sha
			r.mu.Unlock()
			return sha, nil
		}
	}
	return "", nil
}

// heldPrefix starts the description of a held apply's status.
const heldPrefix = "held by "

// settleHeld settles, once sha is applied to target, the statuses of the
// merges held before it: walking the first-parent history back from sha
// to the last commit with a success status, each pending "held by …"
// status becomes success, "applied with <sha>", so that no held merge
// stays pending. It is asked at every sync that finds sha applied, and
// does its walk once per process, so a restart finishes what a crash
// left.
func (r *Rollout) settleHeld(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, sha, target string) {
	key := owner + "/" + name + "@" + sha + "/" + target + "/settled"
	if !r.once(key, "settled") {
		return
	}
	fail := func(err error) {
		r.forget(key)
		r.log.Warn("cannot settle the merges held before an apply; trying again at the next sync", "target", target, "sha", sha, "err", err)
	}
	at := sha
	for range maxHeldHistory {
		info, err := clone.CommitInfo(ctx, at)
		if err != nil {
			fail(err)
			return
		}
		if len(info.Parents) == 0 {
			return
		}
		at = info.Parents[0]
		st, err := gh.Status(ctx, owner, name, at, StatusPrefix+target)
		if err != nil {
			fail(err)
			return
		}
		switch {
		case st.State == "success":
			return // applied, and what came before settled then
		case st.State == "pending" && strings.HasPrefix(st.Description, heldPrefix):
			if err := r.setStatus(ctx, gh, owner, name, at, target, "success", fmt.Sprintf("applied with %.7s", sha)); err != nil {
				fail(err)
				return
			}
			r.log.Info("held merge settled", "target", target, "sha", at, "applied", sha)
		}
	}
}

// TargetWindows are the change windows the targets that serve environment
// of repository repo declare in the server configuration, one set per
// target with windows: for the bot, whose expiry honours them.
func (r *Rollout) TargetWindows(repo, environment string) []config.Windows {
	var out []config.Windows
	for _, t := range r.targets {
		if config.SameRepo(t.Repository, repo) && slices.Contains(t.Environments, environment) && len(t.Windows) > 0 {
			out = append(out, config.TargetWindows(t.Target))
		}
	}
	return out
}

// repoPath is file, as a tree opened at dir names it, relative to dir and
// slash-separated, as the repository layout reads it.
// builtObject is an object as an environment of a target builds it, its
// file relative to the checkout.
type builtObject struct {
	env string
	obj manifest.Object
}

// builtBy builds every environment of target t from the checkout dir with
// cfg, and tells which one built each object (the first of the target's
// environments, for an object several build alike) and from which file.
func builtBy(ctx context.Context, dir string, cfg *config.Repo, t *targetState) (map[manifest.ID]builtObject, error) {
	tree, err := manifest.OpenTree(ctx, dir, manifest.Limits{})
	if err != nil {
		return nil, fmt.Errorf("build target %s: %w", t.Name, err)
	}
	defer tree.Close()
	out := map[manifest.ID]builtObject{}
	for _, name := range t.Environments {
		env, ok := cfg.Environment(name)
		if !ok {
			continue
		}
		built, err := desired.BuildEnvironment(tree, env)
		if err != nil {
			return nil, fmt.Errorf("build environment %s: %w", name, err)
		}
		for _, o := range built {
			if _, seen := out[o.ID]; !seen {
				o.File = repoPath(dir, o.File)
				out[o.ID] = builtObject{env: name, obj: o}
			}
		}
	}
	return out, nil
}

// idOf is the identity of a built object.
func idOf(o *unstructured.Unstructured) manifest.ID {
	return manifest.ID{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

func repoPath(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(file)
}
