package github

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Issue is an issue, or the issue side of a pull request.
type Issue struct {
	Number int
	Title  string
	Body   string
	User   string
	// AuthorAssociation is GitHub's relation of User to the repository
	// (see Comment.AuthorAssociation).
	AuthorAssociation string
	State             string // open or closed
	StateReason       string
	Labels            []string
	IsPullRequest     bool
	HTMLURL           string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ClosedAt          time.Time
}

func toIssue(is *gh.Issue) Issue {
	out := Issue{
		Number: is.GetNumber(), Title: is.GetTitle(), Body: is.GetBody(), User: is.GetUser().GetLogin(),
		AuthorAssociation: is.GetAuthorAssociation(),
		State:             is.GetState(), StateReason: is.GetStateReason(), IsPullRequest: is.IsPullRequest(),
		HTMLURL: is.GetHTMLURL(), CreatedAt: is.GetCreatedAt().Time, UpdatedAt: is.GetUpdatedAt().Time,
		ClosedAt: is.GetClosedAt().Time,
	}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// NewIssue is an issue to open.
type NewIssue struct {
	Title  string
	Body   string
	Labels []string
}

// IssueEdit changes an issue; nil fields stay as they are.
type IssueEdit struct {
	Title *string
	Body  *string
	// State is open or closed.
	State *string
	// StateReason is completed or not_planned when closing.
	StateReason *string
}

// GetIssue returns one issue (or pull request, as an issue).
func (c *Client) GetIssue(ctx context.Context, owner, repo string, number int) (Issue, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return Issue{}, err
	}
	is, _, err := c.gh.Issues.Get(ctx, owner, repo, number)
	if err != nil {
		return Issue{}, fmt.Errorf("get issue %s/%s#%d: %w", owner, repo, number, convertError(err))
	}
	return toIssue(is), nil
}

// ListOpenIssues returns the open issues that carry every given label,
// pull requests left out, newest first.
func (c *Client) ListOpenIssues(ctx context.Context, owner, repo string, labels ...string) ([]Issue, error) {
	if err := checkArgs(owner, repo); err != nil {
		return nil, err
	}
	list, err := c.listIssues(ctx, owner, repo, &gh.IssueListByRepoOptions{State: "open", Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("list open issues of %s/%s: %w", owner, repo, err)
	}
	return list, nil
}

// ListIssuesSince returns the issues, open or closed, that carry every
// given label and were updated at or after since, pull requests left out,
// newest first.
func (c *Client) ListIssuesSince(ctx context.Context, owner, repo string, since time.Time, labels ...string) ([]Issue, error) {
	if err := checkArgs(owner, repo); err != nil {
		return nil, err
	}
	list, err := c.listIssues(ctx, owner, repo, &gh.IssueListByRepoOptions{State: "all", Since: since, Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("list issues of %s/%s updated since %s: %w", owner, repo, since.Format(time.RFC3339), err)
	}
	return list, nil
}

func (c *Client) listIssues(ctx context.Context, owner, repo string, opts *gh.IssueListByRepoOptions) ([]Issue, error) {
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.Issue, *gh.Response, error) {
		opts.ListOptions = lo
		return c.gh.Issues.ListByRepo(ctx, owner, repo, opts)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Issue, 0, len(list))
	for _, is := range list {
		if !is.IsPullRequest() {
			out = append(out, toIssue(is))
		}
	}
	return out, nil
}

// CreateIssue opens an issue. After an ambiguous failure it looks for an
// issue the App opened meanwhile with the same title and body before
// opening another.
func (c *Client) CreateIssue(ctx context.Context, owner, repo string, spec NewIssue) (Issue, error) {
	if err := checkArgs(owner, repo, checkChars("title", spec.Title, MaxTitle), checkChars("body", spec.Body, MaxBody)); err != nil {
		return Issue{}, err
	}
	if strings.TrimSpace(spec.Title) == "" {
		return Issue{}, fmt.Errorf("title: empty; an issue needs a title")
	}
	req := &gh.IssueRequest{Title: &spec.Title, Body: &spec.Body}
	if len(spec.Labels) > 0 {
		req.Labels = &spec.Labels
	}
	start := c.app.sh.clock.Now().Add(-time.Minute)
	var out Issue
	err := c.writeOnce(ctx, "create issue",
		func(ctx context.Context) error {
			is, _, err := c.gh.Issues.Create(ctx, owner, repo, req)
			if err == nil {
				out = toIssue(is)
			}
			return convertError(err)
		},
		func(ctx context.Context) (bool, error) {
			bot, err := c.botLogin(ctx)
			if err != nil {
				return false, err
			}
			list, err := c.listIssues(ctx, owner, repo, &gh.IssueListByRepoOptions{State: "all", Creator: bot, Since: start})
			if err != nil {
				return false, err
			}
			i := slices.IndexFunc(list, func(is Issue) bool { return is.Title == spec.Title && is.Body == spec.Body })
			if i >= 0 {
				out = list[i]
			}
			return i >= 0, nil
		})
	if err != nil {
		return Issue{}, fmt.Errorf("create issue in %s/%s: %w", owner, repo, err)
	}
	return out, nil
}

// EditIssue changes an issue's title, body or state.
func (c *Client) EditIssue(ctx context.Context, owner, repo string, number int, edit IssueEdit) (Issue, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number), checkState(edit.State, edit.StateReason),
		checkOptChars("title", edit.Title, MaxTitle), checkOptChars("body", edit.Body, MaxBody)); err != nil {
		return Issue{}, err
	}
	req := &gh.IssueRequest{Title: edit.Title, Body: edit.Body, State: edit.State, StateReason: edit.StateReason}
	is, _, err := c.gh.Issues.Edit(ctx, owner, repo, number, req)
	if err != nil {
		return Issue{}, fmt.Errorf("edit issue %s/%s#%d: %w", owner, repo, number, convertError(err))
	}
	return toIssue(is), nil
}

