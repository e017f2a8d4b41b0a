package bot

import (
	"context"
	"time"

	"github.com/gitvend/gitvend/internal/github"
)

// GitHub is what the bot asks of GitHub for one installation: reads, and
// the idempotent Ensure operations its executor makes GitHub match a plan
// with.
type GitHub interface {
	Permission(ctx context.Context, owner, repo, user string) (string, error)
	IsTeamMember(ctx context.Context, org, teamSlug, user string) (bool, error)
	DefaultBranch(ctx context.Context, owner, repo string) (string, error)

	GetIssue(ctx context.Context, owner, repo string, number int) (github.Issue, error)
	ListOpenIssues(ctx context.Context, owner, repo string, labels ...string) ([]github.Issue, error)
	ListIssuesSince(ctx context.Context, owner, repo string, since time.Time, labels ...string) ([]github.Issue, error)
	AddLabels(ctx context.Context, owner, repo string, number int, labels ...string) error
	EnsureLabels(ctx context.Context, owner, repo string, labels ...github.Label) (github.Ensured, error)
	ListComments(ctx context.Context, owner, repo string, number int) ([]github.Comment, error)
	EnsureComment(ctx context.Context, owner, repo string, t *github.Thread, marker, body string) (int64, error)
	ReactToIssue(ctx context.Context, owner, repo string, number int, content string) error
	ReactToComment(ctx context.Context, owner, repo string, commentID int64, content string) error
	CloseIssue(ctx context.Context, owner, repo string, number int, comment string) error

	ListPRsByHead(ctx context.Context, owner, repo, branch string) ([]github.PullRequest, error)
	GetPR(ctx context.Context, owner, repo string, number int) (github.PullRequest, error)
	ListOpenPRs(ctx context.Context, owner, repo string) ([]github.PullRequest, error)
	ListReviews(ctx context.Context, owner, repo string, number int) ([]github.Review, error)
	EnsurePR(ctx context.Context, owner, repo string, spec github.NewPR, open *github.PullRequest) (github.PullRequest, github.Ensured, error)
	// MergePR merges a pull request whose head is still sha (an expiry's
	// removal, where its environment says so).
	MergePR(ctx context.Context, owner, repo string, number int, sha string) (string, error)

	ListCheckRuns(ctx context.Context, owner, repo, ref string) ([]github.CheckRun, error)
	EnsureCheckRuns(ctx context.Context, owner, repo string, runs []github.CheckRunSpec, existing []github.CheckRun) (github.Ensured, error)
	// CreateCheckRun starts a run in progress, UpdateCheckRun completes it.
	CreateCheckRun(ctx context.Context, owner, repo string, spec github.CheckRunSpec) (github.CheckRun, error)
	UpdateCheckRun(ctx context.Context, owner, repo string, id int64, spec github.CheckRunSpec) (github.CheckRun, error)
	ListAnnotations(ctx context.Context, owner, repo string, id int64) ([]github.Annotation, error)
	// Status and SetStatus read and set gitvend's commit statuses, such
	// as the confirmation of a prune past a target's threshold.
	Status(ctx context.Context, owner, repo, sha, statusContext string) (github.Status, error)
	SetStatus(ctx context.Context, owner, repo, sha, statusContext, state, description, targetURL string) error
	// BranchProtection reads the desired-state branch's protection rule,
	// for the status page (see protection.go).
	BranchProtection(ctx context.Context, owner, repo, branch string) (github.Protection, error)
}
