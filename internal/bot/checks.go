package bot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// checkers keeps one prepared checker per base commit, and shares the
// compiled policies between commits whose gitvend.yaml and policies/ are
// the same, so policies compile once per change of the rules, not once per
// merge or pull request. Both are bounded, least recently used first out.
type checkers struct {
	log      *slog.Logger
	mu       sync.Mutex                   // one preparation at a time
	byBase   *lru.Cache[string, prepared] // by repo@sha
	byPolicy *lru.Cache[string, prepared] // by fingerprint of the rules
	// reports keeps the reports of the heads checked last, by repository,
	// base commit and head commit, which decide them: a resync brings
	// every open request's pull request up to date, and one whose head
	// and base have not moved is not checked again. Shared: only read.
	reports *lru.Cache[string, *check.Report]
}

type prepared struct {
	ch *check.Checker
	w  *check.Writer
}

// How many base commits and rule sets the checkers keep prepared.
const (
	basesKept   = 64 // bases move on; old ones are not asked for again
	rulesKept   = 16
	reportsKept = 256 // the open requests' heads, a few bases
)

func newCheckers(log *slog.Logger) (*checkers, error) {
	byBase, err := lru.New[string, prepared](basesKept)
	if err != nil {
		return nil, fmt.Errorf("checkers: %w", err)
	}
	byPolicy, err := lru.New[string, prepared](rulesKept)
	if err != nil {
		return nil, fmt.Errorf("checkers: %w", err)
	}
	reports, err := lru.New[string, *check.Report](reportsKept)
	if err != nil {
		return nil, fmt.Errorf("checkers: %w", err)
	}
	return &checkers{log: log, byBase: byBase, byPolicy: byPolicy, reports: reports}, nil
}

// get returns the checker of the base commit checked out in baseDir.
func (c *checkers) get(ctx context.Context, key, baseDir string) (*check.Checker, *check.Writer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.byBase.Get(key); ok {
		return p.ch, p.w, nil
	}
	fp, err := rulesFingerprint(baseDir)
	if err != nil {
		return nil, nil, err
	}
	rules, ok := c.byPolicy.Get(fp)
	if !ok {
		ch, err := check.New(ctx, baseDir, c.log)
		if err != nil {
			return nil, nil, err
		}
		w, err := check.NewWriter(ch.Policies())
		if err != nil {
			return nil, nil, err
		}
		// Bases with the same rules share what was learnt of the commits
		// checked, from which the next head is checked as it changed.
		rules = prepared{ch: ch.KeepingCommits(), w: w}
		c.byPolicy.Add(fp, rules)
	}
	// The base checkout never changes while it is shared: its estimate can
	// be remembered.
	p := prepared{ch: rules.ch.For(baseDir).CachingBases(), w: rules.w}
	c.byBase.Add(key, p)
	return p.ch, p.w, nil
}