func checkState(state, reason *string) error {
	if state != nil && *state != "open" && *state != "closed" {
		return fmt.Errorf("state %q: want open or closed", *state)
	}
	if reason != nil && *reason != "completed" && *reason != "not_planned" && *reason != "reopened" {
		return fmt.Errorf("state reason %q: want completed, not_planned or reopened", *reason)
	}
	return nil
}

// CloseIssue closes an issue as completed, first posting comment when it
// is not empty. An issue already closed is left alone. Running it again
// after a failure between the two steps does not post the comment twice:
// the comment is skipped when the App's latest comment already says it.
func (c *Client) CloseIssue(ctx context.Context, owner, repo string, number int, comment string) error {
	is, err := c.GetIssue(ctx, owner, repo, number)
	if err != nil {
		return fmt.Errorf("close issue: %w", err)
	}
	if is.State == "closed" {
		return nil
	}
	if strings.TrimSpace(comment) != "" {
		if err := c.commentUnlessLast(ctx, owner, repo, number, comment); err != nil {
			return fmt.Errorf("close issue %s/%s#%d: %w", owner, repo, number, err)
		}
	}
	closed, completed := "closed", "completed"
	if _, err := c.EditIssue(ctx, owner, repo, number, IssueEdit{State: &closed, StateReason: &completed}); err != nil {
		return fmt.Errorf("close issue: %w", err)
	}
	return nil
}

// commentUnlessLast posts body unless it is already the issue's last comment
// and the App wrote it.
func (c *Client) commentUnlessLast(ctx context.Context, owner, repo string, number int, body string) error {
	all, err := c.ListComments(ctx, owner, repo, number)
	if err != nil {
		return err
	}
	if len(all) > 0 {
		last := all[len(all)-1]
		bot, err := c.botLogin(ctx)
		if err != nil {
			return err
		}
		if strings.EqualFold(last.User, bot) && last.Body == body {
			return nil
		}
	}
	_, err = c.CreateComment(ctx, owner, repo, number, body)
	return err
}

// FindIssueByTitle returns the issue with exactly this title that carries
// every given label, open or closed, pull requests left out: the open one
// if there is one, else the most recently updated. ErrNotFound when none.
func (c *Client) FindIssueByTitle(ctx context.Context, owner, repo, title string, labels ...string) (Issue, error) {
	if err := checkArgs(owner, repo); err != nil {
		return Issue{}, err
	}
	list, err := c.listIssues(ctx, owner, repo, &gh.IssueListByRepoOptions{State: "all", Labels: labels, Sort: "updated", Direction: "desc"})
	if err != nil {
		return Issue{}, fmt.Errorf("find issue %q in %s/%s: %w", title, owner, repo, err)
	}
	var best *Issue
	for i := range list {
		is := &list[i]
		if is.Title != title {
			continue
		}
		if is.State == "open" {
			return *is, nil
		}
		if best == nil {
			best = is
		}
	}
	if best == nil {
		return Issue{}, fmt.Errorf("find issue %q in %s/%s: %w", title, owner, repo, ErrNotFound)
	}
	return *best, nil
}

// AddLabels adds labels to an issue or pull request; labels it already has
// are kept once, and missing labels are created by GitHub.
func (c *Client) AddLabels(ctx context.Context, owner, repo string, number int, labels ...string) error {
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return err
	}
	if len(labels) == 0 {
		return nil
	}
	if _, _, err := c.gh.Issues.AddLabelsToIssue(ctx, owner, repo, number, labels); err != nil {
		return fmt.Errorf("add labels to %s/%s#%d: %w", owner, repo, number, convertError(err))
	}
	return nil
}
