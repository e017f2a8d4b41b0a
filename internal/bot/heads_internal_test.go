package bot

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/gitrepo"
)

// exportingClone writes one file per export and counts the whole exports
// and the moves of a checkout.
type exportingClone struct {
	mu            sync.Mutex
	exports, over int
}

func (c *exportingClone) Fetch(context.Context) error                  { return nil }
func (c *exportingClone) Head(context.Context, string) (string, error) { return "", nil }
func (c *exportingClone) Commit(context.Context, gitrepo.CommitSpec) (string, error) {
	return "", nil
}
func (c *exportingClone) Push(context.Context, string, string, bool) error { return nil }
func (c *exportingClone) FetchPull(context.Context, int) (string, error)   { return "", nil }

func (c *exportingClone) Export(_ context.Context, sha, dir string) error {
	c.mu.Lock()
	c.exports++
	c.mu.Unlock()
	return os.WriteFile(filepath.Join(dir, "commit"), []byte(sha), 0o644)
}

func (c *exportingClone) ExportOver(_ context.Context, _, sha, dir string) error {
	c.mu.Lock()
	c.over++
	c.mu.Unlock()
	return os.WriteFile(filepath.Join(dir, "commit"), []byte(sha), 0o644)
}

// TestWarmHeadsKeepsTheBase: a resync keeps a checkout of the base among
// the idle heads, once, so that the first pull request after a start
// moves it to its head instead of exporting the whole tree.
func TestWarmHeadsKeepsTheBase(t *testing.T) {
	ctx := context.Background()
	b := &Bot{log: slog.New(slog.DiscardHandler), opts: Options{ScratchDir: t.TempDir()}}
	clone := &exportingClone{}
	w := &work{clone: clone, full: "acme/infra", baseSHA: "base-sha"}
	b.warmHeads(ctx, w)
	b.warmHeads(ctx, w) // a second resync finds it kept
	if clone.exports != 1 || !b.heads.holds("acme/infra") || b.heads.holds("acme/other") {
		t.Fatalf("%d whole exports, kept for acme/infra: %v; want one, kept", clone.exports, b.heads.holds("acme/infra"))
	}
	dir, done, err := b.exportHead(ctx, w, "head-sha", "check")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	got, err := os.ReadFile(filepath.Join(dir, "commit"))
	if err != nil || string(got) != "head-sha" {
		t.Fatalf("checkout holds %q (%v), want head-sha", got, err)
	}
	if clone.exports != 1 || clone.over != 1 {
		t.Errorf("the head took %d whole exports and %d moves; want the kept base moved once", clone.exports-1, clone.over)
	}
}

// TestBaseMovesARetiredCheckout: when the default branch moves, the
// checkout of its new head is the old base's (or a head's) moved by what
// differs, once no job reads the old one; only the first is exported
// whole.
func TestBaseMovesARetiredCheckout(t *testing.T) {
	ctx := context.Background()
	b := &Bot{log: slog.New(slog.DiscardHandler), opts: Options{ScratchDir: t.TempDir()}, bases: map[string]*baseTree{}}
	clone := &exportingClone{}
	first, err := b.base(ctx, clone, "acme/infra", "sha-1")
	if err != nil {
		t.Fatal(err)
	}
	b.release(first)
	second, err := b.base(ctx, clone, "acme/infra", "sha-2") // sha-1 still read: exported
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(first.dir); err != nil || !b.heads.holds("acme/infra") {
		t.Fatalf("the retired base was not kept for later: %v", err)
	}
	b.release(second)
	third, err := b.base(ctx, clone, "acme/infra", "sha-3")
	if err != nil {
		t.Fatal(err)
	}
	defer b.release(third)
	if third.dir != first.dir {
		t.Errorf("the new base is in %s, want the retired checkout %s moved", third.dir, first.dir)
	}
	got, err := os.ReadFile(filepath.Join(third.dir, "commit"))
	if err != nil || string(got) != "sha-3" {
		t.Fatalf("base checkout holds %q (%v), want sha-3", got, err)
	}
	if clone.exports != 2 || clone.over != 1 {
		t.Errorf("%d whole exports and %d moves, want 2 and 1", clone.exports, clone.over)
	}
}

// TestWarmCheckBuildsTheBaseOnce: a resync checks its base whole once, so
// that the first pull request on it takes every environment it leaves
// alone from the checker's memory; a second resync on the same base does
// nothing.
func TestWarmCheckBuildsTheBaseOnce(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	checks, err := newCheckers(log)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bot{log: log, checks: checks}
	example := filepath.Join("..", "..", "examples", "desired-state")
	w := &work{full: "acme/infra", baseSHA: "base-sha", baseDir: example}
	b.warmCheck(ctx, w)
	ch, _, err := checks.get(ctx, w.full+"@"+w.baseSHA, w.baseDir)
	if err != nil {
		t.Fatal(err)
	}
	built, _ := ch.Builds()
	b.warmCheck(ctx, w)
	if again, _ := ch.Builds(); again != built || built == 0 || b.warmed[w.full] != w.baseSHA {
		t.Fatalf("environments built by the warm-up %d, then by a second one on the same base %d; want some, then none", built, again-built)
	}
	// A pull request that changes nothing the environments build.
	if _, err := ch.For(example).Check(ctx, []string{example}, example); err != nil {
		t.Fatal(err)
	}
	if again, _ := ch.Builds(); again != built {
		t.Errorf("the first check after the warm-up built %d environments again, want none", again-built)
	}
}

// TestHeadWaitsForACheckoutAJobHolds: a job that needs a head checkout
// while another job holds the only one waits for it to come back and
// moves it, instead of exporting the whole tree; with nobody holding one,
// or past the wait, it exports.
func TestHeadWaitsForACheckoutAJobHolds(t *testing.T) {
	ctx := context.Background()
	b := &Bot{log: slog.New(slog.DiscardHandler), opts: Options{ScratchDir: t.TempDir()}}
	clone := &exportingClone{}
	w := &work{clone: clone, full: "acme/infra", baseSHA: "base-sha"}
	_, first, err := b.exportHead(ctx, w, "head-1", "check")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		dir, done, err := b.exportHead(ctx, w, "head-2", "check")
		if err != nil {
			got <- err.Error()
			return
		}
		data, _ := os.ReadFile(filepath.Join(dir, "commit"))
		done()
		got <- string(data)
	}()
	time.Sleep(50 * time.Millisecond) // the second job waits
	first()
	if sha := <-got; sha != "head-2" {
		t.Fatalf("the waiting job's checkout holds %q, want head-2", sha)
	}
	if clone.exports != 1 || clone.over != 1 {
		t.Errorf("%d whole exports, %d moves; want 1 and 1", clone.exports, clone.over)
	}

	// Held past the wait: the next job exports its own.
	_, held, err := b.exportHead(ctx, w, "head-3", "check")
	if err != nil {
		t.Fatal(err)
	}
	defer held()
	start := time.Now()
	if _, done, err := b.exportHead(ctx, w, "head-4", "check"); err != nil {
		t.Fatal(err)
	} else {
		done()
	}
	if waited := time.Since(start); waited < headWait || clone.exports != 2 {
		t.Errorf("waited %s and made %d whole exports; want the wait (%s), then a second export", waited, clone.exports, headWait)
	}
}