// rulesFingerprint hashes what a checker is made of: gitvend.yaml and the
// repository's policies/.
func rulesFingerprint(dir string) (string, error) {
	h := sha256.New()
	cfg, err := os.ReadFile(filepath.Join(dir, config.RepoFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", config.RepoFile, err)
	}
	h.Write(cfg)
	err = filepath.WalkDir(filepath.Join(dir, "policies"), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00", filepath.ToSlash(p[len(dir):]), len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read policies: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// check runs policy and cost over the repository checked out in headDir,
// against the job's base, with the base's settings and policies.
func (b *Bot) check(ctx context.Context, w *work, headDir string, stamps manifest.Stamps) (*check.Report, error) {
	ch, _, err := b.checks.get(ctx, w.full+"@"+w.baseSHA, w.baseDir)
	if err != nil {
		return nil, fmt.Errorf("prepare checks: %w", err)
	}
	// The clusters are asked for the objects a merge would adopt while
	// the policies are evaluated: both only read the checkouts.
	adoptions := make(chan []string, 1)
	if b.opts.Adopter != nil {
		base, head := b.baseCheckout(ctx, w), reconcile.Checkout{Dir: headDir, Stamps: stamps}
		go func() { adoptions <- b.opts.Adopter.Adoptions(ctx, w.full, base, head) }()
	} else {
		adoptions <- nil
	}
	rep, err := ch.For(headDir).WithStamps(stamps).Check(ctx, []string{headDir}, w.baseDir)
	lines := <-adoptions
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	for _, line := range lines {
		rep.Notices = append(rep.Notices, check.Problem{Message: line})
	}
	b.metrics.checks.WithLabelValues(verdict(rep)).Inc()
	return rep, nil
}

// baseCheckout is the job's base checkout with its stamps.
func (b *Bot) baseCheckout(ctx context.Context, w *work) reconcile.Checkout {
	return reconcile.Checkout{Dir: w.baseDir, Stamps: b.stamps(ctx, w, w.baseSHA)}
}

// checkCommit checks commit sha of the job's repository, or returns the
// report of its last check against the same base (see checkers.reports);
// the report is shared: only read it.
func (b *Bot) checkCommit(ctx context.Context, w *work, sha string) (*check.Report, error) {
	key := reportKey(w, sha)
	if rep, ok := b.checks.reports.Get(key); ok {
		return rep, nil
	}
	dir, cleanup, err := b.exportHead(ctx, w, sha, "head")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	rep, err := b.check(ctx, w, dir, b.stamps(ctx, w, sha))
	if err != nil {
		return nil, err
	}
	b.checks.reports.Add(key, rep)
	return rep, nil
}

// reportKey names the report of head commit sha against the job's base.
func reportKey(w *work, sha string) string {
	return w.full + "@" + w.baseSHA + ".." + sha
}

// summary is the Markdown summary of a report, as the summary comment and
// both check runs show it.
func (b *Bot) summary(ctx context.Context, w *work, rep *check.Report) (string, error) {
	_, writer, err := b.checks.get(ctx, w.full+"@"+w.baseSHA, w.baseDir)
	if err != nil {
		return "", err
	}
	var md bytes.Buffer
	if err := writer.Markdown(&md, rep); err != nil {
		return "", fmt.Errorf("summary: %w", err)
	}
	return md.String(), nil
}

func verdict(rep *check.Report) string {
	if rep.Passed {
		return "passed"
	}
	return "failed"
}

// wasChecked tells whether this process posted the check runs of repo@sha.
func (b *Bot) wasChecked(key string) bool {
	return b.checked.Contains(key)
}

// remember records that the check runs of repo@sha are posted.
func (b *Bot) remember(key string) {
	b.checked.Add(key, struct{}{})
}

// hasRuns tells whether all of gitvend's check runs (gitvend/plan too,
// when the bot plans) are among runs, completed: a run left in progress
// (by a check that stopped) is checked again and completed.
func (b *Bot) hasRuns(runs []github.CheckRun) bool {
	if impactPending(runs) {
		return false
	}
	seen := map[string]bool{}
	for _, r := range runs {
		seen[r.Name] = r.Status == "completed"
	}
	for _, name := range b.runNames() {
		if !seen[name] {
			return false
		}
	}
	return true
}

// runNames are the names of the check runs the bot posts on every head.
func (b *Bot) runNames() []string {
	if b.opts.Planner != nil {
		return []string{CheckPolicy, CheckCost, CheckPlan}
	}
	return []string{CheckPolicy, CheckCost}
}

// startRuns shows on sha, before the check starts, that it is under way:
// gitvend's runs that existing lacks are created in progress, linked to
// the view of pull request number. The runs existing has in progress
// already are kept; what it returns is existing with the new runs.
func (b *Bot) startRuns(ctx context.Context, w *work, number int, sha string, existing []github.CheckRun) ([]github.CheckRun, error) {
	have := map[string]bool{}
	for _, r := range existing {
		have[r.Name] = true
	}
	for _, name := range b.runNames() {
		if have[name] {
			continue
		}
		run, err := w.gh.CreateCheckRun(ctx, w.owner, w.name, github.CheckRunSpec{Name: name, HeadSHA: sha, Status: "in_progress",
			DetailsURL: b.opts.Links.PullRequest(w.full, number)})
		if err != nil {
			return nil, fmt.Errorf("start check run %s: %w", name, err)
		}
		existing = append(existing, run)
	}
	return existing, nil
}

// PRHead is a pull request as a webhook or a listing tells it: its
// number and, when known, its head branch and commit.
type PRHead struct {
	Number int
	Branch string
	SHA    string
}

// CheckPR checks a pull request of repository full: both check runs on
// its head commit and the summary comment. Unless force is set, a head
// commit that has its runs already is left alone; the head's commit, when
// the caller knows it, lets a commit this process checked be skipped at no
// cost, and its branch, when it is a request's, lets the check wait for
// that request's sync (which checks it too) before asking GitHub anything.
func (b *Bot) CheckPR(ctx context.Context, full string, head PRHead, force bool) error {
	if c, ok := b.canonical(full); ok {
		full = c // one spelling keys its locks and remembered checks
	}
	number := head.Number
	checked := func() bool { return !force && head.SHA != "" && b.wasChecked(full+"@"+head.SHA) }
	if checked() {
		return nil
	}
	unlock, locked := func() {}, 0
	defer func() { unlock() }()
	if n := issueOfBranch(head.Branch); n > 0 && head.SHA != "" {
		unlock, locked = b.onePR.lock(full, n), n
		if checked() {
			return nil
		}
	}
	w, err := b.open(ctx, full)
	if err != nil {
		return err
	}
	defer w.cleanup()
	pr, err := w.gh.GetPR(ctx, w.owner, w.name, number)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", number, err)
	}
	if pr.State != "open" || pr.Base != w.branch {
		return nil
	}
	h := b.resolveHead(ctx, w, pr)
	// A request's own pull request: its sync posts the checks too, so the
	// two take turns (one lock at a time). Any other pull request takes
	// turns under its own number, which no issue has: a synchronize and a
	// check suite of one head never post its runs twice.
	n := h.request
	if n == 0 {
		n = number
	}
	if n != locked {
		unlock()
		unlock = b.onePR.lock(full, n)
	}
	key := full + "@" + pr.HeadSHA
	var existing []github.CheckRun
	if force {
		b.checked.Remove(key)
		b.checks.reports.Remove(reportKey(w, pr.HeadSHA)) // a re-run checks again
	} else {
		if b.wasChecked(key) {
			return nil
		}
		if existing, err = b.listChecks(ctx, w, pr.HeadSHA, true); err != nil {
			return err
		}
		if b.hasRuns(existing) {
			b.remember(key)
			return nil
		}
	}
	if h, err = b.fetchHead(ctx, w, pr, h); err != nil || h.sha == "" {
		return err
	}
	if h.neutral != "" {
		neutral, err := b.withPlan(ctx, w, pr.HeadSHA, true, neutralRuns(pr.HeadSHA, h.neutral))
		if err != nil {
			return err
		}
		return b.ensureChecks(ctx, w, number, nil, pr.HeadSHA, neutral, h.neutral, existing)
	}
	// A re-run asked for (force) posts new runs, whatever exists.
	if existing, err = b.startRuns(ctx, w, number, pr.HeadSHA, existing); err != nil {
		return err
	}
	rep, err := b.checkHead(ctx, w, h)
	if err != nil {
		return err
	}
	summary, err := b.summary(ctx, w, rep)
	if err != nil {
		return err
	}
	summary = stamp(summary, pr.HeadSHA, repoURL(pr.HTMLURL))
	all, err := b.withPlan(ctx, w, pr.HeadSHA, h.fork, runs(pr.HeadSHA, rep))
	if err != nil {
		return err
	}
	if all, existing, err = b.withImpact(ctx, w, number, pr.HeadSHA, all, existing); err != nil {
		return err
	}
	return b.ensureChecks(ctx, w, number, nil, pr.HeadSHA, all, summary, existing)
}
