package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/retry"
)

// PullRequest is a pull request.
type PullRequest struct {
	Number         int
	Title          string
	Body           string
	User           string
	State          string // open or closed
	Draft          bool
	Merged         bool
	MergedAt       time.Time // zero unless merged
	MergeCommitSHA string
	Head           string // branch name
	HeadSHA        string
	HeadRepo       string // owner/name of the head repository; "" when HeadGone
	// HeadFork tells that the head branch is in another repository than
	// the base (a fork), or was: its commits are reachable from the base
	// repository only as refs/pull/<Number>/head.
	HeadFork bool
	// HeadGone tells that the head's repository was deleted (GitHub
	// answers head.repo null); HeadFork is then true.
	HeadGone bool
	Base     string
	BaseSHA  string
	Labels   []string
	HTMLURL  string
}

func toPR(p *gh.PullRequest) PullRequest {
	out := PullRequest{
		Number: p.GetNumber(), Title: p.GetTitle(), Body: p.GetBody(), User: p.GetUser().GetLogin(),
		State: p.GetState(), Draft: p.GetDraft(), Merged: p.GetMerged(), MergeCommitSHA: p.GetMergeCommitSHA(),
		Head: p.GetHead().GetRef(), HeadSHA: p.GetHead().GetSHA(), HeadRepo: p.GetHead().GetRepo().GetFullName(),
		Base: p.GetBase().GetRef(), BaseSHA: p.GetBase().GetSHA(), HTMLURL: p.GetHTMLURL(),
		MergedAt: p.GetMergedAt().Time,
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	out.HeadFork, out.HeadGone = headElsewhere(p)
	return out
}

// headElsewhere tells whether a pull request's head is in another
// repository than its base, and whether that repository is gone. The
// repositories are compared by id, which no rename or spelling changes.
func headElsewhere(p *gh.PullRequest) (fork, gone bool) {
	if p.GetHead() == nil || p.GetBase().GetRepo() == nil {
		return false, false // too little said to tell (a listing's short form)
	}
	hr := p.GetHead().GetRepo()
	if hr == nil {
		return true, true
	}
	return hr.GetID() != p.GetBase().GetRepo().GetID(), false
}

// NewPR is a pull request to open from a branch of the same repository.
type NewPR struct {
	Title string
	Body  string
	Head  string // branch
	Base  string // branch
	Draft bool
}

// PREdit changes a pull request; nil fields stay as they are.
type PREdit struct {
	Title *string
	Body  *string
	// State, when set, opens or closes the pull request.
	State *string
}

// PRFile is one file a pull request changes.
type PRFile struct {
	Filename         string
	PreviousFilename string
	Status           string // added, removed, modified, renamed, copied, changed, unchanged
	Additions        int
	Deletions        int
	SHA              string
}

func checkBranch(field, branch string) error {
	if branch == "" || strings.HasPrefix(branch, "refs/") || strings.ContainsAny(branch, " :~^?*[\\") {
		return fmt.Errorf("%s %q: want a branch name such as main or gitvend/request-12", field, branch)
	}
	return nil
}

// FindPRByHead returns the open pull request whose head is branch of the
// same repository; ErrNotFound when there is none.
func (c *Client) FindPRByHead(ctx context.Context, owner, repo, branch string) (PullRequest, error) {
	if err := checkArgs(owner, repo, checkBranch("branch", branch)); err != nil {
		return PullRequest{}, err
	}
	list, err := c.listPRs(ctx, owner, repo, &gh.PullRequestListOptions{State: "open", Head: owner + ":" + branch})
	if err != nil {
		return PullRequest{}, fmt.Errorf("find pull request from %s in %s/%s: %w", branch, owner, repo, err)
	}
	for _, p := range list {
		if p.Head == branch {
			return p, nil
		}
	}
	return PullRequest{}, fmt.Errorf("find pull request from %s in %s/%s: %w", branch, owner, repo, ErrNotFound)
}

// ListPRsByHead returns every pull request, open or closed, whose head is
// branch of the same repository, newest first.
func (c *Client) ListPRsByHead(ctx context.Context, owner, repo, branch string) ([]PullRequest, error) {
	if err := checkArgs(owner, repo, checkBranch("branch", branch)); err != nil {
		return nil, err
	}
	list, err := c.listPRs(ctx, owner, repo, &gh.PullRequestListOptions{State: "all", Head: owner + ":" + branch})
	if err != nil {
		return nil, fmt.Errorf("list pull requests from %s in %s/%s: %w", branch, owner, repo, err)
	}
	out := list[:0]
	for _, p := range list {
		if p.Head == branch {
			out = append(out, p)
		}
	}
	return out, nil
}

// ListOpenPRs returns the open pull requests, newest first.
func (c *Client) ListOpenPRs(ctx context.Context, owner, repo string) ([]PullRequest, error) {
	if err := checkArgs(owner, repo); err != nil {
		return nil, err
	}
	list, err := c.listPRs(ctx, owner, repo, &gh.PullRequestListOptions{State: "open"})
	if err != nil {
		return nil, fmt.Errorf("list open pull requests of %s/%s: %w", owner, repo, err)
	}
	return list, nil
}

func (c *Client) listPRs(ctx context.Context, owner, repo string, opts *gh.PullRequestListOptions) ([]PullRequest, error) {
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.PullRequest, *gh.Response, error) {
		opts.ListOptions = lo
		return c.gh.PullRequests.List(ctx, owner, repo, opts)
	})
	if err != nil {
		return nil, err
	}
	out := make([]PullRequest, 0, len(list))
	for _, p := range list {
		out = append(out, toPR(p))
	}
	return out, nil
}

