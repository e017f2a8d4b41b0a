package githubtest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// RepoSpec describes a repository for CreateRepo.
type RepoSpec struct {
	// Owner is the account login; it is created as OwnerType when new.
	Owner string
	// OwnerType is "Organization" (default) or "User".
	OwnerType string
	// Name is the repository name.
	Name string
	// Public makes the repository public; repositories are private by default.
	Public bool
	// DefaultBranch defaults to "main".
	DefaultBranch string
	// Description is shown in repository objects.
	Description string
	// Files are committed as the first commit of the default branch. With
	// no files, a README.md is committed.
	Files map[string]string
	// Author is the login of the first commit's author. Default: Owner.
	Author string
}

// CreateRepo creates a repository with one commit on its default branch.
// No webhook is sent, as on GitHub where the App is installed afterwards.
func (s *Server) CreateRepo(ctx context.Context, spec RepoSpec) error {
	if !validName(spec.Owner) || !validName(spec.Name) {
		return fmt.Errorf("create repository %q/%q: owner and name must be non-empty and free of slashes", spec.Owner, spec.Name)
	}
	branch := spec.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	if !validRefName("refs/heads/" + branch) {
		return fmt.Errorf("create repository: invalid default branch %q", branch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(spec.Owner + "/" + spec.Name)
	if _, exists := s.repos[key]; exists {
		return fmt.Errorf("create repository %s: already exists", key)
	}
	owner, known := s.users[strings.ToLower(spec.Owner)]
	if !known {
		kind := spec.OwnerType
		if kind == "" {
			kind = "Organization"
		}
		if kind != "Organization" && kind != "User" {
			return fmt.Errorf("create repository: owner type %q is neither Organization nor User", kind)
		}
		owner = &user{login: spec.Owner, id: s.newID(), kind: kind}
		s.users[strings.ToLower(spec.Owner)] = owner
	}
	g, err := initBare(ctx, s.gitPath, s.repoDir(owner.login, spec.Name), branch)
	if err != nil {
		return fmt.Errorf("create repository %s: %w", key, err)
	}
	now := s.now()
	r := &repo{
		id: s.newID(), owner: owner, name: spec.Name, private: !spec.Public, description: spec.Description,
		defaultBranch: branch, created: now, updated: now, pushed: now, git: g,
		perms: map[string]string{}, labels: map[string]*label{}, comments: map[int64]*comment{},
		stats: map[string]pullStats{},
	}
	files := spec.Files
	if len(files) == 0 {
		files = map[string]string{"README.md": "# " + spec.Name + "\n"}
	}
	changes, err := fileChanges(ctx, g, files, nil)
	if err != nil {
		return fmt.Errorf("create repository %s: %w", key, err)
	}
	authorLogin := spec.Author
	if authorLogin == "" {
		authorLogin = owner.login
	}
	author := s.signatureOf(s.userLocked(authorLogin), now)
	if _, _, err := s.commitFiles(ctx, r, branch, "", changes, "Initial commit\n", author, author); err != nil {
		return fmt.Errorf("create repository %s: %w", key, err)
	}
	s.repos[key] = r
	return nil
}

func validName(v string) bool {
	return v != "" && !strings.ContainsAny(v, "/\\ \x00") && v != "." && v != ".." && !strings.HasSuffix(v, ".git")
}

// fileChanges writes blobs for files and lists removals, in path order.
func fileChanges(ctx context.Context, g *gitRepo, files map[string]string, remove []string) ([]treeChange, error) {
	paths := slices.Sorted(maps.Keys(files))
	contents := make([][]byte, len(paths))
	for i, p := range paths {
		contents[i] = []byte(files[p])
	}
	shas, err := g.hashBlobs(ctx, contents)
	if err != nil {
		return nil, err
	}
	var changes []treeChange
	for i, p := range paths {
		changes = append(changes, treeChange{path: p, mode: "100644", sha: shas[i]})
	}
	for _, p := range remove {
		changes = append(changes, treeChange{path: p})
	}
	return changes, nil
}

// AddInstallation installs the App on an account, for the given
// repositories ("owner/name") or, with none, for all of the account's
// repositories. It returns the installation id.
func (s *Server) AddInstallation(account string, repos ...string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, known := s.users[strings.ToLower(account)]
	if !known {
		return 0, fmt.Errorf("add installation on %s: %w", account, ErrNotFound)
	}
	in := &installation{id: s.newID(), account: acct, all: len(repos) == 0, repos: map[string]bool{},
		permissions: appPermissions(), events: appEvents(), created: s.now()}
	for _, name := range repos {
		r, err := s.repoLocked(name)
		if err != nil {
			return 0, fmt.Errorf("add installation on %s: %w", account, err)
		}
		if r.owner != acct {
			return 0, fmt.Errorf("add installation on %s: repository %s belongs to another account", account, name)
		}
		in.repos[strings.ToLower(r.fullName())] = true
	}
	s.insts[in.id] = in
	return in.id, nil
}

// SetPermission gives a user a role on a repository: admin, maintain,
// write, triage, read or none.
func (s *Server) SetPermission(fullName, login, permission string) error {
	if !slices.Contains(validPermissions, permission) {
		return fmt.Errorf("set permission %q: not one of %v", permission, validPermissions)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return fmt.Errorf("set permission: %w", err)
	}
	u := s.userLocked(login)
	if permission == "none" {
		delete(r.perms, strings.ToLower(u.login))
		return nil
	}
	r.perms[strings.ToLower(u.login)] = permission
	return nil
}

// SetTeamMembers makes logins the members of an organization's team.
func (s *Server) SetTeamMembers(org, team string, logins ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	members := map[string]bool{}
	for _, l := range logins {
		members[strings.ToLower(s.userLocked(l).login)] = true
	}
	s.teams[teamKey(org, team)] = members
}

// IssueSpec describes an issue a person opens in the browser.
type IssueSpec struct {
	User  string
	Title string
	Body  string
	// Labels are the labels of the issue form it is opened from. As on
	// GitHub, the issue gets only those the repository has (CreateLabel);
	// the others are dropped.
	Labels []string
}

// locked runs f with the repository and the acting user, holding s.mu.
func (s *Server) locked(fullName, login string, f func(r *repo, u *user) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return err
	}
	if login == "" {
		return fmt.Errorf("act on %s: no user given", fullName)
	}
	return f(r, s.userLocked(login))
}

func findIssue(r *repo, number int) (*issue, error) {
	is := r.issue(int64(number))
	if is == nil {
		return nil, fmt.Errorf("find issue #%d of %s: %w", number, r.fullName(), ErrNotFound)
	}
	return is, nil
}

// OpenIssue opens an issue as a person and returns its number.
func (s *Server) OpenIssue(ctx context.Context, fullName string, spec IssueSpec) (int, error) {
	var n int
	err := s.locked(fullName, spec.User, func(r *repo, u *user) error {
		if spec.Title == "" {
			return fmt.Errorf("open issue: empty title")
		}
		if err := checkIssueText(&spec.Title, &spec.Body); err != nil {
			return fmt.Errorf("open issue: %w", err)
		}
		n = int(s.openIssueFromForm(ctx, r, u, spec).number)
		return nil
	})
	return n, err
}

// EditIssueBody replaces the body of an issue or pull request as login:
// its author, or, as on GitHub, someone with write access. The issues (or
// pull_request) edited webhook names login as its sender and carries the
// old body in changes.body.from.
func (s *Server) EditIssueBody(ctx context.Context, fullName string, number int, login, body string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		if err := s.mayEditLocked(r, is.user, u); err != nil {
			return fmt.Errorf("edit #%d: %w", number, err)
		}
		if err := checkIssueText(nil, &body); err != nil {
			return fmt.Errorf("edit #%d: %w", number, err)
		}
		s.editIssueLocked(ctx, r, is, u, nil, &body)
		return nil
	})
}

