package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/retry"
)

// StatusPrefix starts the commit status context of every target:
// gitvend/apply/<target>.
const StatusPrefix = "gitvend/apply/"

// GitHub is what a rollout asks of GitHub for one installation.
type GitHub interface {
	SetStatus(ctx context.Context, owner, repo, sha, statusContext, state, description, targetURL string) error
	StatusState(ctx context.Context, owner, repo, sha, statusContext string) (string, error)
	Status(ctx context.Context, owner, repo, sha, statusContext string) (github.Status, error)
	HeadSHA(ctx context.Context, owner, repo, branch string) (string, error)
	GetPR(ctx context.Context, owner, repo string, number int) (github.PullRequest, error)
	GetIssue(ctx context.Context, owner, repo string, number int) (github.Issue, error)
	UpsertComment(ctx context.Context, owner, repo string, number int, marker, body string) (int64, error)
	CloseIssue(ctx context.Context, owner, repo string, number int, comment string) error
	FindIssueByTitle(ctx context.Context, owner, repo, title string, labels ...string) (github.Issue, error)
	CreateIssue(ctx context.Context, owner, repo string, spec github.NewIssue) (github.Issue, error)
	EditIssue(ctx context.Context, owner, repo string, number int, edit github.IssueEdit) (github.Issue, error)
	DefaultBranch(ctx context.Context, owner, repo string) (string, error)
	ListPRsByHead(ctx context.Context, owner, repo, branch string) ([]github.PullRequest, error)
	CreatePR(ctx context.Context, owner, repo string, spec github.NewPR) (github.PullRequest, error)
	ListComments(ctx context.Context, owner, repo string, number int) ([]github.Comment, error)
	EditComment(ctx context.Context, owner, repo string, commentID int64, body string) error
	// CommitPulls and ListCheckRuns tell whether a commit had the
	// approvals its environments need (see approval.go).
	CommitPulls(ctx context.Context, owner, repo, sha string) ([]github.PullRequest, error)
	ListCheckRuns(ctx context.Context, owner, repo, ref string) ([]github.CheckRun, error)
}

// Clients hands out the GitHub client that serves a repository, such as
// a *github.App.
type Clients interface {
	ForRepo(ctx context.Context, owner, repo string) (*github.Client, error)
}

// Git opens the local clone of a repository, such as gitrepo.Clones.
type Git interface {
	Open(ctx context.Context, owner, repo string) (*gitrepo.Repo, error)
}

// Options configure a Rollout.
type Options struct {
	Clients Clients
	Git     Git
	// Branches maps each served repository (owner/name) to the branch that
	// holds its desired state ("" for the repository's default branch).
	Branches map[string]string
	// Targets are the clusters the repositories are applied to, each with
	// the client configuration that reaches it.
	Targets []cluster.Connection
	// Interval is how often every target is reconciled without a push.
	Interval time.Duration
	// ScratchDir holds temporary checkouts.
	ScratchDir string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// PlanTimeout bounds the plan of one target (DefaultPlanTimeout when
	// 0); past it the target is reported unreachable.
	PlanTimeout time.Duration
	// Links make the target URL of commit statuses, gitvend's public view
	// of a target; nil (or no public URL) leaves it empty.
	Links *permalink.Links
	// Author signs the commits a rollout makes (the revert of a merge
	// that did not become healthy, see rollbackOnFailure); without one no
	// revert is proposed.
	Author gitrepo.Signature
	// Login is the App's bot user ("<slug>[bot]"): only its comments on a
	// drift issue are read as reverts asked for (see RevertLine); empty
	// leaves reverts undone.
	Login string
	// Sharded spreads the targets over replicas: a target is applied and
	// watched for drift only while Own runs for it, and Run watches none
	// itself. Without it, Run applies and watches every target.
	Sharded bool
}

// Rollout applies the desired state of repositories to their targets after
// every push to the desired-state branch and on an interval, reports each
// apply on GitHub (commit status, a comment on the merged pull request, the
// request issue closed with what now exists where), and watches every
// target for drift, reported as one issue per target.
type Rollout struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics
	branches *desired.Branches
	targets  []*targetState
	kick     chan string       // repositories to reconcile now
	served   map[string]string // config.RepoKey -> owner/name as in Branches
	synced   syncTimes         // when Run last synced each repository, for the status page
	// builds keeps folder builds for the targets' desired states, which
	// plans, applies and holds build from checkouts of the same
	// repositories again and again.
	builds *manifest.BuildCache
	// kept holds the checkout each repository's last sync read.
	kept checkouts
	// sharedBuilds keeps target builds that plans and adoptions only read.
	sharedBuilds *lru.Cache[string, []*unstructured.Unstructured]
	// splits keeps the splits of the changes of those builds.
	splits *lru.Cache[string, reconcile.Change]

	mu          sync.Mutex
	reported    *lru.Cache[string, string] // "repo@sha…" → the report already posted for it
	applied     map[string]string          // target → the revision last applied in full
	nextSleep   map[string]time.Time       // target → when its sleep may change next
	heldUntil   map[string]time.Time       // target → when its change window lets go (zero: unknown)
	heldApplies map[string][]HeldApply     // target → the commits held, in order
	healUntil   map[string]time.Time       // target → when its self-heal may go on again (zero: unknown)
	views       targetViews                // what each target's public view shows
}

