package githubtest

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"
)

// CallStats counts REST calls.
type CallStats struct {
	// ByRoute counts calls per "METHOD /route/template", e.g.
	// "POST /repos/{owner}/{repo}/issues/{issue_number}/comments".
	ByRoute map[string]int
	// Total is the sum of ByRoute.
	Total int
	// NotModified counts conditional requests answered 304.
	NotModified int
	// Faulted counts calls answered with an injected fault.
	Faulted int
	// RateLimitUsed counts calls charged to a primary rate limit.
	RateLimitUsed int
}

func newCallStats() CallStats { return CallStats{ByRoute: map[string]int{}} }

func (c *CallStats) add(key string) {
	c.ByRoute[key]++
	c.Total++
}

// Calls returns a copy of the REST call counts.
func (s *Server) Calls() CallStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls
	out.ByRoute = maps.Clone(s.calls.ByRoute)
	return out
}

// ResetCalls sets every call count to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = newCallStats()
}

// Reaction is one reaction on an issue or comment.
type Reaction struct {
	User    string
	Content string
}

// Comment is a snapshot of an issue comment.
type Comment struct {
	ID        int64
	User      string
	Body      string
	Reactions []Reaction
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Issue is a snapshot of an issue or of the issue side of a pull request.
type Issue struct {
	Number        int
	Title         string
	Body          string
	User          string
	State         string
	StateReason   string
	Labels        []string
	IsPullRequest bool
	Comments      []Comment
	Reactions     []Reaction
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      time.Time
}

// PullRequest is a snapshot of a pull request.
type PullRequest struct {
	Number         int
	Title          string
	Body           string
	User           string
	State          string
	Head           string
	HeadSHA        string
	Base           string
	BaseSHA        string
	Draft          bool
	Merged         bool
	MergedBy       string
	MergeCommitSHA string
	Labels         []string
}

// Annotation is a check run annotation.
type Annotation struct {
	Path        string
	StartLine   int
	EndLine     int
	StartColumn int
	EndColumn   int
	Level       string
	Title       string
	Message     string
	RawDetails  string
}

// CheckRun is a snapshot of a check run with its output.
type CheckRun struct {
	ID          int64
	AppID       int64 // the App that created the run
	SuiteID     int64
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// CheckSuite is a snapshot of a check suite.
type CheckSuite struct {
	ID         int64
	HeadSHA    string
	HeadBranch string
	Status     string
	Conclusion string
	Rerequests int
}

// Status is a snapshot of a commit status.
type Status struct {
	ID          int64
	SHA         string
	State       string
	Context     string
	Description string
	TargetURL   string
	Creator     string
}

func reactionsOf(rs []*reaction) []Reaction {
	out := make([]Reaction, 0, len(rs))
	for _, r := range rs {
		out = append(out, Reaction{User: r.user.login, Content: r.content})
	}
	return out
}

func labelNamesOf(ls []*label) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.name)
	}
	return out
}

func snapshotIssue(r *repo, is *issue) Issue {
	out := Issue{
		Number: int(is.number), Title: is.title, Body: is.body, User: is.user.login,
		State: is.state, StateReason: is.stateReason, Labels: labelNamesOf(is.labels),
		IsPullRequest: is.pull != nil, Reactions: reactionsOf(is.reactions),
		CreatedAt: is.created, UpdatedAt: is.updated, ClosedAt: is.closed, Comments: []Comment{},
	}
	for _, id := range r.commentOrder {
		cm, found := r.comments[id]
		if !found || cm.issue != is {
			continue
		}
		out.Comments = append(out.Comments, Comment{
			ID: cm.id, User: cm.user.login, Body: cm.body, Reactions: reactionsOf(cm.reactions),
			CreatedAt: cm.created, UpdatedAt: cm.updated,
		})
	}
	return out
}

// Issues returns every issue and pull request of a repository with its
// comments and reactions, by number.
func (s *Server) Issues(fullName string) ([]Issue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	out := make([]Issue, 0, len(r.issues))
	for _, is := range r.issues {
		out = append(out, snapshotIssue(r, is))
	}
	return out, nil
}

// Issue returns one issue (or pull request) with comments and reactions.
func (s *Server) Issue(fullName string, number int) (Issue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return Issue{}, err
	}
	is, err := findIssue(r, number)
	if err != nil {
		return Issue{}, err
	}
	return snapshotIssue(r, is), nil
}

