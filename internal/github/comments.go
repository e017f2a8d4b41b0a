package github

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Comment is an issue or pull request comment.
type Comment struct {
	ID   int64
	User string
	// AuthorAssociation is GitHub's relation of User to the repository:
	// OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, FIRST_TIMER,
	// FIRST_TIME_CONTRIBUTOR, MANNEQUIN or NONE.
	AuthorAssociation string
	Body              string
	HTMLURL           string
	CreatedAt         time.Time
	// UpdatedAt is when the body was last edited (CreatedAt when never).
	UpdatedAt time.Time
}

func toComment(c *gh.IssueComment) Comment {
	return Comment{
		ID: c.GetID(), User: c.GetUser().GetLogin(), AuthorAssociation: c.GetAuthorAssociation(), Body: c.GetBody(),
		HTMLURL: c.GetHTMLURL(), CreatedAt: c.GetCreatedAt().Time, UpdatedAt: c.GetUpdatedAt().Time,
	}
}

// maxCommentBody is GitHub's limit on a comment body, in characters.
const maxCommentBody = MaxBody

func checkBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return fmt.Errorf("body: empty; GitHub refuses empty comments")
	}
	return checkChars("body", body, maxCommentBody)
}

// ListComments returns every comment of an issue or pull request, oldest
// first.
func (c *Client) ListComments(ctx context.Context, owner, repo string, number int) ([]Comment, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return nil, err
	}
	return c.listComments(ctx, owner, repo, number, time.Time{})
}

func (c *Client) listComments(ctx context.Context, owner, repo string, number int, since time.Time) ([]Comment, error) {
	opts := &gh.IssueListCommentsOptions{}
	if !since.IsZero() {
		opts.Since = &since
	}
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.IssueComment, *gh.Response, error) {
		opts.ListOptions = lo
		return c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("list comments of %s/%s#%d: %w", owner, repo, number, err)
	}
	out := make([]Comment, 0, len(list))
	for _, cm := range list {
		out = append(out, toComment(cm))
	}
	return out, nil
}

// CreateComment posts a comment and returns its id. After an ambiguous
// failure it looks for the App's comment with the same body, posted
// meanwhile, before posting again.
func (c *Client) CreateComment(ctx context.Context, owner, repo string, number int, body string) (int64, error) {
	if err := checkArgs(owner, repo, checkNumber("number", number), checkBody(body)); err != nil {
		return 0, err
	}
	start := c.app.sh.clock.Now().Add(-time.Minute)
	var id int64
	err := c.writeOnce(ctx, "create comment",
		func(ctx context.Context) error {
			cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: &body})
			id = cm.GetID()
			return convertError(err)
		},
		func(ctx context.Context) (bool, error) {
			found, err := c.findOwnComment(ctx, owner, repo, number, start, func(cm Comment) bool { return cm.Body == body })
			id = found.ID
			return id != 0, err
		})
	if err != nil {
		return 0, fmt.Errorf("create comment on %s/%s#%d: %w", owner, repo, number, err)
	}
	return id, nil
}

// findOwnComment returns the App's oldest comment updated since since that
// satisfies match; a zero Comment when none does.
func (c *Client) findOwnComment(ctx context.Context, owner, repo string, number int, since time.Time, match func(Comment) bool) (Comment, error) {
	all, err := c.listComments(ctx, owner, repo, number, since)
	if err != nil {
		return Comment{}, err
	}
	own, err := c.own(ctx, all, match)
	if err != nil || len(own) == 0 {
		return Comment{}, err
	}
	return own[0], nil
}