// targetState is what a Rollout keeps of one target while it runs.
type targetState struct {
	cluster.Connection
	rec      *reconcile.Reconciler
	sleep    *sleeper
	drift    *driftIssue
	revertMu sync.Mutex // one revert pass of the target at a time
	own      ownership  // whether this replica owns the target (Sharded)
}

// maxReported bounds how many posted reports a Rollout remembers, the
// least recently used forgotten first.
const maxReported = 10000

// New builds a Rollout and the reconciler of every target.
// buildCacheSize is how many folder builds a Rollout keeps: those of a
// repository of 10,000 requests, with room for the folders its pull
// requests and merges change.
const buildCacheSize = 50_000

// desired builds target t from checkout c (reconcile.Desired), with the
// Rollout's folder builds.
func (r *Rollout) desired(ctx context.Context, c reconcile.Checkout, t cluster.Target) ([]*unstructured.Unstructured, error) {
	return reconcile.DesiredCached(ctx, c, t, r.builds)
}

func New(opts Options) (*Rollout, error) {
	if opts.Clients == nil || opts.Git == nil {
		return nil, errors.New("rollout: Clients and Git are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Minute
	}
	if opts.ScratchDir == "" {
		opts.ScratchDir = os.TempDir()
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	reported, err := lru.New[string, string](maxReported)
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	sharedBuilds, err := lru.New[string, []*unstructured.Unstructured](sharedBuildsKept)
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	splits, err := lru.New[string, reconcile.Change](sharedBuildsKept)
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	r := &Rollout{opts: opts, log: opts.Logger, now: opts.Now, metrics: m, branches: desired.NewBranches(opts.Branches), builds: manifest.NewBuildCache(buildCacheSize),
		kick: make(chan string, 64), reported: reported, sharedBuilds: sharedBuilds, splits: splits, applied: map[string]string{}, served: map[string]string{},
		nextSleep: map[string]time.Time{}, heldUntil: map[string]time.Time{}, healUntil: map[string]time.Time{},
		heldApplies: map[string][]HeldApply{}}
	for full := range opts.Branches {
		if other, dup := r.served[config.RepoKey(full)]; dup {
			return nil, fmt.Errorf("rollout: repository %q is the same as %q (GitHub compares names without regard to case)", full, other)
		}
		r.served[config.RepoKey(full)] = full
	}
	for _, t := range opts.Targets {
		if _, ok := r.canonical(t.Repository); !ok {
			return nil, fmt.Errorf("target %s: repository %q is not served", t.Name, t.Repository)
		}
		rec, err := reconcile.New(t.Config, t.Target, reconcile.Options{Logger: opts.Logger, Registerer: opts.Registerer})
		if err != nil {
			return nil, err
		}
		// The sleeper reads each workload it may put to sleep or wake: at
		// client-go's own rate limit that took a minute per target of a
		// thousand objects.
		c, err := client.New(reconcile.ClientConfig(t.Config), client.Options{})
		if err != nil {
			return nil, fmt.Errorf("target %s: client for sleep: %w", t.Name, err)
		}
		owner, name, _ := strings.Cut(t.Repository, "/")
		drift := newDriftIssue(&tracker{r: r, owner: owner, name: name, target: t.Name}, opts.Logger.With("target", t.Name))
		target := t.Name
		rec.SetHealGate(func() bool { return !r.healHeldNow(target, r.now()) })
		r.targets = append(r.targets, &targetState{Connection: t, rec: rec, sleep: &sleeper{c: c}, drift: drift})
	}
	return r, nil
}

// Pushed tells the rollout that branch of repo moved to sha; a push to the
// desired-state branch is reconciled at once. It never blocks.
func (r *Rollout) Pushed(ctx context.Context, repo, branch, sha string) {
	repo, ok := r.canonical(repo)
	if !ok {
		return
	}
	if want := r.opts.Branches[repo]; want != "" && want != branch {
		return
	}
	r.Kick(repo)
}

// Kick asks Run to reconcile repository repo at once, as a push to its
// desired-state branch does; the leader calls it when another replica
// hands it a push. A repository that is not served is ignored: a signal
// names a repository, and whoever may write it must not make gitvend
// fetch another. It never blocks.
func (r *Rollout) Kick(repo string) {
	repo, ok := r.canonical(repo)
	if !ok {
		return
	}
	select {
	case r.kick <- repo:
	default: // a reconcile of every repository is already due
	}
}

// canonical is a served repository as Options.Branches spells it, for any
// spelling of its name (GitHub's payloads carry the canonical case, which
// the configuration need not use).
func (r *Rollout) canonical(repo string) (string, bool) {
	full, ok := r.served[config.RepoKey(repo)]
	return full, ok
}

// Wants tells whether a push to branch of repo moves the desired state:
// the repository is served and branch is its desired-state branch (the
// default branch, asked of GitHub once, when none is configured). When
// the default branch cannot be read it answers true: a needless reconcile
// costs less than a missed one.
func (r *Rollout) Wants(ctx context.Context, repo, branch string) bool {
	repo, ok := r.canonical(repo)
	want := r.opts.Branches[repo]
	switch {
	case !ok:
		return false
	case want != "":
		return want == branch
	}
	gh, _, _, err := r.client(ctx, repo)
	if err != nil {
		return true
	}
	def, err := r.branches.Resolve(ctx, gh, repo)
	return err != nil || def == branch
}

// Run reconciles every repository at once, after every push and every
// Interval, and monitors every target for drift, until ctx ends. Run it on
// one replica at a time (the leader), or, with Options.Sharded, on every
// replica, each applying and watching the targets it owns (see Own).
func (r *Rollout) Run(ctx context.Context) error {
	defer r.dropCheckouts()
	var wg sync.WaitGroup
	for _, t := range r.targets {
		// Another process may have put objects to sleep or woken them
		// since this one last ran.
		t.sleep.forget()
	}
	for _, t := range r.targets {
		if r.opts.Sharded {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.monitor(ctx, t)
		}()
	}
	defer wg.Wait()
	tick := time.NewTicker(r.opts.Interval)
	defer tick.Stop()
	due := map[string]bool{}
	for repo := range r.opts.Branches {
		due[repo] = true
	}
	backoff := time.Second
	var again <-chan time.Time
	for {
		failed := false
		for repo := range due {
			if err := r.Sync(ctx, repo); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if retry.IsTerminal(err) {
					r.log.Error("reconcile failed; trying again at the next push or interval", "repo", repo, "err", err)
					delete(due, repo)
					continue
				}
				r.log.Warn("reconcile failed; retrying", "repo", repo, "err", err, "in", backoff)
				failed = true
				continue
			}
			r.synced.note(repo, r.now())
			delete(due, repo)
		}
		if failed {
			again = time.After(backoff)
			backoff = min(backoff*2, r.opts.Interval)
		} else {
			again, backoff = nil, time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case repo := <-r.kick:
			due[repo] = true
		case <-tick.C:
			for repo := range r.opts.Branches {
				due[repo] = true
			}
		case <-again:
		case <-r.sleepDue():
			// A sleep window starts or ends, a wake override runs out,
			// or a change window lets a held apply go.
			for repo := range r.opts.Branches {
				due[repo] = true
			}
		}
	}
}

// monitor reports the drift of one target until ctx ends.
func (r *Rollout) monitor(ctx context.Context, t *targetState) {
	if err := t.rec.Monitor(ctx, func(ctx context.Context, rep *reconcile.DriftReport) error { return r.reportDrift(ctx, t, rep) }); err != nil && ctx.Err() == nil {
		r.log.Error("drift monitor stopped", "target", t.Name, "err", err)
	}
}

// reportDrift presents a drift report of target t: metrics, its view, its
// drift issue, and the reverts asked there.
func (r *Rollout) reportDrift(ctx context.Context, t *targetState, rep *reconcile.DriftReport) error {
	r.metrics.observeDrift(t.Name, rep)
	r.recordDrift(t.Repository, rep)
	if err := t.drift.Report(ctx, rep); err != nil {
		return err
	}
	return r.revertAsked(ctx, t, rep)
}

// Reconciler returns the reconciler of a target, or nil.
func (r *Rollout) Reconciler(target string) *reconcile.Reconciler {
	for _, t := range r.targets {
		if t.Name == target {
			return t.rec
		}
	}
	return nil
}

func (r *Rollout) client(ctx context.Context, repo string) (GitHub, string, string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return nil, "", "", fmt.Errorf("repository %q: must be owner/name", repo)
	}
	gh, err := r.opts.Clients.ForRepo(ctx, owner, name)
	if err != nil {
		return nil, "", "", fmt.Errorf("client for %s: %w", repo, err)
	}
	return gh, owner, name, nil
}