// mayEditLocked tells whether editor may edit what author wrote: their own
// text, or anyone's with write access to the repository.
func (s *Server) mayEditLocked(r *repo, author, editor *user) error {
	if author == editor || permissionRank(s.permissionLocked(r, editor)) >= permissionRank("write") {
		return nil
	}
	return &apiError{status: http.StatusForbidden, message: "Must have admin rights to Repository."}
}

// CloseIssue closes an issue (or a pull request without merging it).
func (s *Server) CloseIssue(ctx context.Context, fullName string, number int, login string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		s.setIssueStateLocked(ctx, r, is, u, "closed", "")
		return nil
	})
}

// ReopenIssue reopens a closed issue.
func (s *Server) ReopenIssue(ctx context.Context, fullName string, number int, login string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		if is.pull != nil && is.pull.merged {
			return fmt.Errorf("reopen #%d: pull request is merged", number)
		}
		s.setIssueStateLocked(ctx, r, is, u, "open", "")
		return nil
	})
}

// AddLabels labels an issue or pull request.
func (s *Server) AddLabels(ctx context.Context, fullName string, number int, login string, labels ...string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		s.addLabelsLocked(ctx, r, is, u, labels)
		return nil
	})
}

// Comment posts a comment on an issue or pull request and returns its id.
func (s *Server) Comment(ctx context.Context, fullName string, number int, login, body string) (int64, error) {
	var id int64
	err := s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		if body == "" {
			return fmt.Errorf("comment on #%d: empty body", number)
		}
		if err := checkLength("IssueComment", "body", body, maxBody); err != nil {
			return fmt.Errorf("comment on #%d: %w", number, err)
		}
		id = s.addCommentLocked(ctx, r, is, u, body).id
		return nil
	})
	return id, err
}