// own returns the App's comments among list that satisfy match, oldest
// first. The App's login is asked only when some comment matches.
func (c *Client) own(ctx context.Context, list []Comment, match func(Comment) bool) ([]Comment, error) {
	var out []Comment
	for _, cm := range list {
		if match(cm) {
			out = append(out, cm)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	bot, err := c.botLogin(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(cm Comment) bool { return !strings.EqualFold(cm.User, bot) }), nil
}

// markerPattern is what a marker may contain.
var markerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$`)

// Marker returns the hidden HTML comment that identifies a sticky comment.
func Marker(marker string) string { return "<!-- gitvend:" + marker + " -->" }

// Thread is the comments of one issue or pull request as one job knows
// them: listed once (ListThread), or known to be none (a pull request the
// job just opened). EnsureComment finds its sticky comments in it instead
// of listing again, and records what it writes, so a job that keeps several
// sticky comments on one thread lists it at most once.
type Thread struct {
	// Number is the issue or pull request.
	Number int
	// Comments are its comments, oldest first.
	Comments []Comment
}

// ListThread lists the comments of issue or pull request number.
func (c *Client) ListThread(ctx context.Context, owner, repo string, number int) (*Thread, error) {
	cs, err := c.ListComments(ctx, owner, repo, number)
	if err != nil {
		return nil, err
	}
	return &Thread{Number: number, Comments: cs}, nil
}

// UpsertComment keeps one comment of the App on an issue or pull request
// per marker, and returns its id: it lists the thread and ensures the
// comment in it (see EnsureComment).
func (c *Client) UpsertComment(ctx context.Context, owner, repo string, number int, marker, body string) (int64, error) {
	if _, err := stickyBody(marker, body); err != nil {
		return 0, err
	}
	if err := checkArgs(owner, repo, checkNumber("number", number)); err != nil {
		return 0, err
	}
	t, err := c.ListThread(ctx, owner, repo, number)
	if err != nil {
		return 0, fmt.Errorf("upsert comment %s: %w", marker, err)
	}
	return c.EnsureComment(ctx, owner, repo, t, marker, body)
}

// stickyBody is body carrying Marker(marker), which is appended when body
// does not contain it already.
func stickyBody(marker, body string) (string, error) {
	if !markerPattern.MatchString(marker) {
		return "", fmt.Errorf("marker %q: want 1 to 100 characters of letters, digits and . _ : / -, starting with a letter or digit", marker)
	}
	if tag := Marker(marker); !strings.Contains(body, tag) {
		body = strings.TrimRight(body, "\n") + "\n\n" + tag
	}
	return body, nil
}

// EnsureComment is gitvend's one sticky comment: it makes thread t carry
// exactly one comment of the App with Marker(marker), whose body is body,
// and returns its id. It finds the App's comment with the marker among
// t.Comments and edits it when body changed, or else creates it; the
// marker is appended to body when body does not already contain it. Other
// users' comments are never touched, even if they contain the marker; if
// earlier failures left several App comments with the marker, the oldest
// is kept and the others are deleted. Running it again with the same input,
// after a crash or a failed call, never adds a second comment. t is updated
// with what was written.
func (c *Client) EnsureComment(ctx context.Context, owner, repo string, t *Thread, marker, body string) (int64, error) {
	body, err := stickyBody(marker, body)
	if err != nil {
		return 0, err
	}
	if err := checkArgs(owner, repo, checkNumber("number", t.Number), checkBody(body)); err != nil {
		return 0, err
	}
	tag := Marker(marker)
	number := t.Number
	hasTag := func(cm Comment) bool { return strings.Contains(cm.Body, tag) }
	own, err := c.own(ctx, t.Comments, hasTag)
	if err != nil {
		return 0, fmt.Errorf("ensure comment %s on %s/%s#%d: %w", marker, owner, repo, number, err)
	}
	if len(own) == 0 {
		var made Comment
		err := c.writeOnce(ctx, "create comment "+marker,
			func(ctx context.Context) error {
				cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: &body})
				if err == nil {
					made = toComment(cm)
				}
				return convertError(err)
			},
			func(ctx context.Context) (bool, error) {
				found, err := c.findOwnComment(ctx, owner, repo, number, time.Time{}, hasTag)
				made = found
				return found.ID != 0, err
			})
		if err != nil {
			return 0, fmt.Errorf("ensure comment %s on %s/%s#%d: %w", marker, owner, repo, number, err)
		}
		made.Body = body
		t.Comments = append(t.Comments, made)
		return made.ID, nil
	}
	keep := own[0]
	for _, extra := range own[1:] {
		if _, err := c.gh.Issues.DeleteComment(ctx, owner, repo, extra.ID); err != nil && !errors.Is(convertError(err), ErrNotFound) {
			return 0, fmt.Errorf("delete duplicate comment %d in %s/%s: %w", extra.ID, owner, repo, convertError(err))
		}
		c.log.Info("deleted duplicate sticky comment", "repo", owner+"/"+repo, "number", number, "comment", extra.ID)
		t.Comments = slices.DeleteFunc(t.Comments, func(cm Comment) bool { return cm.ID == extra.ID })
	}
	if keep.Body != body {
		if err := c.EditComment(ctx, owner, repo, keep.ID, body); err != nil {
			return 0, fmt.Errorf("ensure comment %s: %w", marker, err)
		}
		for i := range t.Comments {
			if t.Comments[i].ID == keep.ID {
				t.Comments[i].Body = body
			}
		}
	}
	return keep.ID, nil
}

// EditComment replaces a comment's body.
func (c *Client) EditComment(ctx context.Context, owner, repo string, commentID int64, body string) error {
	if err := checkArgs(owner, repo, checkID("comment id", commentID), checkBody(body)); err != nil {
		return err
	}
	if _, _, err := c.gh.Issues.EditComment(ctx, owner, repo, commentID, &gh.IssueComment{Body: &body}); err != nil {
		return fmt.Errorf("edit comment %d in %s/%s: %w", commentID, owner, repo, convertError(err))
	}
	return nil
}

// reactions GitHub accepts.
var reactions = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func checkReaction(content string) error {
	if !slices.Contains(reactions, content) {
		return fmt.Errorf("reaction %q: want one of %s", content, strings.Join(reactions, ", "))
	}
	return nil
}

// ReactToIssue adds the App's reaction (+1, -1, laugh, confused, heart,
// hooray, rocket, eyes) to an issue or pull request; reacting twice the
// same way is harmless.
func (c *Client) ReactToIssue(ctx context.Context, owner, repo string, number int, content string) error {
	if err := checkArgs(owner, repo, checkNumber("number", number), checkReaction(content)); err != nil {
		return err
	}
	if _, _, err := c.gh.Reactions.CreateIssueReaction(ctx, owner, repo, number, content); err != nil {
		return fmt.Errorf("react %s to %s/%s#%d: %w", content, owner, repo, number, convertError(err))
	}
	return nil
}

// ReactToComment adds the App's reaction to an issue or pull request comment.
func (c *Client) ReactToComment(ctx context.Context, owner, repo string, commentID int64, content string) error {
	if err := checkArgs(owner, repo, checkID("comment id", commentID), checkReaction(content)); err != nil {
		return err
	}
	if _, _, err := c.gh.Reactions.CreateIssueCommentReaction(ctx, owner, repo, commentID, content); err != nil {
		return fmt.Errorf("react %s to comment %d in %s/%s: %w", content, commentID, owner, repo, convertError(err))
	}
	return nil
}
