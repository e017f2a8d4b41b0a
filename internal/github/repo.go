package github

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// ForRepo returns the Client of the App's installation on owner/repo.
func (a *App) ForRepo(ctx context.Context, owner, repo string) (*Client, error) {
	id, err := a.InstallationForRepo(ctx, owner, repo)
	if err != nil {
		return nil, fmt.Errorf("installation of %s/%s: %w", owner, repo, err)
	}
	return a.Installation(ctx, id)
}

// RepoToken returns the installation token that fetches from and pushes to
// owner/repo over HTTPS, cached and renewed like Token.
func (a *App) RepoToken(ctx context.Context, owner, repo string) (string, error) {
	id, err := a.InstallationForRepo(ctx, owner, repo)
	if err != nil {
		return "", err
	}
	return a.Token(ctx, id)
}

// CloneURL returns the git URL of repository fullName (owner/name) on the
// GitHub the App talks to: https://github.com/ for api.github.com, the
// host of a GitHub Enterprise Server for .../api/v3/, and the API root
// itself otherwise.
func (a *App) CloneURL(fullName string) string {
	return cloneBase(a.apiURL) + fullName + ".git"
}

// cloneBase is the root of clone URLs, ending in '/', for an API root.
func cloneBase(apiURL *url.URL) string {
	switch {
	case apiURL.Host == "api.github.com":
		return "https://github.com/"
	case strings.HasSuffix(apiURL.Path, "/api/v3/"):
		u := *apiURL
		u.Path = strings.TrimSuffix(u.Path, "api/v3/")
		return strings.TrimSuffix(u.String(), "/") + "/"
	}
	return strings.TrimSuffix(apiURL.String(), "/") + "/"
}
