package reconcile

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ReportFunc receives every drift report, for the caller to present (the
// rollout keeps it as the target's drift issue).
type ReportFunc func(context.Context, *DriftReport) error

// Monitor checks the target for drift until ctx ends, comparing the
// cluster with the objects of the last Apply: when the watches start after
// every Apply, whenever Watch reports a change to a managed object, and
// every DriftInterval as the backstop. Every report goes to report. When
// the target self-heals and drift is found, the objects are applied again
// and checked once more, so that the next report shows the healed state.
// Failed checks are logged and tried again at the next occasion. Monitor
// waits for the first Apply before it checks anything.
func (r *Reconciler) Monitor(ctx context.Context, report ReportFunc) error {
	tick := time.NewTicker(r.target.DriftInterval)
	defer tick.Stop()
	for {
		objs, rev, ok, applied := r.lastApply()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-applied:
				continue
			}
		}
		wctx, stop := context.WithCancel(ctx)
		trigger := make(chan struct{}, 1)
		watchDone := make(chan struct{})
		go func() {
			defer close(watchDone)
			err := r.Watch(wctx, objs, func() {
				select {
				case trigger <- struct{}{}:
				default:
				}
			})
			if err != nil {
				r.log.Warn("watch managed objects", "err", err)
			}
		}()
		for again := true; again; {
			select {
			case <-ctx.Done():
				stop()
				<-watchDone
				return nil
			case <-applied:
				again = false
			case <-trigger:
				r.checkDrift(ctx, objs, rev, applied, report)
			case <-tick.C:
				r.checkDrift(ctx, objs, rev, applied, report)
			}
		}
		stop()
		<-watchDone
	}
}

// checkDrift runs one drift check of objs, the desired state at rev,
// reports it and heals when the target self-heals. applied is closed when
// an apply (or Observe) replaces objs: a check it outdates is dropped, not
// reported, and the monitor checks the new desired state instead.
//
// A check outdated that way compared the cluster with a desired state
// that is gone, and may have read the quiet fields (SetQuiet) of the new
// one. The rollout changes the cluster for a sleep or a wake first, with
// the fields it changes quiet, then records the new desired state, then
// narrows the quiet fields to what still sleeps: a check that read the
// woken workloads and compared them with the sleeping desired state, but
// read the quiet fields after the wake settled, would report the wake as
// drift. Drift reads the quiet fields after the cluster, and the check
// below comes after both: when applied is still open, the quiet fields it
// read are those of objs (or of the transition under way, which covers
// both states), so they match the cluster it read.
func (r *Reconciler) checkDrift(ctx context.Context, objs []*unstructured.Unstructured, rev string, applied <-chan struct{}, report ReportFunc) {
	if outdated(applied) {
		return
	}
	rep, err := r.Drift(ctx, objs)
	if err != nil {
		r.log.Warn("check drift", "err", err)
		return
	}
	if outdated(applied) {
		r.log.Debug("drift check outdated by an apply; dropped", "revision", rev)
		return
	}
	rep.Revision = rev
	r.send(ctx, report, rep)
	if !rep.HasDrift() || !r.target.SelfHeal || r.target.ReportOnly || !r.healAllowed() {
		return
	}
	res, err := r.Heal(ctx)
	if err != nil {
		r.log.Warn("self-heal", "err", err)
	} else {
		r.log.Info("self-healed", "summary", res.Summary())
	}
	if rep, err = r.Drift(ctx, objs); err != nil {
		r.log.Warn("check drift after self-heal", "err", err)
		return
	}
	if outdated(applied) {
		return
	}
	rep.Revision = rev
	r.send(ctx, report, rep)
}

// outdated tells whether applied, the channel of the desired state a
// check compares with, is closed: a newer one replaced it.
func outdated(applied <-chan struct{}) bool {
	select {
	case <-applied:
		return true
	default:
		return false
	}
}

func (r *Reconciler) send(ctx context.Context, report ReportFunc, rep *DriftReport) {
	if report == nil {
		return
	}
	if err := report(ctx, rep); err != nil {
		r.log.Warn("report drift", "err", err)
	}
}

// SetHealGate makes self-heal ask allowed before it heals drift it found:
// while allowed says false (a change window holds the target), drift is
// reported and left as it is. nil allows always.
func (r *Reconciler) SetHealGate(allowed func() bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.healGate = allowed
}

func (r *Reconciler) healAllowed() bool {
	r.mu.Lock()
	gate := r.healGate
	r.mu.Unlock()
	return gate == nil || gate()
}
