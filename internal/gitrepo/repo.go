package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/gitvend/gitvend/internal/retry"
)

// Repo is one cached bare clone. Its methods are safe for concurrent use;
// they take turns, since go-git's on-disk storage is not safe for
// concurrent writers.
type Repo struct {
	path string
	url  string
	log  *slog.Logger

	mu      sync.Mutex
	auth    Auth
	repo    *git.Repository
	tracked tracking                       // the clone's tracking refs, as read or written
	ixMu    sync.Mutex                     // guards indexes alone
	indexes *simplelru.LRU[string, *Index] // by commit
}

// Path is the clone's directory.
func (r *Repo) Path() string { return r.path }

// Head returns the commit at the tip of a branch as of the last fetch or
// push; ErrNotFound when the remote has no such branch.
func (r *Repo) Head(ctx context.Context, branch string) (string, error) {
	if err := checkBranch(branch); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := r.repo.Reference(plumbing.ReferenceName(trackingPrefix+branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", fmt.Errorf("head of %s: %w", branch, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("head of %s: %w", branch, err)
	}
	return ref.Hash().String(), nil
}

// FetchPull fetches refs/pull/<number>/head, where GitHub keeps the head
// of pull request number in the base repository, for a pull request from
// a fork (even one deleted since) as for one from a branch, and returns
// its commit. The commit is then in the clone, to read and export; the
// fork itself is never fetched. ErrNotFound when the remote has no such
// ref.
func (r *Repo) FetchPull(ctx context.Context, number int) (string, error) {
	if number < 1 {
		return "", retry.Terminal(fmt.Errorf("pull request number %d: want a positive number", number))
	}
	ref := plumbing.ReferenceName(fmt.Sprintf("refs/pull/%d/head", number))
	r.mu.Lock()
	defer r.mu.Unlock()
	auth, err := r.basicAuth(ctx)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	spec := config.RefSpec("+" + ref + ":" + ref) // outside the tracking refs a fetch prunes
	err = r.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: auth, Force: true, Tags: git.NoTags})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.As(err, &noMatch):
		return "", fmt.Errorf("fetch %s: %w", ref, ErrNotFound)
	default:
		return "", fmt.Errorf("fetch %s: %w", ref, refused(err))
	}
	got, err := r.repo.Reference(ref, true)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	return got.Hash().String(), nil
}

// commit resolves a commit id. Callers hold r.mu.
func (r *Repo) commit(sha string) (*object.Commit, error) {
	if !isSHA(sha) {
		return nil, retry.Terminal(fmt.Errorf("commit %q: want a 40-character commit id", sha))
	}
	c, err := r.repo.CommitObject(plumbing.NewHash(sha))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("commit %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", sha, err)
	}
	return c, nil
}

// CommitInfo describes a commit.
type CommitInfo struct {
	SHA     string
	Message string
	Author  Signature
	// AuthorTime is when the change was authored.
	AuthorTime time.Time
	Committer  Signature
	// Time is when the commit was made (committer time): for a merge
	// commit, when the pull request was merged.
	Time    time.Time
	Parents []string
}

// CommitInfo returns a commit's message, people, times and parents;
// ErrNotFound when the clone does not have it.
func (r *Repo) CommitInfo(ctx context.Context, sha string) (CommitInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		return CommitInfo{}, err
	}
	info := CommitInfo{
		SHA: sha, Message: c.Message,
		Author: Signature{Name: c.Author.Name, Email: c.Author.Email}, AuthorTime: c.Author.When,
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email}, Time: c.Committer.When,
	}
	for _, p := range c.ParentHashes {
		info.Parents = append(info.Parents, p.String())
	}
	return info, nil
}

// ReadFile returns a file's content at a commit; ErrNotFound when the
// commit has no such file.
func (r *Repo) ReadFile(ctx context.Context, sha, name string) ([]byte, error) {
	if err := checkPath(name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		return nil, err
	}
	f, err := c.File(name)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, fmt.Errorf("read %s at %s: %w", name, sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", name, sha, err)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", name, sha, err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", name, sha, err)
	}
	return b, nil
}

// Push sets branch on the remote to sha, a commit of this clone. Without
// force the update must be a fast-forward (else ErrNonFastForward).
// Pushing the commit the branch already has does nothing.
//
// When a commit the remote advertises is among the first parents of sha,
// a few steps down, Push sends only what changed since (see pushChanges),
// reading no tree that did not change: the cost of a push follows the
// size of the change, not of the repository. Otherwise go-git works out
// the objects to send from everything the remote's commits reach.
func (r *Repo) Push(ctx context.Context, sha, branch string, force bool) error {
	if err := checkBranch(branch); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(sha)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	auth, err := r.basicAuth(ctx)
	if err != nil {
		return fmt.Errorf("push %s: %w", branch, err)
	}
	start := time.Now()
	err = r.pushChanges(ctx, c, branch, force, auth)
	if errors.Is(err, errNoAdvertisedBase) {
		r.log.Debug("push: no advertised commit near the pushed one; sending what go-git selects", "branch", branch, "sha", sha)
		err = r.pushAll(ctx, sha, branch, force, auth)
	}
	switch {
	case err == nil:
		r.log.Info("pushed", "branch", branch, "sha", sha, "force", force, "duration", time.Since(start))
	case errors.Is(err, git.NoErrAlreadyUpToDate):
	case strings.Contains(err.Error(), "non-fast-forward") || errors.Is(err, plumbing.ErrObjectNotFound):
		return retry.Terminal(fmt.Errorf("push %s to %s: %w: %w", sha, branch, ErrNonFastForward, err))
	default:
		return fmt.Errorf("push %s to %s: %w", sha, branch, refused(err))
	}
	if err := r.track(branch, plumbing.NewHash(sha)); err != nil {
		return fmt.Errorf("record pushed %s: %w", branch, err)
	}
	return nil
}

// pushAll pushes sha to branch with go-git, which sends every object sha
// reaches that the remote's commits do not, walking all their trees.
// Callers hold r.mu.
func (r *Repo) pushAll(ctx context.Context, sha, branch string, force bool, auth transport.AuthMethod) error {
	spec := config.RefSpec(sha + ":refs/heads/" + branch)
	if force {
		spec = "+" + spec
	}
	return r.repo.PushContext(ctx, &git.PushOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: auth})
}

// checkBranch rejects names git or GitHub refuse as branches.
func checkBranch(branch string) error {
	if branch == "" || strings.HasPrefix(branch, "refs/") || strings.HasPrefix(branch, "/") || strings.HasSuffix(branch, "/") ||
		strings.HasSuffix(branch, ".lock") || strings.Contains(branch, "..") || strings.Contains(branch, "//") ||
		strings.ContainsAny(branch, " :~^?*[\\@") {
		return retry.Terminal(fmt.Errorf("branch %q: want a branch name such as main or gitvend/request-12", branch))
	}
	return nil
}

// checkPath rejects paths that are not clean, relative and inside the tree.
func checkPath(p string) error {
	if p == "" || path.Clean(p) != p || path.IsAbs(p) || p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "\\") {
		return retry.Terminal(fmt.Errorf("path %q: want a clean relative path such as requests/dev/a.yaml", p))
	}
	for _, el := range strings.Split(p, "/") {
		if strings.EqualFold(el, ".git") {
			return retry.Terminal(fmt.Errorf("path %q: .git is not allowed", p))
		}
	}
	return nil
}

// isSHA reports whether s is a full hexadecimal commit id.
func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
