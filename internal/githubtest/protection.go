package githubtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// protection is a branch's protection rule, as far as the double keeps it.
type protection struct {
	checks        []string // required status checks (contexts)
	strict        bool     // branches must be up to date before merging
	enforceAdmins bool
}

// Protection is what SetBranchProtection sets on a branch.
type Protection struct {
	// RequiredChecks are the status checks and check runs (by name) that
	// must pass before a pull request merges; none leaves the rule without
	// required status checks.
	RequiredChecks []string
	// Strict requires a pull request's branch to be up to date.
	Strict bool
	// EnforceAdmins applies the rule to administrators too.
	EnforceAdmins bool
}

// SetBranchProtection protects branch of repository fullName with p, as
// an admin does in the repository's settings; nil removes the
// protection. The double serves the rule (GET …/branches/{branch}/
// protection, and "protected" on the branch) but does not enforce it on
// merges or pushes.
func (s *Server) SetBranchProtection(fullName, branch string, p *Protection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return err
	}
	if p == nil {
		delete(r.protections, branch)
		return nil
	}
	if r.protections == nil {
		r.protections = map[string]*protection{}
	}
	r.protections[branch] = &protection{checks: slices.Clone(p.RequiredChecks), strict: p.Strict, enforceAdmins: p.EnforceAdmins}
	return nil
}

// SetInstallationPermission grants (or with level "" takes away) one of
// the App's permissions, such as administration: read, on the
// installations of account, as the App's owner changes them and the
// installation accepts. Tokens issued afterwards carry it.
func (s *Server) SetInstallationPermission(account, name, level string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, in := range s.insts {
		if !strings.EqualFold(in.account.login, account) {
			continue
		}
		found = true
		if level == "" {
			delete(in.permissions, name)
		} else {
			in.permissions[name] = level
		}
	}
	if !found {
		return fmt.Errorf("installation on %s: %w", account, ErrNotFound)
	}
	return nil
}

// getBranchProtection serves a branch's protection as GitHub does: an App
// needs the administration permission (read), else 403; a branch without
// protection is 404 "Branch not protected".
func (s *Server) getBranchProtection(c *call) (*response, error) {
	if c.tok == nil {
		return nil, errNotFound()
	}
	if lvl := c.tok.permissions["administration"]; lvl != "read" && lvl != "write" {
		return nil, errStatus(http.StatusForbidden, "Resource not accessible by integration")
	}
	name := c.params["branch"]
	if c.repo.git.resolveCommit(c.ctx, "refs/heads/"+name) == "" {
		return nil, errStatus(http.StatusNotFound, "Branch not found")
	}
	p := c.repo.protections[name]
	if p == nil {
		return nil, errStatus(http.StatusNotFound, "Branch not protected")
	}
	api := s.apiRepo(c.repo) + "/branches/" + name + "/protection"
	enabled := func(on bool) obj { return obj{"enabled": on} }
	out := obj{
		"url":                              api,
		"enforce_admins":                   obj{"url": api + "/enforce_admins", "enabled": p.enforceAdmins},
		"required_signatures":              obj{"url": api + "/required_signatures", "enabled": false},
		"required_linear_history":          enabled(false),
		"allow_force_pushes":               enabled(false),
		"allow_deletions":                  enabled(false),
		"block_creations":                  enabled(false),
		"required_conversation_resolution": enabled(false),
		"lock_branch":                      enabled(false),
		"allow_fork_syncing":               enabled(false),
	}
	if len(p.checks) > 0 {
		out["required_status_checks"] = s.requiredChecksJSON(api, p)
	}
	return ok(out)
}

func (s *Server) requiredChecksJSON(api string, p *protection) obj {
	checks := make([]any, 0, len(p.checks))
	for _, ctx := range p.checks {
		checks = append(checks, obj{"context": ctx, "app_id": nil})
	}
	return obj{
		"url":          api + "/required_status_checks",
		"strict":       p.strict,
		"contexts":     slices.Clone(p.checks),
		"contexts_url": api + "/required_status_checks/contexts",
		"checks":       checks,
	}
}

// branchProtectionSummary is the "protection" of GET …/branches/{branch}.
func branchProtectionSummary(p *protection) obj {
	if p == nil {
		return obj{"enabled": false, "required_status_checks": obj{"enforcement_level": "off", "contexts": []string{}, "checks": []any{}}}
	}
	level := "off"
	if len(p.checks) > 0 {
		level = "non_admins"
		if p.enforceAdmins {
			level = "everyone"
		}
	}
	checks := make([]any, 0, len(p.checks))
	for _, ctx := range p.checks {
		checks = append(checks, obj{"context": ctx, "app_id": nil})
	}
	return obj{"enabled": true, "required_status_checks": obj{"enforcement_level": level, "contexts": append([]string{}, p.checks...), "checks": checks}}
}
