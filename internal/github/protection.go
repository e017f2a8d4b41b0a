package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v60/github"
)

// Protection is what gitvend reads of a branch's protection rule.
type Protection struct {
	// Protected tells whether the branch has a protection rule.
	Protected bool
	// RequiredChecks are the status checks and check runs the rule
	// requires before a pull request merges.
	RequiredChecks []string
	// Strict requires a pull request's branch to be up to date with it.
	Strict bool
	// EnforceAdmins applies the rule to repository admins too.
	EnforceAdmins bool
}

// ErrNoAdministration is matched (errors.Is) by BranchProtection's error
// when the App may not read branch protection: reading it needs the
// App's repository permission administration (read).
var ErrNoAdministration = errors.New("the App lacks the administration (read) permission that reading branch protection needs")

// BranchProtection reads the protection rule of branch: GitHub answers an
// unprotected branch with 404 "Branch not protected" (Protected false,
// no error) and an App without the administration permission with 403
// (ErrNoAdministration).
func (c *Client) BranchProtection(ctx context.Context, owner, repo, branch string) (Protection, error) {
	if err := checkArgs(owner, repo, checkBranch("branch", branch)); err != nil {
		return Protection{}, err
	}
	p, resp, err := c.gh.Repositories.GetBranchProtection(ctx, owner, repo, branch)
	switch {
	case errors.Is(err, gh.ErrBranchNotProtected):
		return Protection{}, nil
	case err != nil && resp != nil && resp.StatusCode == http.StatusForbidden:
		return Protection{}, fmt.Errorf("protection of %s/%s %s: %w", owner, repo, branch, errors.Join(ErrNoAdministration, convertError(err)))
	case err != nil:
		return Protection{}, fmt.Errorf("protection of %s/%s %s: %w", owner, repo, branch, convertError(err))
	}
	out := Protection{Protected: true, EnforceAdmins: p.GetEnforceAdmins().Enabled}
	if rc := p.GetRequiredStatusChecks(); rc != nil {
		out.Strict = rc.Strict
		seen := map[string]bool{}
		if rc.Contexts != nil {
			for _, c := range *rc.Contexts {
				if !seen[c] {
					seen[c] = true
					out.RequiredChecks = append(out.RequiredChecks, c)
				}
			}
		}
		if rc.Checks != nil {
			for _, c := range *rc.Checks {
				if !seen[c.Context] {
					seen[c.Context] = true
					out.RequiredChecks = append(out.RequiredChecks, c.Context)
				}
			}
		}
	}
	return out, nil
}
