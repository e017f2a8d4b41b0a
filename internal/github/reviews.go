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
	// State is APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED.
	State       string
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
			State: r.GetState(), HTMLURL: r.GetHTMLURL(), SubmittedAt: r.GetSubmittedAt().Time,
		})
	}
	return out, nil
}
