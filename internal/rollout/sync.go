package rollout

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/retry"
)

// Applied is the outcome of one reconcile of one target.
type Applied struct {
	Target string
	Result *reconcile.Result // nil when the render failed
	Err    error
}

// Sync reconciles every target of repository repo with the head of its
// desired-state branch and reports the outcome on GitHub. It returns an
// error when some target did not converge, so the caller tries again.
func (r *Rollout) Sync(ctx context.Context, repo string) error {
	if c, ok := r.canonical(repo); ok {
		repo = c
	}
	gh, owner, name, err := r.client(ctx, repo)
	if err != nil {
		return err
	}
	branch, err := r.branches.Resolve(ctx, gh, repo)
	if err != nil {
		return err
	}
	clone, err := r.opts.Git.Open(ctx, owner, name)
	if err != nil {
		return fmt.Errorf("open clone of %s: %w", repo, err)
	}
	if err := clone.Fetch(ctx); err != nil {
		return fmt.Errorf("fetch %s: %w", repo, err)
	}
	sha, err := clone.Head(ctx, branch)
	if err != nil {
		return fmt.Errorf("head of %s %s: %w", repo, branch, err)
	}
	files, done, err := r.checkout(ctx, clone, repo, sha)
	if err != nil {
		return err
	}
	defer done()
	dir := files.Dir
	// A prune past a target's threshold needs the merged pull request's
	// confirmation, asked of GitHub once, when a target is to be applied.
	confirmed := sync.OnceValue(func() bool {
		info, err := clone.CommitInfo(ctx, sha)
		if err != nil {
			r.log.Warn("cannot read the commit; prune not confirmed", "repo", repo, "sha", sha, "err", err)
			return false
		}
		return r.pruneConfirmed(ctx, gh, owner, name, info.Message)
	})
	var applied []Applied
	var sleepErrs []error
	for _, t := range r.targets {
		if !config.SameRepo(t.Repository, repo) {
			continue
		}
		// Sharded, a target is applied only while this replica owns it,
		// under a context that ends when the ownership does.
		ctx, release, owned := r.claim(ctx, t)
		if !owned {
			continue
		}
		err := func() error {
			defer release()
			current, err := r.current(ctx, gh, owner, name, t, sha)
			if err != nil {
				return err
			}
			ws, err := r.windowHold(ctx, gh, clone, owner, name, sha, t, files, current, r.now())
			if err != nil {
				sleepErrs = append(sleepErrs, err)
				return nil
			}
			h, held := ws.apply, ws.held
			r.setHeld(t.Name, held, h.until)
			if current && ws.healEnded {
				// The window ended: what self-heal left alone is healed now.
				r.healAfterHold(ctx, t)
			}
			if current {
				// Applied in full already: only watched. Changes made by hand
				// since are drift, reported (and healed where the target
				// asks), never quietly overwritten by a periodic apply. Sleep
				// still comes and goes with the clock.
				if objs, err := r.desired(ctx, files, t.Target); err == nil {
					objs, settled, err := r.sleepTarget(ctx, t, dir, objs)
					if err != nil {
						sleepErrs = append(sleepErrs, fmt.Errorf("target %s: %w", t.Name, err))
						return nil
					}
					t.rec.Observe(objs, sha)
					settled()
				}
				r.settleHeld(ctx, gh, clone, owner, name, sha, t.Name)
				if err := r.revertOnSync(ctx, t); err != nil {
					r.log.Warn("revert asked on the drift issue", "target", t.Name, "err", err)
				}
				return nil
			}
			if waits, err := r.approvalGate(ctx, gh, clone, owner, name, branch, sha, t); waits || err != nil {
				if err != nil {
					sleepErrs = append(sleepErrs, fmt.Errorf("target %s: %w", t.Name, err))
				}
				// Waiting for approvals, the target is watched as applied:
				// drift is still reported and sleep goes on.
				if err := r.watchDuringHold(ctx, gh, clone, owner, name, sha, t, ws.healEnded); err != nil {
					sleepErrs = append(sleepErrs, fmt.Errorf("target %s: %w", t.Name, err))
				}
				return nil
			}
			if held && (r.appliedNow(ctx, gh, owner, name, sha, t, h) || r.expiryThrough(ctx, gh, clone, owner, name, sha, t, files)) {
				held = false
				r.setHeld(t.Name, false, time.Time{})
			}
			if held {
				if err := r.reportHeld(ctx, gh, clone, owner, name, sha, t, h); err != nil {
					sleepErrs = append(sleepErrs, fmt.Errorf("target %s: %w", t.Name, err))
				}
				if err := r.watchDuringHold(ctx, gh, clone, owner, name, sha, t, ws.healEnded); err != nil {
					sleepErrs = append(sleepErrs, fmt.Errorf("target %s: %w", t.Name, err))
				}
				return nil
			}
			r.setPending(ctx, gh, owner, name, sha, t.Name)
			a := r.applyTarget(ctx, t, files, sha, confirmed)
			if a.Err == nil {
				r.mu.Lock()
				r.applied[t.Name] = sha
				r.mu.Unlock()
				r.recheckDrift(ctx, t, sha)
			}
			applied = append(applied, a)
			return nil
		}()
		if err != nil {
			return err
		}
	}
	if len(applied) == 0 {
		return errors.Join(sleepErrs...)
	}
	var errs []error
	var succeeded []Applied
	for _, a := range applied {
		state, desc := statusOf(a)
		r.recordApply(repo, sha, a, state, desc)
		if state == "success" {
			succeeded = append(succeeded, a)
		} else if err := r.applyStatus(ctx, gh, owner, name, sha, a.Target, state, desc); err != nil {
			errs = append(errs, err)
		}
		if a.Err != nil {
			errs = append(errs, fmt.Errorf("target %s: %w", a.Target, a.Err))
		}
	}
	// A success status goes last: after a restart a target whose status
	// says success is only watched, so what follows its apply (the comment
	// on the merged pull request, the request issue closed) is done first,
	// and a process stopped in between applies (writing nothing) and
	// reports again.
	markApplied := func() error {
		var errs []error
		for _, a := range succeeded {
			state, desc := statusOf(a)
			if err := r.applyStatus(ctx, gh, owner, name, sha, a.Target, state, desc); err != nil {
				errs = append(errs, err)
				r.unmarkApplied(a.Target, sha)
				continue
			}
			r.settleHeld(ctx, gh, clone, owner, name, sha, a.Target)
		}
		return errors.Join(errs...)
	}
	errs = append(errs, sleepErrs...)
	if len(errs) > 0 {
		return errors.Join(append(errs, markApplied())...)
	}
	info, err := clone.CommitInfo(ctx, sha)
	if err != nil {
		return r.reportLater(succeeded, sha, fmt.Errorf("read commit %.12s: %w", sha, err))
	}
	for _, a := range applied {
		r.metrics.mergeToApplied.WithLabelValues(a.Target).Observe(r.now().Sub(info.Time).Seconds())
	}
	if pr := mergedPR(info.Message); pr > 0 {
		revert, rbErr := r.rollback(ctx, gh, clone, owner, name, dir, merge{sha: sha, info: info, pr: pr}, applied)
		if rbErr != nil {
			r.retryRollback(applied)
		}
		if err := r.report(ctx, gh, owner, name, pr, sha, dir, applied, revert); err != nil {
			return r.reportLater(succeeded, sha, err)
		}
		if rbErr != nil {
			return errors.Join(markApplied(), fmt.Errorf("propose the revert of %.12s: %w", sha, rbErr))
		}
	}
	return markApplied()
}

