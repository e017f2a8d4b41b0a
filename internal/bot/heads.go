package bot

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/retry"
)

// overExporter is a clone that can move a checkout from one commit to
// another by writing only what differs (gitrepo.Repo.ExportOver).
type overExporter interface {
	ExportOver(ctx context.Context, from, sha, dir string) error
}

// indexer is a clone that indexes commits (gitrepo.Repo.Index).
type indexer interface {
	Index(ctx context.Context, sha string) (*gitrepo.Index, error)
}

// stamps are what the check of a checkout of commit sha may trust for
// its files (see manifest.Stamps): the commit's index, nil when the clone
// has none.
func (b *Bot) stamps(ctx context.Context, w *work, sha string) manifest.Stamps {
	ix, ok := w.clone.(indexer)
	if !ok {
		return nil
	}
	idx, err := ix.Index(ctx, sha)
	if err != nil {
		return nil // the check reads the files, and finds what is wrong
	}
	return idx
}

// maxIdleHeads bounds the head checkouts kept between jobs.
const maxIdleHeads = 4

// headTree is a checkout of a head commit kept between jobs: in a big
// repository a pull request's head differs from the last one checked in a
// few files, so moving a kept checkout costs what changed where a fresh
// export costs the whole tree (twice per pull request: the check and the
// plan).
type headTree struct {
	repo string // owner/name
	sha  string // the commit it holds, exactly as Export writes it
	dir  string
}

// headPool holds the idle head checkouts, newest last. A checkout is
// owned by one job at a time; the jobs only read it.
type headPool struct {
	mu     sync.Mutex
	idle   []*headTree
	warmed map[string]bool // repositories warmHeads kept a checkout for
	lent   map[string]int  // checkouts jobs hold, by repository
	back   chan struct{}   // closed, and replaced, when a checkout comes back
}

// headWait bounds how long a job waits for a checkout another job holds
// before it exports a new one: a job holds one for its check and plan (a
// second or two even in a repository of 10,000 requests), where a fresh
// export of such a repository writes 50,000 files.
const headWait = 5 * time.Second

