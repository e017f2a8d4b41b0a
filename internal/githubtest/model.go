package githubtest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// user is an account: a person, an organization or the App's bot.
type user struct {
	login string
	id    int64
	kind  string // "User", "Organization" or "Bot"
}

// installation is the App installed on one account.
type installation struct {
	id          int64
	account     *user
	all         bool
	repos       map[string]bool // lower-case full names when !all
	permissions map[string]string
	events      []string
	created     time.Time
}

// token is an installation access token.
type token struct {
	value       string
	inst        *installation
	expires     time.Time
	repos       map[string]bool // nil: every repository of the installation
	permissions map[string]string
}

// repo is a repository with its bare git repository and GitHub-side state.
type repo struct {
	id            int64
	owner         *user
	name          string
	private       bool
	description   string
	defaultBranch string
	created       time.Time
	updated       time.Time
	pushed        time.Time
	git           *gitRepo
	perms         map[string]string      // login -> admin|maintain|write|triage|read
	protections   map[string]*protection // branch -> its protection rule
	labels        map[string]*label      // lower-case name
	labelOrder    []string
	issues        []*issue // index = number-1
	comments      map[int64]*comment
	commentOrder  []int64
	checkSuites   []*checkSuite
	checkRuns     []*checkRun
	statuses      []*status
	stats         map[string]pullStats // "base..head" -> numbers
	parent        *repo                // the repository this one is a fork of
	packs         []ReceivedPack       // pushed over smart HTTP, oldest first
}

func (r *repo) fullName() string { return r.owner.login + "/" + r.name }

func (r *repo) issue(number int64) *issue {
	if number < 1 || number > int64(len(r.issues)) {
		return nil
	}
	return r.issues[number-1]
}

type label struct {
	id          int64
	name        string
	color       string
	description string
}

type reaction struct {
	id      int64
	user    *user
	content string
	created time.Time
}

// issue is an issue or the issue side of a pull request.
type issue struct {
	id          int64
	number      int64
	title       string
	body        string
	user        *user
	state       string
	stateReason string
	labels      []*label
	comments    int
	reactions   []*reaction
	created     time.Time
	updated     time.Time
	closed      time.Time
	pull        *pull
}

// pull is the pull-request side of an issue.
type pull struct {
	id          int64
	head        string
	headSHA     string
	base        string
	baseSHA     string
	draft       bool
	merged      bool
	mergedAt    time.Time
	mergedBy    *user
	mergeSHA    string
	maintainers bool
	reviews     []*review // submitted, oldest first
	// fork is the head's repository when it is another one than the
	// base's: a fork. forkOwner stays when the fork is deleted (fork nil,
	// forkGone true); the head then lives on only as refs/pull/N/head.
	fork      *repo
	forkOwner *user
	forkGone  bool
}

// fromFork tells whether the head is (or was) in another repository.
func (p *pull) fromFork() bool { return p.fork != nil || p.forkGone }

type comment struct {
	id        int64
	issue     *issue
	user      *user
	body      string
	reactions []*reaction
	created   time.Time
	updated   time.Time
}

type checkSuite struct {
	id         int64
	app        *App // the App the suite belongs to; nil for the served App
	headSHA    string
	headBranch string
	before     string
	after      string
	status     string
	conclusion string
	created    time.Time
	updated    time.Time
	rerequests int
}

type annotation struct {
	Path        string `json:"path"`
	StartLine   int    `json:"start_line"`
	EndLine     int    `json:"end_line"`
	StartColumn *int   `json:"start_column,omitempty"`
	EndColumn   *int   `json:"end_column,omitempty"`
	Level       string `json:"annotation_level"`
	Message     string `json:"message"`
	Title       string `json:"title,omitempty"`
	RawDetails  string `json:"raw_details,omitempty"`
}

type checkRun struct {
	id          int64
	app         *App // the App that created the run; nil for the served App
	suite       *checkSuite
	name        string
	headSHA     string
	status      string
	conclusion  string
	externalID  string
	detailsURL  string
	started     time.Time
	completed   time.Time
	title       string
	summary     string
	text        string
	annotations []annotation
}

type status struct {
	id          int64
	sha         string
	state       string
	context     string
	description string
	targetURL   string
	creator     *user
	created     time.Time
	updated     time.Time
}

// validPermission lists the repository roles SetPermission accepts.
var validPermissions = []string{"admin", "maintain", "write", "triage", "read", "none"}

// permissionRank orders roles so checks can say "at least write".
func permissionRank(p string) int {
	switch p {
	case "admin":
		return 5
	case "maintain":
		return 4
	case "write":
		return 3
	case "triage":
		return 2
	case "read":
		return 1
	}
	return 0
}

// userLocked returns the account for a login, creating a person on first
// use. Callers hold s.mu.
func (s *Server) userLocked(login string) *user {
	if u, ok := s.users[strings.ToLower(login)]; ok {
		return u
	}
	if u, ok := s.users[login]; ok {
		return u
	}
	u := &user{login: login, id: s.newID(), kind: "User"}
	s.users[strings.ToLower(login)] = u
	return u
}

// repoLocked finds a repository by "owner/name". Callers hold s.mu.
func (s *Server) repoLocked(fullName string) (*repo, error) {
	r, ok := s.repos[strings.ToLower(fullName)]
	if !ok {
		return nil, fmt.Errorf("find repository %q: %w", fullName, ErrNotFound)
	}
	return r, nil
}

// permissionLocked is a user's role on a repository. Callers hold s.mu.
func (s *Server) permissionLocked(r *repo, u *user) string {
	if u == nil {
		return "none"
	}
	if u == r.owner {
		return "admin"
	}
	if p, ok := r.perms[strings.ToLower(u.login)]; ok {
		return p
	}
	if !r.private {
		return "read"
	}
	return "none"
}

// authorAssociation is GitHub's relation of a user to a repository.
func (s *Server) authorAssociation(r *repo, u *user) string {
	switch {
	case u == nil:
		return "NONE"
	case u == r.owner:
		return "OWNER"
	case u.kind == "Bot":
		return "NONE"
	}
	if p, ok := r.perms[strings.ToLower(u.login)]; ok && permissionRank(p) >= permissionRank("triage") {
		if r.owner.kind == "Organization" {
			return "MEMBER"
		}
		return "COLLABORATOR"
	}
	return "NONE"
}

// installationFor is the App installation covering a repository, if any.
// Callers hold s.mu.
func (s *Server) installationFor(r *repo) *installation {
	ids := slices.Sorted(maps.Keys(s.insts))
	for _, id := range ids {
		in := s.insts[id]
		if in.covers(r) {
			return in
		}
	}
	return nil
}

func (in *installation) covers(r *repo) bool {
	if in.account != r.owner {
		return false
	}
	return in.all || in.repos[strings.ToLower(r.fullName())]
}

// tokenCovers says whether a token may act on a repository.
func (t *token) covers(r *repo) bool {
	if !t.inst.covers(r) {
		return false
	}
	return t.repos == nil || t.repos[strings.ToLower(r.fullName())]
}

// ErrNotFound is returned by inspection and action methods when a
// repository, issue, pull request, comment or check does not exist.
var ErrNotFound = &apiError{status: http.StatusNotFound, message: "Not Found"}

// ErrNotMergeable is returned by MergePullRequest when the pull request is
// closed or conflicts with its base.
var ErrNotMergeable = &apiError{status: http.StatusMethodNotAllowed, message: "Pull Request is not mergeable"}