// applyStatus sets the gitvend/apply/<target> status of sha once per
// state and description.
func (r *Rollout) applyStatus(ctx context.Context, gh GitHub, owner, name, sha, target, state, desc string) error {
	key := owner + "/" + name + "@" + sha + "/" + target
	if !r.once(key, state+desc) {
		return nil
	}
	if err := r.setStatus(ctx, gh, owner, name, sha, target, state, desc); err != nil {
		r.forget(key)
		return fmt.Errorf("status of %s: %w", target, err)
	}
	return nil
}

// unmarkApplied forgets that this process applied sha to target, so that
// the next sync applies it again (writing nothing) and finishes what
// follows an apply.
func (r *Rollout) unmarkApplied(target, sha string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.applied[target] == sha {
		delete(r.applied, target)
	}
}

// reportLater leaves the targets of succeeded unmarked, so that the report
// that failed with err is made again at the next sync, and returns err.
func (r *Rollout) reportLater(succeeded []Applied, sha string, err error) error {
	for _, a := range succeeded {
		r.unmarkApplied(a.Target, sha)
	}
	return err
}

// current tells whether target t has sha applied in full: this process
// applied it, or (after a restart) gitvend's own commit status on sha says
// success; a status of the same context set by anyone else is not asked
// about (GitHub.StatusState keeps to the App's).
func (r *Rollout) current(ctx context.Context, gh GitHub, owner, name string, t *targetState, sha string) (bool, error) {
	r.mu.Lock()
	last, known := r.applied[t.Name]
	r.mu.Unlock()
	if known {
		return last == sha, nil
	}
	state, err := gh.StatusState(ctx, owner, name, sha, StatusPrefix+t.Name)
	if err != nil {
		return false, fmt.Errorf("status of %s on %.12s: %w", t.Name, sha, err)
	}
	r.mu.Lock()
	r.applied[t.Name] = "" // asked once per process
	if state == "success" {
		r.applied[t.Name] = sha
	}
	r.mu.Unlock()
	return state == "success", nil
}