// EditComment replaces the body of a comment as login: its author, or, as
// on GitHub, someone with write access. The issue_comment edited webhook
// names login as its sender and carries the old body in
// changes.body.from.
func (s *Server) EditComment(ctx context.Context, fullName string, commentID int64, login, body string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		cm, found := r.comments[commentID]
		if !found {
			return fmt.Errorf("edit comment %d: %w", commentID, ErrNotFound)
		}
		if err := s.mayEditLocked(r, cm.user, u); err != nil {
			return fmt.Errorf("edit comment %d: %w", commentID, err)
		}
		if err := checkLength("IssueComment", "body", body, maxBody); err != nil {
			return fmt.Errorf("edit comment %d: %w", commentID, err)
		}
		s.editCommentLocked(r, cm, u, body)
		return nil
	})
}

// PushSpec describes a commit a person pushes.
type PushSpec struct {
	// User is the pusher and commit author.
	User string
	// Branch receives the commit; it is created from From when missing.
	Branch string
	// From is the starting point of a new branch. Default: the default branch.
	From string
	// Message defaults to "Update files".
	Message string
	// Files are written (created or replaced).
	Files map[string]string
	// Delete lists paths to remove.
	Delete []string
}

// Push commits files to a branch as a person and plays the push: push
// event, synchronize of pull requests from that branch, check suite. It
// returns the new commit id.
func (s *Server) Push(ctx context.Context, fullName string, spec PushSpec) (string, error) {
	var sha string
	err := s.locked(fullName, spec.User, func(r *repo, u *user) error {
		if spec.Branch == "" || !validRefName("refs/heads/"+spec.Branch) {
			return fmt.Errorf("push to %s: invalid branch %q", fullName, spec.Branch)
		}
		from := spec.From
		if from == "" {
			from = r.defaultBranch
		}
		fromSHA := r.git.resolveCommit(ctx, "refs/heads/"+from)
		if fromSHA == "" {
			fromSHA = r.git.resolveCommit(ctx, from)
		}
		changes, err := fileChanges(ctx, r.git, spec.Files, spec.Delete)
		if err != nil {
			return fmt.Errorf("push to %s: %w", fullName, err)
		}
		msg := spec.Message
		if msg == "" {
			msg = "Update files"
		}
		sig := s.signatureOf(u, s.now())
		old, newSHA, err := s.commitFiles(ctx, r, spec.Branch, fromSHA, changes, msg+"\n", sig, sig)
		if err != nil {
			return fmt.Errorf("push to %s: %w", fullName, err)
		}
		sha = newSHA
		s.afterRefUpdates(ctx, r, []refUpdate{{ref: "refs/heads/" + spec.Branch, before: old, after: newSHA}}, u)
		return nil
	})
	return sha, err
}

