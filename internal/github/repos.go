package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Permission levels, strongest first.
var permissionLevels = []string{"admin", "maintain", "write", "triage", "read", "none"}

// Permission returns a user's role on a repository: admin, maintain, write,
// triage, read or none. A login that is no GitHub user has none.
func (c *Client) Permission(ctx context.Context, owner, repo, user string) (string, error) {
	if err := checkArgs(owner, repo, checkLogin("user", user)); err != nil {
		return "", err
	}
	// go-github v60 does not decode role_name, which tells maintain and
	// triage apart from write and read.
	path := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(user))
	req, err := c.gh.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return "", fmt.Errorf("get permission of %s on %s/%s: %w", user, owner, repo, err)
	}
	var body struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	if _, err := c.gh.Do(ctx, req, &body); err != nil {
		err = convertError(err)
		if hasStatus(err, http.StatusNotFound, "is not a user") {
			return "none", nil
		}
		return "", fmt.Errorf("get permission of %s on %s/%s: %w", user, owner, repo, err)
	}
	for _, level := range []string{body.RoleName, body.Permission} {
		for _, known := range permissionLevels {
			if strings.EqualFold(level, known) {
				return known, nil
			}
		}
	}
	return "none", nil
}

// IsTeamMember reports whether user is an active member of an
// organization's team (a pending invitation is not membership).
func (c *Client) IsTeamMember(ctx context.Context, org, teamSlug, user string) (bool, error) {
	if err := errors.Join(checkLogin("org", org), checkLogin("team", teamSlug), checkLogin("user", user)); err != nil {
		return false, err
	}
	m, _, err := c.gh.Teams.GetTeamMembershipBySlug(ctx, org, teamSlug, user)
	if err != nil {
		err = convertError(err)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("get membership of %s in %s/%s: %w", user, org, teamSlug, err)
	}
	return m.GetState() == "active", nil
}

// DefaultBranch returns a repository's default branch.
func (c *Client) DefaultBranch(ctx context.Context, owner, repo string) (string, error) {
	if err := checkArgs(owner, repo); err != nil {
		return "", err
	}
	r, _, err := c.gh.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return "", fmt.Errorf("get repository %s/%s: %w", owner, repo, convertError(err))
	}
	return r.GetDefaultBranch(), nil
}

// GetRef returns the commit a ref points at; ref is "heads/<branch>",
// "tags/<tag>" or the same with a "refs/" prefix. ErrNotFound when missing.
func (c *Client) GetRef(ctx context.Context, owner, repo, ref string) (string, error) {
	ref, err := checkRef(ref)
	if err := checkArgs(owner, repo, err); err != nil {
		return "", err
	}
	r, _, err := c.gh.Git.GetRef(ctx, owner, repo, ref)
	if err != nil {
		return "", fmt.Errorf("get ref %s of %s/%s: %w", ref, owner, repo, convertError(err))
	}
	return r.GetObject().GetSHA(), nil
}

// HeadSHA returns the commit at the tip of a branch; ErrNotFound when the
// branch does not exist.
func (c *Client) HeadSHA(ctx context.Context, owner, repo, branch string) (string, error) {
	if err := checkBranch("branch", branch); err != nil {
		return "", err
	}
	return c.GetRef(ctx, owner, repo, "heads/"+branch)
}

// DeleteRef deletes a ref ("heads/<branch>"). Deleting a ref that is
// already gone succeeds, so that a repeated call is harmless.
func (c *Client) DeleteRef(ctx context.Context, owner, repo, ref string) error {
	ref, err := checkRef(ref)
	if err := checkArgs(owner, repo, err); err != nil {
		return err
	}
	if _, err := c.gh.Git.DeleteRef(ctx, owner, repo, ref); err != nil {
		err = convertError(err)
		if errors.Is(err, ErrNotFound) || hasStatus(err, http.StatusUnprocessableEntity, "Reference does not exist") {
			return nil
		}
		return fmt.Errorf("delete ref %s of %s/%s: %w", ref, owner, repo, err)
	}
	return nil
}

// checkRef validates a ref and returns it without "refs/".
func checkRef(ref string) (string, error) {
	short := strings.TrimPrefix(ref, "refs/")
	kind, name, ok := strings.Cut(short, "/")
	if !ok || (kind != "heads" && kind != "tags") || name == "" || strings.ContainsAny(name, " :~^?*[\\") || strings.Contains(name, "..") {
		return "", fmt.Errorf("ref %q: want heads/<branch> or tags/<tag>", ref)
	}
	return short, nil
}

// checkLogin rejects empty names and names with characters logins and
// slugs never have.
func checkLogin(field, v string) error {
	if v == "" || strings.ContainsAny(v, "/ ?#%") {
		return fmt.Errorf("%s %q: want a GitHub login or slug", field, v)
	}
	return nil
}
