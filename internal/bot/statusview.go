package bot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
)

// RepoView is what the status page shows of one repository the bot
// serves: the catalog and the requests of the default branch head the bot
// last checked out (it fetches nothing for the page), and the open request
// issues and pull requests with their check runs, read from GitHub.
type RepoView struct {
	Repo   string
	Branch string
	// Revision is the head whose catalog and records follow; "" when no
	// job has checked the repository out since this process started.
	Revision   string
	Blueprints []*blueprint.Blueprint
	Records    []desired.Record
	// Label marks request issues.
	Label string
	// Issues are the open request issues; PRs the open pull requests of
	// requests, by issue number, with the check runs of their heads.
	Issues []github.Issue
	PRs    map[int]github.PullRequest
	Checks map[int][]github.CheckRun
	// ChecksUnread counts the pull requests past StatusCheckReads whose
	// check runs were not read.
	ChecksUnread int
}

// StatusCheckReads bounds the pull requests whose check runs one reading
// of a repository's view reads (the newest first): each is a call to
// GitHub, and a page that reloads itself must not spend the rate limit.
const StatusCheckReads = 50

// RepoView reads the view of repository full.
func (b *Bot) RepoView(ctx context.Context, full string) (RepoView, error) {
	v := RepoView{Repo: full, Label: "gitvend", PRs: map[int]github.PullRequest{}, Checks: map[int][]github.CheckRun{}}
	owner, name, err := splitRepo(full)
	if err != nil {
		return v, err
	}
	if t := b.lastBase(full); t != nil {
		defer b.release(t)
		v.Revision, v.Blueprints = t.sha, t.cat.List()
		if t.cfg.Intake.Label != "" {
			v.Label = t.cfg.Intake.Label
		}
		if v.Records, err = desired.Requests(t.dir); err != nil {
			return v, err
		}
	}
	gh, err := b.opts.Clients.ForRepo(ctx, owner, name)
	if err != nil {
		return v, fmt.Errorf("client for %s: %w", full, err)
	}
	if v.Branch, err = b.branches.Resolve(ctx, gh, full); err != nil {
		return v, err
	}
	if v.Issues, err = gh.ListOpenIssues(ctx, owner, name, v.Label); err != nil {
		return v, fmt.Errorf("request issues of %s: %w", full, err)
	}
	prs, err := gh.ListOpenPRs(ctx, owner, name)
	if err != nil {
		return v, fmt.Errorf("pull requests of %s: %w", full, err)
	}
	slices.SortFunc(prs, func(a, c github.PullRequest) int { return c.Number - a.Number })
	for _, pr := range prs {
		n, err := strconv.Atoi(strings.TrimPrefix(pr.Head, BranchPrefix))
		if _, seen := v.PRs[n]; seen || err != nil || !strings.HasPrefix(pr.Head, BranchPrefix) || pr.HeadFork {
			continue // the newest of a branch; never a fork's branch named like a request's
		}
		v.PRs[n] = pr
		if len(v.Checks) >= StatusCheckReads {
			v.ChecksUnread++
			continue
		}
		runs, err := gh.ListCheckRuns(ctx, owner, name, pr.HeadSHA)
		if err != nil {
			return v, fmt.Errorf("check runs of %s #%d: %w", full, pr.Number, err)
		}
		v.Checks[n] = runs
	}
	return v, nil
}

// lastBase is the newest base checkout of full, held for the caller
// (release it), or nil when there is none.
func (b *Bot) lastBase(full string) *baseTree {
	b.baseMu.Lock()
	defer b.baseMu.Unlock()
	t := b.bases[full]
	if t == nil || t.cfg == nil || t.cat == nil {
		return nil
	}
	t.users++
	return t
}