// borrow takes the idle checkout of repo that holds sha, or else the
// newest of repo, for a job; when none is idle but jobs hold some, it
// waits up to wait for one to come back. nil when none came.
func (p *headPool) borrow(ctx context.Context, repo, sha string, wait time.Duration) *headTree {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		p.mu.Lock()
		t := p.takeLocked(repo, sha)
		if t != nil || p.lent[repo] == 0 {
			p.mu.Unlock()
			return t
		}
		if p.back == nil {
			p.back = make(chan struct{})
		}
		back := p.back
		p.mu.Unlock()
		select {
		case <-back:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// lend counts a checkout of repo a job holds until giveBack.
func (p *headPool) lend(repo string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lent == nil {
		p.lent = map[string]int{}
	}
	p.lent[repo]++
}

// giveBack keeps t, which a job held, for later jobs, and wakes those
// waiting for one.
func (p *headPool) giveBack(t *headTree) {
	p.keep(t, true)
}

// warm tells whether warmHeads should keep a checkout for repo: the
// first time it asks with none kept. It is not asked again, so that a
// resync never exports the whole tree because jobs hold every checkout
// at that moment.
func (p *headPool) warm(repo string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.warmed[repo] {
		return false
	}
	if p.warmed == nil {
		p.warmed = map[string]bool{}
	}
	p.warmed[repo] = true
	return !p.holdsLocked(repo)
}

// takeLocked removes and returns the idle checkout of repo that holds
// sha, or else the newest of repo, or nil; p.mu is held.
func (p *headPool) takeLocked(repo, sha string) *headTree {
	pick := -1
	for i, t := range p.idle {
		if t.repo != repo {
			continue
		}
		if pick = i; t.sha == sha {
			break
		}
	}
	if pick < 0 {
		return nil
	}
	t := p.idle[pick]
	p.idle = append(p.idle[:pick], p.idle[pick+1:]...)
	return t
}

// put keeps t for later jobs, dropping the oldest checkout past the bound.
func (p *headPool) put(t *headTree) {
	p.keep(t, false)
}

// keep puts t among the idle checkouts, dropping the oldest past the
// bound; lent says a job held it (see lend), and those waiting for one
// are woken once it is idle.
func (p *headPool) keep(t *headTree, lent bool) {
	p.mu.Lock()
	p.idle = append(p.idle, t)
	var drop []*headTree
	if n := len(p.idle) - maxIdleHeads; n > 0 {
		drop = append(drop, p.idle[:n]...)
		p.idle = append([]*headTree(nil), p.idle[n:]...)
	}
	if lent {
		p.lent[t.repo]--
	}
	if p.back != nil {
		close(p.back)
		p.back = nil
	}
	p.mu.Unlock()
	for _, t := range drop {
		_ = os.RemoveAll(t.dir)
	}
}

// exportHead checks out head commit sha of the job's repository for
// reading: a kept checkout moved to sha when the clone can, a fresh export
// otherwise. The checkout is the same as a fresh export's
// (TestExportOverEqualsExport); done gives it back.
func (b *Bot) exportHead(ctx context.Context, w *work, sha, what string) (dir string, done func(), err error) {
	t, err := b.idleAt(ctx, w.clone, w.full, sha, headWait)
	if err != nil {
		return "", nil, err
	}
	if t == nil {
		dir, _, err := b.export(ctx, w.clone, sha, what)
		if err != nil {
			return "", nil, err
		}
		t = &headTree{repo: w.full, sha: sha, dir: dir}
	}
	b.heads.lend(w.full)
	return t.dir, func() { b.heads.giveBack(t) }, nil
}

// idleAt takes an idle checkout of repository full, waiting up to wait
// for one a job holds (see borrow), and moves it to commit sha, writing
// what differs; nil when the clone cannot move
// checkouts, none is idle, or the move failed short of a terminal error
// (the checkout is then removed).
func (b *Bot) idleAt(ctx context.Context, clone Clone, full, sha string, wait time.Duration) (*headTree, error) {
	over, ok := clone.(overExporter)
	if !ok {
		return nil, nil
	}
	t := b.heads.borrow(ctx, full, sha, wait)
	if t == nil || t.sha == sha {
		return t, nil
	}
	if err := over.ExportOver(ctx, t.sha, sha, t.dir); err != nil {
		_ = os.RemoveAll(t.dir)
		if retry.IsTerminal(err) {
			return nil, err
		}
		return nil, nil // in between: start afresh
	}
	t.sha = sha
	return t, nil
}

// warmHeads keeps a checkout of the job's base commit among the idle
// heads once per repository, when none is kept, as after a start (later,
// bases that retire and heads given back keep the pool): the first
// pull request's head then moves it by the files it changes, where a
// fresh export writes the whole tree (tens of thousands of files in a
// big repository) while the requester waits. The resync pays for it
// instead. A failure only leaves the pool as it was.
func (b *Bot) warmHeads(ctx context.Context, w *work) {
	if _, ok := w.clone.(overExporter); !ok || !b.heads.warm(w.full) {
		return
	}
	_, done, err := b.exportHead(ctx, w, w.baseSHA, "head")
	if err != nil {
		b.log.Warn("keep a checkout for pull request heads", "repo", w.full, "err", err)
		return
	}
	done()
}

// warmCheck reads the request records of the job's base and checks it
// whole, once per base, so that what the base checkout and the checker
// remember (records; builds, owners, estimates and quota uses by content
// and by commit) is there before the first pull request on the base:
// after a start, a request would otherwise read every record and build
// every environment of a big repository while its requester waits. After
// a merge the checker takes what the last base shares with the new one,
// so this costs what the merge changed. The result is not posted
// anywhere, and a failure only leaves the work to the next request.
func (b *Bot) warmCheck(ctx context.Context, w *work) {
	if w.base != nil {
		_, _ = w.base.Requests() // read once per checkout; an error is the proposal's to report
	}
	b.baseMu.Lock()
	done := b.warmed[w.full] == w.baseSHA
	b.baseMu.Unlock()
	if done {
		return
	}
	ch, _, err := b.checks.get(ctx, w.full+"@"+w.baseSHA, w.baseDir)
	if err == nil {
		_, err = ch.For(w.baseDir).WithStamps(b.stamps(ctx, w, w.baseSHA)).Check(ctx, []string{w.baseDir}, w.baseDir)
	}
	if err != nil {
		b.log.Warn("check the base ahead of its pull requests", "repo", w.full, "sha", w.baseSHA, "err", err)
		return
	}
	b.baseMu.Lock()
	if b.warmed == nil {
		b.warmed = map[string]string{}
	}
	b.warmed[w.full] = w.baseSHA
	b.baseMu.Unlock()
}

// holds tells whether an idle checkout of repo is kept.
func (p *headPool) holds(repo string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holdsLocked(repo)
}

func (p *headPool) holdsLocked(repo string) bool {
	for _, t := range p.idle {
		if t.repo == repo {
			return true
		}
	}
	return false
}