func snapshotPull(is *issue) PullRequest {
	p := is.pull
	out := PullRequest{
		Number: int(is.number), Title: is.title, Body: is.body, User: is.user.login, State: is.state,
		Head: p.head, HeadSHA: p.headSHA, Base: p.base, BaseSHA: p.baseSHA, Draft: p.draft,
		Merged: p.merged, MergeCommitSHA: p.mergeSHA, Labels: labelNamesOf(is.labels),
	}
	if p.mergedBy != nil {
		out.MergedBy = p.mergedBy.login
	}
	return out
}

// PullRequests returns every pull request of a repository, by number.
func (s *Server) PullRequests(fullName string) ([]PullRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	out := []PullRequest{}
	for _, is := range r.issues {
		if is.pull != nil {
			out = append(out, snapshotPull(is))
		}
	}
	return out, nil
}

// PullRequest returns one pull request.
func (s *Server) PullRequest(fullName string, number int) (PullRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return PullRequest{}, err
	}
	is, err := findIssue(r, number)
	if err != nil {
		return PullRequest{}, err
	}
	if is.pull == nil {
		return PullRequest{}, fmt.Errorf("#%d is an issue: %w", number, ErrNotFound)
	}
	return snapshotPull(is), nil
}

// Branches maps each branch of a repository to its tip commit.
func (s *Server) Branches(ctx context.Context, fullName string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	refs, err := r.git.refs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, sha := range refs {
		if b, isBranch := strings.CutPrefix(name, "refs/heads/"); isBranch {
			out[b] = sha
		}
	}
	return out, nil
}

// Files returns every file at a ref (branch, tag or commit) by path.
func (s *Server) Files(ctx context.Context, fullName, ref string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	_, sha, err := s.contentRef(ctx, r, ref)
	if err != nil {
		return nil, fmt.Errorf("read files of %s at %s: %w", fullName, ref, err)
	}
	entries, err := r.git.lsTree(ctx, sha, true, "")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.kind != "blob" {
			continue
		}
		data, err := r.git.catBlob(ctx, e.sha)
		if err != nil {
			return nil, err
		}
		out[e.path] = string(data)
	}
	return out, nil
}

// CheckRuns returns every check run of a repository in creation order.
func (s *Server) CheckRuns(fullName string) ([]CheckRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	out := []CheckRun{}
	for _, cr := range r.checkRuns {
		run := CheckRun{
			ID: cr.id, AppID: s.appIDOf(cr.app), SuiteID: cr.suite.id, Name: cr.name, HeadSHA: cr.headSHA, Status: cr.status,
			Conclusion: cr.conclusion, ExternalID: cr.externalID, DetailsURL: cr.detailsURL,
			Title: cr.title, Summary: cr.summary, Text: cr.text, Annotations: []Annotation{},
		}
		for _, a := range cr.annotations {
			an := Annotation{Path: a.Path, StartLine: a.StartLine, EndLine: a.EndLine, Level: a.Level,
				Title: a.Title, Message: a.Message, RawDetails: a.RawDetails}
			if a.StartColumn != nil {
				an.StartColumn = *a.StartColumn
			}
			if a.EndColumn != nil {
				an.EndColumn = *a.EndColumn
			}
			run.Annotations = append(run.Annotations, an)
		}
		out = append(out, run)
	}
	return out, nil
}

// CheckSuites returns every check suite of a repository in creation order.
func (s *Server) CheckSuites(fullName string) ([]CheckSuite, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	out := []CheckSuite{}
	for _, cs := range r.checkSuites {
		out = append(out, CheckSuite{ID: cs.id, HeadSHA: cs.headSHA, HeadBranch: cs.headBranch,
			Status: cs.status, Conclusion: cs.conclusion, Rerequests: cs.rerequests})
	}
	return out, nil
}

// Statuses returns every commit status of a repository in creation order.
func (s *Server) Statuses(fullName string) ([]Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	out := []Status{}
	for _, st := range r.statuses {
		out = append(out, Status{ID: st.id, SHA: st.sha, State: st.state, Context: st.context,
			Description: st.description, TargetURL: st.targetURL, Creator: st.creator.login})
	}
	return out, nil
}
