package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/gitrepo"
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
)

// Clients hands out the GitHub client of the installation that serves a
// repository.
type Clients interface {
	ForRepo(ctx context.Context, owner, repo string) (GitHub, error)
}

// Git opens the local clone of a repository.
type Git interface {
	Open(ctx context.Context, owner, repo string) (Repo, error)
}

// Repo is a local clone: what the bot reads, commits and pushes.
type Repo interface {
	Fetch(ctx context.Context) error
	Head(ctx context.Context, branch string) (string, error)
	Export(ctx context.Context, sha, dir string) error
	Commit(ctx context.Context, spec gitrepo.CommitSpec) (string, error)
	Push(ctx context.Context, sha, branch string, force bool) error
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

	baseMu sync.Mutex
	bases  map[string]*baseTree // the newest base checkout per repository

	mu       sync.Mutex
	locks    map[string]*lock  // per request: one sync at a time
	checked  map[string]bool   // repo@sha whose check runs this process posted
	defaults map[string]string // default branches by repository
}

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
	for full := range opts.Repos {
		if _, _, err := splitRepo(full); err != nil {
			errs = append(errs, err)
		}
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
	return &Bot{opts: opts, log: opts.Logger, metrics: m, now: opts.Now, checks: newCheckers(opts.Logger), locks: map[string]*lock{}, bases: map[string]*baseTree{}, checked: map[string]bool{}, defaults: map[string]string{}}, nil
}

// Serves tells whether the bot serves the repository owner/name.
func (b *Bot) Serves(fullName string) bool {
	_, ok := b.opts.Repos[fullName]
	return ok
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

// branchFor is the branch of the request asked for in issue n.
func branchFor(n int) string { return fmt.Sprintf("%s%d", BranchPrefix, n) }

// issueOfBranch reads the issue number from a request branch, or 0.
func issueOfBranch(branch string) int {
	rest, ok := strings.CutPrefix(branch, BranchPrefix)
	if !ok {
		return 0
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' || n > 1e9 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
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

// lock is a mutex shared by the jobs of one request.
type lock struct {
	sync.Mutex
	users int
}

// lockRequest makes the syncs of one request run one at a time, whichever
// queue key brought them (a comment on the issue or on its pull request),
// so that two never both open its pull request. It returns the unlock.
func (b *Bot) lockRequest(full string, issue int) func() {
	key := fmt.Sprintf("%s#%d", full, issue)
	b.mu.Lock()
	l := b.locks[key]
	if l == nil {
		l = &lock{}
		b.locks[key] = l
	}
	l.users++
	b.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		b.mu.Lock()
		if l.users--; l.users == 0 {
			delete(b.locks, key)
		}
		b.mu.Unlock()
	}
}
