package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// BranchPrefix starts the branch of every request: gitvend/request-<issue>.
const BranchPrefix = "gitvend/request-"

// Markers of the comments the bot keeps up to date in place.
const (
	markerPrefix  = "<!-- gitvend:" // every comment of the bot's carries one
	markerStatus  = "status"        // on a request issue: where its PR stands
	markerSummary = "summary"       // on a pull request: the check summary
)

// Check run names.
const (
	CheckPolicy = "gitvend/policy"
	CheckCost   = "gitvend/cost"
	CheckPlan   = "gitvend/plan"
)

// Clients hands out the GitHub client of the installation that serves a
// repository, such as a *github.App.
type Clients interface {
	ForRepo(ctx context.Context, owner, repo string) (*github.Client, error)
}

// Git opens the local clone of a repository, such as gitrepo.Clones.
type Git interface {
	Open(ctx context.Context, owner, repo string) (*gitrepo.Repo, error)
}

// Clone is a local clone: what the bot reads, commits and pushes.
type Clone interface {
	Fetch(ctx context.Context) error
	Head(ctx context.Context, branch string) (string, error)
	Export(ctx context.Context, sha, dir string) error
	Commit(ctx context.Context, spec gitrepo.CommitSpec) (string, error)
	Push(ctx context.Context, sha, branch string, force bool) error
	// FetchPull fetches refs/pull/<number>/head, the head of a pull
	// request from a fork, and returns its commit.
	FetchPull(ctx context.Context, number int) (string, error)
}

// Options configure a Bot.
type Options struct {
	// Clients and Git reach GitHub and the clones.
	Clients Clients
	Git     Git
	// Login is the App's bot user ("<slug>[bot]"); its comments never
	// trigger it.
	Login string
	// Author signs the bot's commits.
	Author gitrepo.Signature
	// Repos are the desired-state repositories served, as owner/name, each
	// with its default branch ("" asks GitHub).
	Repos map[string]string
	// ScratchDir holds the temporary checkouts of renders and checks.
	ScratchDir string
	// Logger and Registerer receive logs and metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Adopter, when set, tells which objects of a checked commit already
	// exist on the clusters without gitvend having created them, so that
	// a pull request says what its merge would adopt.
	Adopter Adopter
	// Waker, when set, carries out /provision wake: it keeps a request's
	// workloads awake on the clusters.
	Waker Waker
	// Drift, when set, answers /provision revert and adopt on drift
	// issues; Reverts hands a recorded revert to the replica that applies.
	Drift   Drift
	Reverts Reverts
	// Windows, when set, names the change windows the server
	// configuration's targets put on an environment (the rollout): an
	// expiry's removal honours them as it honours gitvend.yaml's.
	Windows TargetWindows
	// Planner, when set, plans every pull request's head on the clusters
	// (the gitvend/plan check run): what its merge would create, change
	// and prune on each target it touches.
	Planner Planner
	// Links make the links of check runs to gitvend's public view of a
	// pull request; nil (or no public URL) leaves them empty.
	Links *permalink.Links
}

// Adopter finds the objects a change from checkout base to checkout head
// touches that its merge would adopt, such as a *rollout.Rollout: one line
// each, naming the target.
type Adopter interface {
	Adoptions(ctx context.Context, repo string, base, head reconcile.Checkout) []string
}

// Planner plans a checkout against the clusters, such as a
// *rollout.Rollout: one plan per target the change between the checkouts
// base and head of repository repo touches, found with server-side
// dry-runs, writing nothing; a target that cannot be asked gets a plan
// that says so. It returns within a bounded time.
type Planner interface {
	Plan(ctx context.Context, repo string, base, head reconcile.Checkout) []*reconcile.Plan
}

