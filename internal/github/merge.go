package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/retry"
)

// ErrNotMergeable is matched (errors.Is) by MergePR's error when GitHub
// answers 405: the pull request is closed, a draft, conflicts, or its
// branch protection is not met. It is terminal.
var ErrNotMergeable = retry.Terminal(errors.New("pull request is not mergeable"))

// MergePR merges pull request number with a merge commit, provided its
// head is still sha (GitHub answers 409 when it moved), and returns the
// merge commit. A pull request already merged at sha counts as merged by
// this call, so that a retried merge whose first answer was lost succeeds.
func (c *Client) MergePR(ctx context.Context, owner, repo string, number int, sha string) (string, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return "", err
	}
	if sha == "" {
		return "", fmt.Errorf("merge %s/%s#%d: the head sha to merge is required", owner, repo, number)
	}
	res, _, err := c.gh.PullRequests.Merge(ctx, owner, repo, number, "", &gh.PullRequestOptions{SHA: sha, MergeMethod: "merge"})
	if err == nil {
		return res.GetSHA(), nil
	}
	err = convertError(err)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusMethodNotAllowed {
		if pr, gerr := c.GetPR(ctx, owner, repo, number); gerr == nil && pr.Merged && pr.HeadSHA == sha {
			return pr.MergeCommitSHA, nil
		}
		return "", fmt.Errorf("merge %s/%s#%d: %w: %w", owner, repo, number, ErrNotMergeable, err)
	}
	return "", fmt.Errorf("merge %s/%s#%d: %w", owner, repo, number, err)
}
