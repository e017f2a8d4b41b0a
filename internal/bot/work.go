package bot

import (
	"context"
	"fmt"
	"os"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/retry"
)

// work is what one job knows of its repository: the client, the clone, and
// the default branch's head checked out with its configuration and catalog.
type work struct {
	gh          GitHub
	clone       Clone
	owner, name string
	full        string
	branch      string // the default branch
	baseSHA     string
	baseDir     string
	base        *desired.Checkout // baseDir, its records read once
	cfg         *config.Repo
	cat         *blueprint.Catalog
	cleanup     func()
}

// open prepares a job on repository full: client, fetched clone, and the
// default branch's head exported into a scratch directory.
func (b *Bot) open(ctx context.Context, full string) (*work, error) {
	owner, name, err := splitRepo(full)
	if err != nil {
		return nil, err
	}
	gh, err := b.opts.Clients.ForRepo(ctx, owner, name)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", full, err)
	}
	branch, err := b.branches.Resolve(ctx, gh, full)
	if err != nil {
		return nil, err
	}
	clone, err := b.opts.Git.Open(ctx, owner, name)
	if err != nil {
		return nil, fmt.Errorf("open clone of %s: %w", full, err)
	}
	sha, err := clone.Head(ctx, branch)
	if err != nil {
		return nil, fmt.Errorf("head of %s %s: %w", full, branch, err)
	}
	base, err := b.base(ctx, clone, full, sha)
	if err != nil {
		return nil, err
	}
	return &work{gh: gh, clone: clone, owner: owner, name: name, full: full, branch: branch, baseSHA: sha, baseDir: base.dir, base: base.co,
		cfg: base.cfg, cat: base.cat, cleanup: func() { b.release(base) }}, nil
}

// baseTree is a default branch head checked out once and shared, read-only,
// by the jobs that run on it, with its configuration and catalog loaded.
type baseTree struct {
	repo  string // owner/name
	sha   string
	dir   string
	cfg   *config.Repo
	cat   *blueprint.Catalog
	co    *desired.Checkout
	users int
	stale bool // a newer head replaced it; removed when its last user leaves
}

// base returns the checkout of sha, making it when it is new.
func (b *Bot) base(ctx context.Context, clone Clone, full, sha string) (*baseTree, error) {
	b.baseMu.Lock()
	defer b.baseMu.Unlock()
	if t := b.bases[full]; t != nil && t.sha == sha {
		t.users++
		return t, nil
	}
	dir, cleanup, err := b.checkout(ctx, clone, full, sha, "base")
	if err != nil {
		return nil, err
	}
	t := &baseTree{repo: full, sha: sha, dir: dir, co: desired.NewCheckout(dir), users: 1}
	if t.cfg, err = config.LoadRepo(dir); err != nil {
		cleanup()
		return nil, retry.Terminal(fmt.Errorf("%s at %.12s: %w", full, sha, err)) // fixed by a new commit only
	}
	if t.cat, err = blueprint.Load(ctx, blueprint.RepoSources(dir)...); err != nil {
		cleanup()
		return nil, retry.Terminal(fmt.Errorf("%s at %.12s: blueprints: %w", full, sha, err))
	}
	if old := b.bases[full]; old != nil {
		old.stale = true
		if old.users == 0 {
			b.retire(old)
		}
	}
	b.bases[full] = t
	return t, nil
}

// release ends a job's use of a base checkout.
func (b *Bot) release(t *baseTree) {
	b.baseMu.Lock()
	defer b.baseMu.Unlock()
	if t.users--; t.users == 0 && t.stale {
		b.retire(t)
	}
}

// retire hands a base checkout no job uses any more to the idle heads:
// the next head or base of its repository is a few files away from it.
func (b *Bot) retire(t *baseTree) {
	b.heads.put(&headTree{repo: t.repo, sha: t.sha, dir: t.dir})
}

// checkout checks out commit sha of repository full for reading: an idle
// checkout of the repository moved to sha when the clone can (see
// idleAt), a fresh export otherwise. done removes it.
func (b *Bot) checkout(ctx context.Context, clone Clone, full, sha, what string) (dir string, done func(), err error) {
	t, err := b.idleAt(ctx, clone, full, sha, 0) // under baseMu: never waits
	switch {
	case err != nil:
		return "", nil, err
	case t == nil:
		return b.export(ctx, clone, sha, what)
	}
	return t.dir, func() { _ = os.RemoveAll(t.dir) }, nil
}

// export checks out commit sha of the clone into a scratch directory.
func (b *Bot) export(ctx context.Context, clone Clone, sha, what string) (string, func(), error) {
	dir, cleanup, err := b.scratch(what)
	if err != nil {
		return "", nil, err
	}
	if err := clone.Export(ctx, sha, dir); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("export %.12s: %w", sha, err)
	}
	return dir, cleanup, nil
}
