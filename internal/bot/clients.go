package bot

import (
	"context"
	"fmt"

	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
)

// AppClients hands out the installation client of a GitHub App that serves
// a repository.
type AppClients struct {
	App *github.App
}

// ForRepo returns the client of the installation that covers owner/repo.
func (a AppClients) ForRepo(ctx context.Context, owner, repo string) (GitHub, error) {
	return a.Client(ctx, owner, repo)
}

// Client is ForRepo with the concrete client, for callers that need more
// of it than the bot does.
func (a AppClients) Client(ctx context.Context, owner, repo string) (*github.Client, error) {
	id, err := a.App.InstallationForRepo(ctx, owner, repo)
	if err != nil {
		return nil, fmt.Errorf("installation of %s/%s: %w", owner, repo, err)
	}
	return a.App.Installation(ctx, id)
}

// Clones opens local clones of repositories, fetching and pushing with the
// installation token of the App that serves each.
type Clones struct {
	Cache *gitrepo.Cache
	App   *github.App
	// URL is the clone URL of owner/name, such as
	// https://github.com/owner/name.git.
	URL func(fullName string) string
}

// Open returns the clone of owner/repo.
func (c Clones) Open(ctx context.Context, owner, repo string) (Clone, error) {
	return c.Clone(ctx, owner, repo)
}

// Clone is Open with the concrete repository.
func (c Clones) Clone(ctx context.Context, owner, repo string) (*gitrepo.Repo, error) {
	auth := func(ctx context.Context) (string, error) {
		id, err := c.App.InstallationForRepo(ctx, owner, repo)
		if err != nil {
			return "", err
		}
		return c.App.Token(ctx, id)
	}
	return c.Cache.Open(ctx, c.URL(owner+"/"+repo), auth)
}
