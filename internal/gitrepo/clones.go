package gitrepo

import "context"

// Remote is where repositories are hosted: the URL each is cloned from
// and the token that fetches and pushes it. A GitHub App is one.
type Remote interface {
	// CloneURL is the HTTPS URL of owner/name, such as
	// https://github.com/owner/name.git.
	CloneURL(fullName string) string
	// RepoToken returns a token that may fetch from and push to owner/repo.
	RepoToken(ctx context.Context, owner, repo string) (string, error)
}

// Clones opens the local clones of a Remote's repositories: each is cloned
// into Cache once, and every fetch and push asks Remote for the
// repository's token.
type Clones struct {
	Cache  *Cache
	Remote Remote
}

// Open returns the clone of owner/repo.
func (c Clones) Open(ctx context.Context, owner, repo string) (*Repo, error) {
	auth := func(ctx context.Context) (string, error) { return c.Remote.RepoToken(ctx, owner, repo) }
	return c.Cache.Open(ctx, c.Remote.CloneURL(owner+"/"+repo), auth)
}
