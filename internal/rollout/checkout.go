package rollout

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// keptCheckout is a checkout of a commit of a repository that a sync
// read, kept for the next one: in a big repository the next head differs
// in a few files, so moving the checkout writes those (gitrepo's
// ExportOver) where a fresh export writes, and afterwards removes, tens of
// thousands.
type keptCheckout struct {
	sha, dir string
}

// checkoutsKept bounds the idle checkouts kept per repository: the head a
// sync applies and the commit applied before it, which a change window
// compares it with.
const checkoutsKept = 2

// checkouts holds the idle checkouts of each repository, oldest first.
type checkouts struct {
	mu   sync.Mutex
	idle map[string][]keptCheckout // by config.RepoKey
}

// take removes and returns the idle checkout of key that holds sha, or
// else the oldest; ok is false when none is idle.
func (c *checkouts) take(key, sha string) (keptCheckout, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	idle := c.idle[key]
	if len(idle) == 0 {
		return keptCheckout{}, false
	}
	pick := 0
	for i, k := range idle {
		if k.sha == sha {
			pick = i
			break
		}
	}
	k := idle[pick]
	c.idle[key] = append(idle[:pick:pick], idle[pick+1:]...)
	return k, true
}

// put keeps k as the newest idle checkout of key, removing the oldest
// past the bound.
func (c *checkouts) put(key string, k keptCheckout) {
	c.mu.Lock()
	if c.idle == nil {
		c.idle = map[string][]keptCheckout{}
	}
	idle := append(c.idle[key], k)
	var drop []keptCheckout
	if n := len(idle) - checkoutsKept; n > 0 {
		drop, idle = idle[:n:n], idle[n:]
	}
	c.idle[key] = idle
	c.mu.Unlock()
	for _, d := range drop {
		_ = os.RemoveAll(d.dir)
	}
}

// checkout returns a checkout of commit sha of repository repo, exactly as
// a fresh export writes it (TestExportOverEqualsExport), with the commit's
// stamps for builds. It is the caller's alone until done gives it back;
// nothing writes into it meanwhile.
func (r *Rollout) checkout(ctx context.Context, clone *gitrepo.Repo, repo, sha string) (reconcile.Checkout, func(), error) {
	key := config.RepoKey(repo)
	k, ok := r.kept.take(key, sha)
	if ok && k.sha != sha {
		if err := clone.ExportOver(ctx, k.sha, sha, k.dir); err != nil {
			_ = os.RemoveAll(k.dir) // exported afresh below
			ok = false
		} else {
			k.sha = sha
		}
	}
	if !ok {
		dir, err := os.MkdirTemp(r.opts.ScratchDir, "gitvend-rollout-")
		if err != nil {
			return reconcile.Checkout{}, nil, fmt.Errorf("make scratch directory: %w", err)
		}
		if err := clone.Export(ctx, sha, dir); err != nil {
			_ = os.RemoveAll(dir)
			return reconcile.Checkout{}, nil, fmt.Errorf("export %.12s: %w", sha, err)
		}
		k = keptCheckout{sha: sha, dir: dir}
	}
	c := reconcile.Checkout{Dir: k.dir}
	if ix, err := clone.Index(ctx, sha); err == nil {
		c.Stamps = ix
	}
	return c, func() { r.kept.put(key, k) }, nil
}

// dropCheckouts removes the idle checkouts.
func (r *Rollout) dropCheckouts() {
	r.kept.mu.Lock()
	defer r.kept.mu.Unlock()
	for key, idle := range r.kept.idle {
		for _, k := range idle {
			_ = os.RemoveAll(k.dir)
		}
		delete(r.kept.idle, key)
	}
}
