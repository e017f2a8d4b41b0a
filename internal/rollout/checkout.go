package rollout

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// keptCheckout is a checkout of a repository's branch head that a sync
// read, kept for the next one: in a big repository the next head differs
// in a few files, so moving the checkout writes those (gitrepo's
// ExportOver) where a fresh export writes, and afterwards removes, tens of
// thousands.
type keptCheckout struct {
	sha, dir string
}

// checkouts holds one idle checkout per repository.
type checkouts struct {
	mu   sync.Mutex
	idle map[string]keptCheckout // by owner/name
}

// checkout returns a checkout of commit sha of repository repo, exactly as
// a fresh export writes it (TestExportOverEqualsExport), with the commit's
// stamps for builds. It is the caller's alone until done gives it back;
// nothing writes into it meanwhile.
func (r *Rollout) checkout(ctx context.Context, clone *gitrepo.Repo, repo, sha string) (reconcile.Checkout, func(), error) {
	r.kept.mu.Lock()
	k, ok := r.kept.idle[repo]
	delete(r.kept.idle, repo)
	r.kept.mu.Unlock()
	if ok && k.sha != sha {
		if err := clone.ExportOver(ctx, k.sha, sha, k.dir); err != nil {
			_ = os.RemoveAll(k.dir)
			ok = false
		}
		k.sha = sha
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
	done := func() {
		r.kept.mu.Lock()
		old, had := r.kept.idle[repo]
		if r.kept.idle == nil {
			r.kept.idle = map[string]keptCheckout{}
		}
		r.kept.idle[repo] = k
		r.kept.mu.Unlock()
		if had {
			_ = os.RemoveAll(old.dir)
		}
	}
	return c, done, nil
}

// dropCheckouts removes the idle checkouts.
func (r *Rollout) dropCheckouts() {
	r.kept.mu.Lock()
	defer r.kept.mu.Unlock()
	for repo, k := range r.kept.idle {
		_ = os.RemoveAll(k.dir)
		delete(r.kept.idle, repo)
	}
}
