package github

import (
	"context"
	"fmt"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Review is a submitted pull request review: its body is read for commands
// as a comment's is.
type Review struct {
	ID   int64
	User string
	// AuthorAssociation is GitHub's relation of User to the repository.
	AuthorAssociation string
	Body              string
	// Bot is set when User is a bot account (GitHub's user type Bot).
	Bot bool
	// State is APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED (a
	// dismissed review keeps its place, under this state).
	State string
	// CommitID is the commit the review was submitted on: the pull
	// request's head when it was submitted.
	CommitID    string
	HTMLURL     string
	SubmittedAt time.Time
}

// ListReviews returns the submitted reviews of a pull request, oldest
// first; pending reviews, which only their author sees, are left out.
func (c *Client) ListReviews(ctx context.Context, owner, repo string, number int) ([]Review, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return nil, err
	}
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.PullRequestReview, *gh.Response, error) {
		return c.gh.PullRequests.ListReviews(ctx, owner, repo, number, &lo)
	})
	if err != nil {
		return nil, fmt.Errorf("list reviews of %s/%s#%d: %w", owner, repo, number, convertError(err))
	}
	out := make([]Review, 0, len(list))
	for _, r := range list {
		if r.GetState() == "PENDING" {
			continue
		}
		out = append(out, Review{
			ID: r.GetID(), User: r.GetUser().GetLogin(), AuthorAssociation: r.GetAuthorAssociation(), Body: r.GetBody(),
			Bot: r.GetUser().GetType() == "Bot", State: r.GetState(), CommitID: r.GetCommitID(), HTMLURL: r.GetHTMLURL(), SubmittedAt: r.GetSubmittedAt().Time,
		})
	}
	return out, nil
}

// CommitPulls returns the pull requests GitHub associates with commit sha:
// for a commit on the default branch, the merged pull request that
// introduced it; none for a commit pushed there directly.
func (c *Client) CommitPulls(ctx context.Context, owner, repo, sha string) ([]PullRequest, error) {
	if err := checkArgs(owner, repo); err != nil {
		return nil, err
	}
	if !isSHA(sha) {
		return nil, fmt.Errorf("pull requests of commit %q: not a commit sha", sha)
	}
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.PullRequest, *gh.Response, error) {
		return c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, &lo)
	})
	if err != nil {
		return nil, fmt.Errorf("pull requests of %s/%s@%.12s: %w", owner, repo, sha, convertError(err))
	}
	out := make([]PullRequest, 0, len(list))
	for _, p := range list {
		out = append(out, toPR(p))
	}
	return out, nil
}
