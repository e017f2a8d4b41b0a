package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"

	"github.com/gitvend/gitvend/internal/retry"
)

// ErrNotFound is matched by errors for a missing branch, commit or file.
// It is terminal.
var ErrNotFound = retry.Terminal(errors.New("not found"))

// ErrNonFastForward is matched by Push errors when the branch has moved to
// a commit that is not an ancestor of the pushed one; push with force, or
// fetch and rebuild on the new tip. It is terminal: the same push fails
// again.
var ErrNonFastForward = retry.Terminal(errors.New("non-fast-forward update"))

// Auth returns the password for one fetch or push over HTTPS, sent with
// user "x-access-token". Installation tokens expire within an hour, so it
// is asked again for every network operation.
type Auth func(ctx context.Context) (string, error)

// Cache keeps bare clones of repositories under one directory, at
// <dir>/<host>/<owner>/<repo>.git. It is safe for concurrent use; a
// process should have one Cache per directory, since the turn-taking of
// callers lives in it.
type Cache struct {
	dir string
	log *slog.Logger

	mu    sync.Mutex
	repos map[string]*Repo
}

// New returns a Cache rooted at dir; a nil logger discards.
func New(dir string, logger *slog.Logger) *Cache {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Cache{dir: dir, log: logger, repos: map[string]*Repo{}}
}

// Open returns the repository at cloneURL (https://host/owner/repo[.git]),
// cloning it the first time and fetching every branch on later calls.
// Callers opening the same repository at the same time share one Repo and
// wait for one another.
func (c *Cache) Open(ctx context.Context, cloneURL string, auth Auth) (*Repo, error) {
	if auth == nil {
		return nil, retry.Terminal(errors.New("auth: missing; want a function returning an installation token"))
	}
	path, err := c.pathFor(cloneURL)
	if err != nil {
		return nil, retry.Terminal(err)
	}
	c.mu.Lock()
	r, ok := c.repos[path]
	if !ok {
		r = &Repo{path: path, url: cloneURL, log: c.log.With("repo", cloneURL), indexes: newIndexes()}
		c.repos[path] = r
	}
	c.mu.Unlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.auth = auth
	if r.repo == nil {
		if err := r.openOrClone(ctx); err != nil {
			return nil, err
		}
		return r, nil
	}
	if err := r.fetchLocked(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// pathFor maps a clone URL to its directory in the cache.
func (c *Cache) pathFor(cloneURL string) (string, error) {
	u, err := url.Parse(cloneURL)
	bad := func(why string) error {
		return fmt.Errorf("clone URL %q: %s; want https://host/owner/repo.git", cloneURL, why)
	}
	if err != nil {
		return "", bad(err.Error())
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", bad("not http or https")
	}
	if u.User != nil {
		return "", bad("credentials belong in auth, not in the URL")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 {
		return "", bad("path is not /owner/repo")
	}
	owner, name := parts[0], strings.TrimSuffix(parts[1], ".git")
	for _, p := range []string{u.Host, owner, name} {
		if !safeName(strings.ReplaceAll(p, ":", "_")) {
			return "", bad(fmt.Sprintf("%q is not a plain name", p))
		}
	}
	return filepath.Join(c.dir, strings.ReplaceAll(u.Host, ":", "_"), owner, name+".git"), nil
}

// safeName reports whether s can be one path element: letters, digits,
// '.', '_' and '-', and not "." or "..".
func safeName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		ok := r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// maxPackFiles bounds the pack files a clone keeps open between reads.
// Without it go-git opens and closes a pack file for every object it
// reads, which was most of the cost of reading a big repository's trees.
const maxPackFiles = 32

// openBare opens the bare clone at path, keeping up to maxPackFiles pack
// files open.
func openBare(path string) (*git.Repository, error) {
	if _, err := os.Stat(filepath.Join(path, "config")); err != nil {
		return nil, fmt.Errorf("open clone %s: %w", path, git.ErrRepositoryNotExists)
	}
	st := filesystem.NewStorageWithOptions(osfs.New(path), cache.NewObjectLRUDefault(), filesystem.Options{MaxOpenDescriptors: maxPackFiles})
	return git.Open(st, nil)
}

// openOrClone opens the clone on disk and fetches, or clones when there is
// none or it cannot be opened. Callers hold r.mu.
func (r *Repo) openOrClone(ctx context.Context) error {
	repo, err := openBare(r.path)
	if err == nil {
		r.repo = repo
		if err = r.fetchLocked(ctx); !broken(err) {
			return err
		}
		r.repo = nil
	}
	if _, statErr := os.Stat(r.path); statErr == nil {
		r.log.Warn("cached clone unreadable, cloning again", "path", r.path, "err", err)
		if err := os.RemoveAll(r.path); err != nil {
			return fmt.Errorf("remove broken clone: %w", err)
		}
	}
	return r.clone(ctx)
}

// broken tells whether err says the clone on disk is damaged, as a
// process killed while writing a ref leaves it (an empty ref file): only
// cloning again mends it.
func broken(err error) bool {
	return errors.Is(err, dotgit.ErrEmptyRefFile)
}

// clone makes a bare clone in a temporary directory next to its place and
// renames it there, so that a crash never leaves half a clone behind.
func (r *Repo) clone(ctx context.Context) error {
	start := time.Now()
	parent := filepath.Dir(r.path)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create cache directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".clone-")
	if err != nil {
		return fmt.Errorf("create clone directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	repo, err := git.PlainInit(tmp, true)
	if err != nil {
		return fmt.Errorf("init bare repository: %w", err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{
		Name: remoteName, URLs: []string{r.url},
		Fetch: []config.RefSpec{config.RefSpec("+refs/heads/*:" + trackingPrefix + "*")},
	}); err != nil {
		return fmt.Errorf("configure remote: %w", err)
	}
	r.repo = repo
	if err := r.fetchLocked(ctx); err != nil {
		r.repo = nil
		return fmt.Errorf("clone %s: %w", r.url, err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		r.repo = nil
		return fmt.Errorf("move clone into place: %w", err)
	}
	if r.repo, err = openBare(r.path); err != nil {
		return fmt.Errorf("open clone: %w", err)
	}
	r.log.Info("cloned", "path", r.path, "duration", time.Since(start))
	return nil
}

const (
	remoteName     = "origin"
	trackingPrefix = "refs/remotes/" + remoteName + "/"
)

// basicAuth asks auth for a fresh token.
func (r *Repo) basicAuth(ctx context.Context) (*githttp.BasicAuth, error) {
	tok, err := r.auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	return &githttp.BasicAuth{Username: "x-access-token", Password: tok}, nil
}

// Fetch brings every branch of the remote up to date and forgets branches
// deleted there.
func (r *Repo) Fetch(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetchLocked(ctx)
}

// refused marks the failures of a fetch or push that trying again cannot
// fix as terminal: the remote refused the credentials (401, 403) or has no
// such repository (GitHub answers 404 to an installation that cannot see
// it). Network and server failures stay retryable.
func refused(err error) error {
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod), errors.Is(err, transport.ErrRepositoryNotFound):
		return retry.Terminal(err)
	}
	return err
}
