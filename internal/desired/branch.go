package desired

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// DefaultBrancher finds a repository's default branch; a GitHub client is
// one.
type DefaultBrancher interface {
	DefaultBranch(ctx context.Context, owner, repo string) (string, error)
}

// Branches resolves the branch that holds the desired state of each served
// repository: the branch the server configuration names, or else the
// repository's default branch, asked once and remembered. It is safe for
// concurrent use.
type Branches struct {
	configured map[string]string // by owner/name; "" for the default branch

	mu       sync.Mutex
	defaults map[string]string // default branches asked of GitHub
}

// NewBranches returns Branches for the served repositories: owner/name to
// the configured branch, "" for the repository's default branch.
func NewBranches(configured map[string]string) *Branches {
	return &Branches{configured: configured, defaults: map[string]string{}}
}

// Resolve returns the desired-state branch of repository full (owner/name),
// asking gh for the default branch only the first time it is needed.
func (b *Branches) Resolve(ctx context.Context, gh DefaultBrancher, full string) (string, error) {
	if br := b.configured[full]; br != "" {
		return br, nil
	}
	b.mu.Lock()
	br, ok := b.defaults[full]
	b.mu.Unlock()
	if ok {
		return br, nil
	}
	owner, name, ok := strings.Cut(full, "/")
	if !ok {
		return "", fmt.Errorf("repository %q: must be owner/name", full)
	}
	br, err := gh.DefaultBranch(ctx, owner, name)
	if err != nil {
		return "", fmt.Errorf("default branch of %s: %w", full, err)
	}
	b.mu.Lock()
	b.defaults[full] = br
	b.mu.Unlock()
	return br, nil
}