// Bot turns request issues and commands into pull requests and checks them.
// Its methods are level-triggered: each brings one issue or pull request to
// the state it should have, whatever happened before, so they can run again
// after a lost, repeated or reordered webhook, or a crash.
type Bot struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	checks  *checkers
	onePR   *onePRPerRequest
	checked *lru.Cache[string, struct{}] // repo@sha whose check runs this process posted
	gate    *gate                        // refused permissions and refusals replied
	// expiries are the requests' expiries as last worked out.
	expiries expiryBoard
	// protections are what the desired-state branches' protection rules
	// were last found to enforce of gitvend's checks.
	protections protectionBoard

	served map[string]string // config.RepoKey -> owner/name as configured

	baseMu sync.Mutex
	bases  map[string]*baseTree // the newest base checkout per repository
	warmed map[string]string    // repository → the base commit its checker last checked whole (warmCheck)
	// rerendered is the fan-out's last rerender of each repository's base
	// (rerenderOf).
	rerendered map[string]rerenderAt
	heads      headPool // head checkouts kept between checks and plans
	// current are the requests a fan-out found rendered as their
	// blueprints render them, not rendered again while nothing changed.
	current desired.CurrentMemo

	mu       sync.Mutex
	branches *desired.Branches // the desired-state branch of each repository
}

// checkedSize is how many commits with posted check runs a Bot remembers.
const checkedSize = 10000

// New builds a Bot.
func New(opts Options) (*Bot, error) {
	var errs []error
	if opts.Clients == nil {
		errs = append(errs, errors.New("bot: Clients is required"))
	}
	if opts.Git == nil {
		errs = append(errs, errors.New("bot: Git is required"))
	}
	if opts.Login == "" {
		errs = append(errs, errors.New("bot: Login is required"))
	}
	served := map[string]string{}
	for _, full := range slices.Sorted(maps.Keys(opts.Repos)) {
		if _, _, err := splitRepo(full); err != nil {
			errs = append(errs, err)
		}
		if other, dup := served[config.RepoKey(full)]; dup {
			errs = append(errs, fmt.Errorf("repository %q: the same as %q (GitHub compares names without regard to case)", full, other))
		}
		served[config.RepoKey(full)] = full
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ScratchDir == "" {
		opts.ScratchDir = os.TempDir()
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	checks, err := newCheckers(opts.Logger)
	if err != nil {
		return nil, err
	}
	checked, err := lru.New[string, struct{}](checkedSize)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	g, err := newGate()
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	return &Bot{opts: opts, log: opts.Logger, metrics: m, now: opts.Now, checks: checks, onePR: newOnePRPerRequest(),
		checked: checked, gate: g, served: served, bases: map[string]*baseTree{}, branches: desired.NewBranches(opts.Repos)}, nil
}

// Serves tells whether the bot serves the repository owner/name, in
// whatever case it is spelt.
func (b *Bot) Serves(fullName string) bool {
	_, ok := b.canonical(fullName)
	return ok
}

// canonical is a served repository as Options.Repos spells it, for any
// spelling of its name. Jobs, locks and clones are keyed by this one
// spelling, so that a webhook saying Acme/Infra and a resync of acme/infra
// are the same repository's work.
func (b *Bot) canonical(fullName string) (string, bool) {
	full, ok := b.served[config.RepoKey(fullName)]
	return full, ok
}

// Repos lists the repositories the bot serves.
func (b *Bot) Repos() []string {
	out := make([]string, 0, len(b.opts.Repos))
	for r := range b.opts.Repos {
		out = append(out, r)
	}
	return out
}

func splitRepo(full string) (string, string, error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q: must be owner/name", full)
	}
	return owner, name, nil
}

// scratch makes a temporary directory that cleanup removes.
func (b *Bot) scratch(prefix string) (string, func(), error) {
	dir, err := os.MkdirTemp(b.opts.ScratchDir, "gitvend-"+prefix+"-")
	if err != nil {
		return "", nil, fmt.Errorf("make scratch directory: %w", err)
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// isOwn tells whether a comment or issue author is the bot itself.
func (b *Bot) isOwn(login string) bool {
	return strings.EqualFold(login, b.opts.Login)
}
