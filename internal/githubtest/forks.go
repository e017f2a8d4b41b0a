package githubtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ForkRepo forks repository fullName ("owner/name") into the account of
// login, a person, as the Fork button does: a repository login/name with
// git storage of its own holding every branch of the original, public when
// the original is. The App installed on the original does not cover the
// fork, so nothing that happens in it is sent as a webhook. It returns the
// fork's full name.
func (s *Server) ForkRepo(ctx context.Context, fullName, login string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	base, err := s.repoLocked(fullName)
	if err != nil {
		return "", fmt.Errorf("fork: %w", err)
	}
	if login == "" {
		return "", fmt.Errorf("fork %s: no user given", fullName)
	}
	owner := s.userLocked(login)
	if owner == base.owner {
		return "", fmt.Errorf("fork %s: %s owns it already", fullName, login)
	}
	key := strings.ToLower(owner.login + "/" + base.name)
	if _, exists := s.repos[key]; exists {
		return "", fmt.Errorf("fork %s: %s already exists", fullName, key)
	}
	g, err := initBare(ctx, s.gitPath, s.repoDir(owner.login, base.name), base.defaultBranch)
	if err != nil {
		return "", fmt.Errorf("fork %s: %w", fullName, err)
	}
	if _, err := g.run(ctx, nil, nil, "fetch", "--quiet", "--no-tags", base.git.dir, "+refs/heads/*:refs/heads/*"); err != nil {
		return "", fmt.Errorf("fork %s: copy branches: %w", fullName, err)
	}
	now := s.now()
	r := &repo{
		id: s.newID(), owner: owner, name: base.name, private: base.private, description: base.description,
		defaultBranch: base.defaultBranch, created: now, updated: now, pushed: now, git: g,
		perms: map[string]string{}, labels: map[string]*label{}, comments: map[int64]*comment{},
		stats: map[string]pullStats{}, parent: base,
	}
	s.repos[key] = r
	return r.fullName(), nil
}

// DeleteRepo deletes a repository and its git storage. Pull requests whose
// head was in it, when it is a fork, stay open on the original with a head
// repository of null, their head commit kept as refs/pull/N/head.
func (s *Server) DeleteRepo(ctx context.Context, fullName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return fmt.Errorf("delete repository: %w", err)
	}
	for _, other := range s.repos {
		if other.parent == r {
			other.parent = nil // GitHub detaches the forks of a deleted repository
		}
		for _, is := range other.issues {
			if p := is.pull; p != nil && p.fork == r {
				p.fork, p.forkGone = nil, true
			}
		}
	}
	delete(s.repos, strings.ToLower(r.fullName()))
	if err := os.RemoveAll(r.git.dir); err != nil {
		return fmt.Errorf("delete repository %s: %w", fullName, err)
	}
	return nil
}

// forkOfLocked is the fork of r owned by login, if any. Callers hold s.mu.
func (s *Server) forkOfLocked(r *repo, login string) *repo {
	for _, other := range s.repos {
		if other.parent == r && strings.EqualFold(other.owner.login, login) {
			return other
		}
	}
	return nil
}

// pullRef is where GitHub keeps a pull request's head in its base
// repository, for pull requests from forks and from branches alike.
func pullRef(number int64) string { return "refs/pull/" + strconv.FormatInt(number, 10) + "/head" }

// headRepo is the repository a pull request's head branch lives in; nil
// when it was a fork that is deleted.
func (is *issue) headRepo(base *repo) *repo {
	if p := is.pull; p.fromFork() {
		return p.fork
	}
	return base
}

// headOwner is the account whose branch the head is.
func (p *pull) headOwner(base *repo) *user {
	if p.fromFork() {
		return p.forkOwner
	}
	return base.owner
}

// setPullRefLocked points refs/pull/N/head of the base at sha, copying the
// commit from the fork first when it lives there. Callers hold s.mu.
func (s *Server) setPullRefLocked(ctx context.Context, base *repo, is *issue, sha string) error {
	if fork := is.pull.fork; fork != nil {
		if err := base.git.fetchCommit(ctx, fork.git.dir, sha); err != nil {
			return err
		}
	}
	return base.git.updateRef(ctx, pullRef(is.number), sha, "")
}

// pullHeadsMovedLocked plays GitHub's upkeep of pull request heads after
// refs of r moved, before the events of the moves are sent: the
// refs/pull/N/head of r's own pull requests follow their branches, and the
// pull requests other repositories have from r (a fork) follow the fork's
// branches: synchronized, or closed when the branch is deleted. Callers
// hold s.mu.
func (s *Server) pullHeadsMovedLocked(ctx context.Context, r *repo, updates []refUpdate, sender *user) {
	now := s.now()
	for _, u := range updates {
		branch, isBranch := strings.CutPrefix(u.ref, "refs/heads/")
		if !isBranch || u.after == zeroSHA {
			if isBranch {
				s.forkBranchDeletedLocked(ctx, r, branch, sender)
			}
			continue
		}
		for _, is := range r.issues {
			if p := is.pull; p != nil && is.state == "open" && !p.fromFork() && p.head == branch {
				if err := s.setPullRefLocked(ctx, r, is, u.after); err != nil {
					s.log.Error("update pull request ref", "repo", r.fullName(), "pr", is.number, "err", err)
				}
			}
		}
		base := r.parent
		if base == nil {
			continue
		}
		for _, is := range base.issues {
			p := is.pull
			if p == nil || is.state != "open" || p.fork != r || p.head != branch || p.headSHA == u.after {
				continue
			}
			if err := s.setPullRefLocked(ctx, base, is, u.after); err != nil {
				s.log.Error("update pull request ref", "repo", base.fullName(), "pr", is.number, "err", err)
				continue
			}
			before := p.headSHA
			p.headSHA = u.after
			is.updated = now
			base.updated = now
			s.emitIssueEvent(ctx, base, is, "synchronize", sender, obj{"before": before, "after": u.after})
		}
	}
}

// forkBranchDeletedLocked closes the pull requests whose head was branch
// of fork r, as GitHub does when a head branch is deleted. Callers hold
// s.mu.
func (s *Server) forkBranchDeletedLocked(ctx context.Context, r *repo, branch string, sender *user) {
	base := r.parent
	if base == nil {
		return
	}
	now := s.now()
	for _, is := range base.issues {
		if p := is.pull; p != nil && is.state == "open" && p.fork == r && p.head == branch {
			is.state, is.closed, is.updated = "closed", now, now
			s.emitIssueEvent(ctx, base, is, "closed", sender, nil)
		}
	}
}
