package bot

import (
	"context"
	"time"

	"github.com/gitvend/gitvend/internal/github"
)

// GitHub is what the bot asks of GitHub for one installation.
type GitHub interface {
	Permission(ctx context.Context, owner, repo, user string) (string, error)
	IsTeamMember(ctx context.Context, org, teamSlug, user string) (bool, error)
	DefaultBranch(ctx context.Context, owner, repo string) (string, error)

	GetIssue(ctx context.Context, owner, repo string, number int) (github.Issue, error)
	ListOpenIssues(ctx context.Context, owner, repo string, labels ...string) ([]github.Issue, error)
	ListIssuesSince(ctx context.Context, owner, repo string, since time.Time, labels ...string) ([]github.Issue, error)
	AddLabels(ctx context.Context, owner, repo string, number int, labels ...string) error
	ListComments(ctx context.Context, owner, repo string, number int) ([]github.Comment, error)
	UpsertComment(ctx context.Context, owner, repo string, number int, marker, body string) (int64, error)
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (int64, error)
	EditComment(ctx context.Context, owner, repo string, commentID int64, body string) error
	ReactToIssue(ctx context.Context, owner, repo string, number int, content string) error
	ReactToComment(ctx context.Context, owner, repo string, commentID int64, content string) error

	ListPRsByHead(ctx context.Context, owner, repo, branch string) ([]github.PullRequest, error)
	GetPR(ctx context.Context, owner, repo string, number int) (github.PullRequest, error)
	ListOpenPRs(ctx context.Context, owner, repo string) ([]github.PullRequest, error)
	CreatePR(ctx context.Context, owner, repo string, pr github.NewPR) (github.PullRequest, error)
	EditPR(ctx context.Context, owner, repo string, number int, edit github.PREdit) (github.PullRequest, error)

	ListCheckRuns(ctx context.Context, owner, repo, ref string) ([]github.CheckRun, error)
	CreateCheckRun(ctx context.Context, owner, repo string, run github.CheckRunSpec) (github.CheckRun, error)
}