// applyTarget renders and applies one target; confirmed tells, when asked,
// whether the change may prune past the target's threshold.
func (r *Rollout) applyTarget(ctx context.Context, t *targetState, files reconcile.Checkout, sha string, confirmed func() bool) Applied {
	objs, err := r.desired(ctx, files, t.Target)
	if err != nil {
		// The same commit renders the same way: only a new one can fix it.
		return Applied{Target: t.Name, Err: retry.Terminal(fmt.Errorf("render: %w", err))}
	}
	// Sleep first: what sleep changes is recorded before the apply
	// writes the sleeping values, and the apply does not wake anything.
	objs, settled, err := r.sleepTarget(ctx, t, files.Dir, objs)
	if err != nil {
		return Applied{Target: t.Name, Err: fmt.Errorf("sleep: %w", err)}
	}
	res, err := t.rec.ApplyWith(ctx, objs, sha, reconcile.ApplyOptions{ConfirmPrune: confirmed})
	settled()
	r.metrics.observeApply(t.Name, res, err)
	return Applied{Target: t.Name, Result: res, Err: err}
}

// statusOf turns an apply into a commit status state and description.
func statusOf(a Applied) (string, string) {
	switch {
	case a.Result == nil:
		return "error", "render failed: " + a.Err.Error()
	case a.Err != nil || a.Result.Count(reconcile.Failed) > 0:
		return "failure", a.Result.Summary()
	case a.Result.Count(reconcile.Refused) > 0:
		return "failure", a.Result.Summary() + " (refused by the target's allow-lists)"
	case !a.Result.Healthy():
		// The reason first: a long one is cut at the end.
		return "failure", healthLine(a.Result) + "; " + a.Result.Summary()
	case a.Result.DryRun:
		return "success", "report only: " + a.Result.Summary()
	}
	return "success", a.Result.Summary()
}

var mergeMessage = []*regexp.Regexp{
	regexp.MustCompile(`^Merge pull request #(\d+) `),
	regexp.MustCompile(`\(#(\d+)\)$`), // squash merges
}

// mergedPR reads the pull request a merge commit's message names, or 0.
func mergedPR(message string) int {
	first, _, _ := strings.Cut(message, "\n")
	for _, re := range mergeMessage {
		if m := re.FindStringSubmatch(strings.TrimSpace(first)); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}

// once tells whether value is new for key, and records it.
func (r *Rollout) once(key, value string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.reported.Get(key); ok && last == value {
		return false
	}
	r.reported.Add(key, value)
	return true
}

// forget drops what once recorded for key, so that it is posted again.
func (r *Rollout) forget(key string) {
	r.reported.Remove(key)
}