// GetPR returns one pull request.
func (c *Client) GetPR(ctx context.Context, owner, repo string, number int) (PullRequest, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return PullRequest{}, err
	}
	p, _, err := c.gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return PullRequest{}, fmt.Errorf("get pull request %s/%s#%d: %w", owner, repo, number, convertError(err))
	}
	return toPR(p), nil
}

// CreatePR opens a pull request. When one from the same head is already
// open (GitHub answers 422), or after an ambiguous failure, it returns the
// open pull request of that head instead of opening a second.
func (c *Client) CreatePR(ctx context.Context, owner, repo string, spec NewPR) (PullRequest, error) {
	if err := checkArgs(owner, repo, checkBranch("head", spec.Head), checkBranch("base", spec.Base),
		checkChars("title", spec.Title, MaxTitle), checkChars("body", spec.Body, MaxBody)); err != nil {
		return PullRequest{}, err
	}
	if strings.TrimSpace(spec.Title) == "" {
		return PullRequest{}, errors.New("title: empty; a pull request needs a title")
	}
	req := &gh.NewPullRequest{Title: &spec.Title, Body: &spec.Body, Head: &spec.Head, Base: &spec.Base, Draft: &spec.Draft}
	var out PullRequest
	find := func(ctx context.Context) (bool, error) {
		p, err := c.FindPRByHead(ctx, owner, repo, spec.Head)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		out = p
		return err == nil, err
	}
	err := c.writeOnce(ctx, "create pull request",
		func(ctx context.Context) error {
			p, _, err := c.gh.PullRequests.Create(ctx, owner, repo, req)
			err = convertError(err)
			if err == nil {
				out = toPR(p)
				return nil
			}
			if hasStatus(err, http.StatusUnprocessableEntity, "already exists") {
				if found, ferr := find(ctx); found || ferr != nil {
					return ferr
				}
			}
			return err
		}, find)
	if hasStatus(err, http.StatusUnprocessableEntity, "No commits between") {
		err = fmt.Errorf("%w: %w", ErrNoCommits, err)
	}
	if err != nil {
		return PullRequest{}, fmt.Errorf("create pull request from %s in %s/%s: %w", spec.Head, owner, repo, err)
	}
	return out, nil
}

// ErrNoCommits is matched (errors.Is) by CreatePR's error when GitHub
// refuses the pull request because its base branch holds every commit of
// its head already (merged, say). It is terminal.
var ErrNoCommits = retry.Terminal(errors.New("the base branch holds every commit of the head"))

// EditPR changes a pull request's title or body.
func (c *Client) EditPR(ctx context.Context, owner, repo string, number int, edit PREdit) (PullRequest, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number), checkState(edit.State, nil),
		checkOptChars("title", edit.Title, MaxTitle), checkOptChars("body", edit.Body, MaxBody)); err != nil {
		return PullRequest{}, err
	}
	p, _, err := c.gh.PullRequests.Edit(ctx, owner, repo, number, &gh.PullRequest{Title: edit.Title, Body: edit.Body, State: edit.State})
	if err != nil {
		return PullRequest{}, fmt.Errorf("edit pull request %s/%s#%d: %w", owner, repo, number, convertError(err))
	}
	return toPR(p), nil
}

// ClosePR closes an open pull request without merging it; one closed
// already is left alone.
func (c *Client) ClosePR(ctx context.Context, owner, repo string, number int) error {
	pr, err := c.GetPR(ctx, owner, repo, number)
	if err != nil {
		return fmt.Errorf("close pull request: %w", err)
	}
	if pr.State != "open" {
		return nil
	}
	closed := "closed"
	if _, err := c.EditPR(ctx, owner, repo, number, PREdit{State: &closed}); err != nil {
		return fmt.Errorf("close pull request: %w", err)
	}
	return nil
}

// ListPRFiles returns the files a pull request changes.
func (c *Client) ListPRFiles(ctx context.Context, owner, repo string, number int) ([]PRFile, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return nil, err
	}
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.CommitFile, *gh.Response, error) {
		return c.gh.PullRequests.ListFiles(ctx, owner, repo, number, &lo)
	})
	if err != nil {
		return nil, fmt.Errorf("list files of %s/%s#%d: %w", owner, repo, number, err)
	}
	out := make([]PRFile, 0, len(list))
	for _, f := range list {
		out = append(out, PRFile{
			Filename: f.GetFilename(), PreviousFilename: f.GetPreviousFilename(), Status: f.GetStatus(),
			Additions: f.GetAdditions(), Deletions: f.GetDeletions(), SHA: f.GetSHA(),
		})
	}
	return out, nil
}