// PullSpec describes a pull request a person opens.
type PullSpec struct {
	User  string
	Head  string
	Base  string // default: the default branch
	Title string
	Body  string
	Draft bool
}

// OpenPullRequest opens a pull request as a person and returns its number.
func (s *Server) OpenPullRequest(ctx context.Context, fullName string, spec PullSpec) (int, error) {
	var n int
	err := s.locked(fullName, spec.User, func(r *repo, u *user) error {
		base := spec.Base
		if base == "" {
			base = r.defaultBranch
		}
		is, err := s.openPullLocked(ctx, r, u, spec.Title, spec.Body, spec.Head, base, spec.Draft)
		if err != nil {
			return fmt.Errorf("open pull request: %w", err)
		}
		n = int(is.number)
		return nil
	})
	return n, err
}

// MergePullRequest merges a pull request with a merge commit as a person
// and returns the merge commit id; ErrNotMergeable when it is closed or
// conflicts.
func (s *Server) MergePullRequest(ctx context.Context, fullName string, number int, login string) (string, error) {
	var sha string
	err := s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		if is.pull == nil {
			return fmt.Errorf("merge #%d: not a pull request: %w", number, ErrNotFound)
		}
		sha, err = s.mergePullLocked(ctx, r, is, u, "merge", "", "", "")
		return err
	})
	return sha, err
}

// RerequestCheckSuite plays a person pressing "Re-run all checks".
func (s *Server) RerequestCheckSuite(ctx context.Context, fullName string, suiteID int64, login string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		for _, cs := range r.checkSuites {
			if cs.id == suiteID {
				s.rerequestSuiteLocked(ctx, r, cs, u)
				return nil
			}
		}
		return fmt.Errorf("rerequest check suite %d: %w", suiteID, ErrNotFound)
	})
}

// RerequestCheckRun plays a person pressing "Re-run" on one check run.
func (s *Server) RerequestCheckRun(ctx context.Context, fullName string, runID int64, login string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		for _, cr := range r.checkRuns {
			if cr.id == runID {
				s.rerequestRunLocked(r, cr, u)
				return nil
			}
		}
		return fmt.Errorf("rerequest check run %d: %w", runID, ErrNotFound)
	})
}

// StatusSpec describes a commit status a person sets, as a CI system does
// with that person's token.
type StatusSpec struct {
	User        string
	SHA         string
	State       string // error, failure, pending or success
	Context     string // default "default"
	Description string
}

// PostStatus sets a commit status as a person, who needs write access to
// the repository as on GitHub. The status names that person as its
// creator.
func (s *Server) PostStatus(ctx context.Context, fullName string, spec StatusSpec) error {
	return s.locked(fullName, spec.User, func(r *repo, u *user) error {
		if permissionRank(s.permissionLocked(r, u)) < permissionRank("write") {
			return fmt.Errorf("post status as %s: %w", u.login, ErrNotFound)
		}
		if r.git.objectType(ctx, spec.SHA) != "commit" {
			return fmt.Errorf("post status: no commit found for SHA %s", spec.SHA)
		}
		if !slices.Contains([]string{"error", "failure", "pending", "success"}, spec.State) {
			return fmt.Errorf("post status: state %q", spec.State)
		}
		if spec.Context == "" {
			spec.Context = "default"
		}
		now := s.now()
		r.statuses = append(r.statuses, &status{id: s.newID(), sha: spec.SHA, state: spec.State, context: spec.Context,
			description: spec.Description, creator: u, created: now, updated: now})
		return nil
	})
}
