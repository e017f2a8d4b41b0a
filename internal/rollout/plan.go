package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// DefaultPlanTimeout bounds how long one target's plan may take; a target
// that does not answer in time is reported unreachable.
const DefaultPlanTimeout = 30 * time.Second

// Plan tells what merging the checkout head of repository repo (a pull
// request's head) onto the checkout base (its base) would do on every
// target that serves repo and an environment whose build differs between
// the two: one reconcile.Plan each, in the order of the configuration,
// found with server-side dry-runs and writing nothing. Only the objects
// the change adds, alters or removes are compared with the cluster
// (reconcile.PlanChange), so a plan costs what the pull request changes,
// not what the target holds; where the base does not build, every object
// is. A target whose cluster cannot be asked within the plan timeout gets
// a plan that says so (Unreachable) instead of an error, so that the
// others are still shown; a head that does not build gets one saying that
// (BuildError).
func (r *Rollout) Plan(ctx context.Context, repo string, base, head reconcile.Checkout) []*reconcile.Plan {
	var out []*reconcile.Plan
	for _, t := range r.targets {
		if !config.SameRepo(t.Repository, repo) {
			continue
		}
		c, err := r.change(ctx, t, base, head)
		if err != nil {
			out = append(out, &reconcile.Plan{Target: t.Name, Environments: t.Environments, BuildError: err.Error()})
			continue
		}
		if c.same() {
			continue // the pull request does not touch this target
		}
		split := r.split(c)
		plan := func(ctx context.Context) (*reconcile.Plan, error) { return t.rec.PlanChange(ctx, split, "") }
		p := planWithin(ctx, t.rec.Target(), plan, r.planTimeout())
		r.planHold(ctx, t, base.Dir, head.Dir, c.base, c.head, p)
		out = append(out, p)
	}
	return out
}

// targetChange is a target built from a change's base and head checkouts;
// base is nil when the base does not build. key names both builds ("" when
// either checkout is not stamped).
type targetChange struct {
	base, head []*unstructured.Unstructured
	key        string
}

// change builds target t from both checkouts; the error is the head's.
// The objects are shared (see shared): only read them.
func (r *Rollout) change(ctx context.Context, t *targetState, base, head reconcile.Checkout) (targetChange, error) {
	h, err := r.shared(ctx, head, t.Target)
	if err != nil {
		return targetChange{}, err
	}
	b, err := r.shared(ctx, base, t.Target)
	if err != nil {
		b = nil
	}
	c := targetChange{base: b, head: h}
	if bk, hk := buildKey(base, t.Target), buildKey(head, t.Target); b != nil && bk != "" && hk != "" {
		c.key = bk + "\x00" + hk
	}
	return c, nil
}

// split is the change split by what it touches (reconcile.SplitChange),
// found once for the adoptions and the plan of the same change.
func (r *Rollout) split(c targetChange) reconcile.Change {
	if c.key != "" {
		if s, ok := r.splits.Get(c.key); ok {
			return s
		}
	}
	s := reconcile.SplitChange(c.base, c.head)
	if c.key != "" {
		r.splits.Add(c.key, s)
	}
	return s
}

// buildKey names the build of target t from checkout c by the stamp of
// the whole tree (which names every file, gitvend.yaml included); "" when
// c is not stamped or holds links.
func buildKey(c reconcile.Checkout, t cluster.Target) string {
	if c.Stamps == nil || c.Stamps.Links() != 0 {
		return ""
	}
	root, ok := c.Stamps.Folder(".")
	if !ok {
		return ""
	}
	return t.Name + "\x00" + root
}

// sharedBuildsKept bounds the target builds shared between plans and
// adoptions: the base and the heads checked last; as many splits of a
// change are kept.
const sharedBuildsKept = 8

// shared is r.desired for callers that only read the objects, whose
// content it shares with the folder builds (reconcile.DesiredShared): the
// build of a stamped checkout is kept by target and by the stamp of the
// whole tree (which names every file, gitvend.yaml included), so the base
// of every pull request is built once, and a head once for its adoptions
// and its plan; objects of a folder both leave alone share their content.
func (r *Rollout) shared(ctx context.Context, c reconcile.Checkout, t cluster.Target) ([]*unstructured.Unstructured, error) {
	key := buildKey(c, t)
	if key != "" {
		if objs, ok := r.sharedBuilds.Get(key); ok {
			return objs, nil
		}
	}
	objs, err := reconcile.DesiredShared(ctx, c, t, r.builds)
	if err == nil && key != "" {
		r.sharedBuilds.Add(key, objs)
	}
	return objs, err
}

// same tells whether the base built and holds the same objects as the head.
func (c targetChange) same() bool {
	return c.base != nil && reconcile.SameObjects(c.base, c.head)
}

func (r *Rollout) planTimeout() time.Duration {
	if r.opts.PlanTimeout > 0 {
		return r.opts.PlanTimeout
	}
	return DefaultPlanTimeout
}

// PlanTarget plans objs on the target rec reaches within timeout (see
// Rollout.Plan): what gitvend apply --dry-run prints, from the same code.
func PlanTarget(ctx context.Context, rec *reconcile.Reconciler, objs []*unstructured.Unstructured, timeout time.Duration) *reconcile.Plan {
	return planWithin(ctx, rec.Target(), func(ctx context.Context) (*reconcile.Plan, error) { return rec.Plan(ctx, objs, "") }, timeout)
}

// planWithin runs plan, a plan of target t, in its own goroutine so that
// the wait is bounded even where a client call does not honour the
// context (such as discovery): past timeout the target is reported
// unreachable and the call left to finish on its own.
func planWithin(ctx context.Context, t cluster.Target, plan func(context.Context) (*reconcile.Plan, error), timeout time.Duration) *reconcile.Plan {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	type result struct {
		p   *reconcile.Plan
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer cancel()
		p, err := plan(ctx)
		done <- result{p, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return &reconcile.Plan{Target: t.Name, Environments: t.Environments, Unreachable: unreachable(res.err, timeout)}
		}
		return res.p
	case <-ctx.Done():
		return &reconcile.Plan{Target: t.Name, Environments: t.Environments, Unreachable: unreachable(ctx.Err(), timeout)}
	}
}

// unreachable says why a target could not be planned.
func unreachable(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return err.Error()
}

// pruneConfirmed tells whether the merge commit sha (message its commit
// message) came from a pull request whose head commit carries gitvend's
// confirmation to prune past the threshold: the commit status
// cluster.ConfirmPrune, which the bot sets on the head only, so that a
// push after the confirmation needs another. A commit that names no pull
// request is not confirmed.
func (r *Rollout) pruneConfirmed(ctx context.Context, gh GitHub, owner, name, message string) bool {
	n := mergedPR(message)
	if n == 0 {
		return false
	}
	pr, err := gh.GetPR(ctx, owner, name, n)
	if err != nil {
		r.log.Warn("cannot read the merged pull request; prune not confirmed", "repo", owner+"/"+name, "pr", n, "err", err)
		return false
	}
	state, err := gh.StatusState(ctx, owner, name, pr.HeadSHA, cluster.ConfirmPrune)
	if err != nil {
		r.log.Warn("cannot read the prune confirmation; prune not confirmed", "repo", owner+"/"+name, "pr", n, "err", err)
		return false
	}
	return state == "success"
}
