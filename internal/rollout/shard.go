package rollout

import (
	"context"
	"sync"
)

// ownership is whether this replica owns a target now, when the rollout
// is sharded (Options.Sharded), and the syncs of the target running under
// that ownership.
type ownership struct {
	mu   sync.Mutex
	ctx  context.Context // the owner's context while Own runs; nil otherwise
	busy sync.WaitGroup  // syncs of the target running under ctx
}

// Own applies and watches target for drift while ctx lasts, in a sharded
// rollout (Options.Sharded), and returns once ctx has ended and no sync of
// the target is running any more: another replica may then take the
// target over. It is the work a replica runs for each target it holds
// (see leader.Shards). The target's repository is reconciled at once. An
// unknown target is ignored.
func (r *Rollout) Own(ctx context.Context, target string) {
	var t *targetState
	for _, c := range r.targets {
		if c.Name == target {
			t = c
		}
	}
	if t == nil {
		r.log.Warn("asked to own a target that is not configured", "target", target)
		return
	}
	// The previous owner may have put objects to sleep or woken them;
	// forgotten before any sync of this ownership can start.
	t.sleep.forget()
	t.own.mu.Lock()
	t.own.ctx = ctx
	t.own.mu.Unlock()
	r.log.Info("owning target", "target", target)
	if repo, ok := r.canonical(t.Repository); ok {
		r.Kick(repo)
	}
	r.monitor(ctx, t)
	<-ctx.Done()
	t.own.mu.Lock()
	t.own.ctx = nil
	t.own.mu.Unlock()
	t.own.busy.Wait()
	// What this replica knew of the target goes with the ownership: the
	// desired objects and comparisons it kept (the next owner keeps them),
	// and the commit it last applied, which another owner may have moved
	// on from; taken back, the target's status on GitHub says what is
	// applied.
	t.rec.Release()
	r.mu.Lock()
	delete(r.applied, t.Name)
	r.mu.Unlock()
	r.log.Info("no longer owning target", "target", target)
}

// claim returns the context a sync of target t runs under, and its
// release, when this replica may apply t now: always when the rollout is
// not sharded, else only while Own runs for t, and then the context ends
// with the ownership.
func (r *Rollout) claim(ctx context.Context, t *targetState) (context.Context, func(), bool) {
	if !r.opts.Sharded {
		return ctx, func() {}, true
	}
	t.own.mu.Lock()
	defer t.own.mu.Unlock()
	if t.own.ctx == nil || t.own.ctx.Err() != nil {
		return nil, nil, false
	}
	t.own.busy.Add(1)
	tctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(t.own.ctx, cancel)
	return tctx, func() {
		stop()
		cancel()
		t.own.busy.Done()
	}, true
}
