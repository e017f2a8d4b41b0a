package rollout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/approval"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// maxApprovalWalk bounds how many commits back from the head the rollout
// looks for the last one applied to a target. Past it, the head itself
// waits for a repository admin's /provision approve-merge.
const maxApprovalWalk = 100

// unapproved is a commit that changed an environment needing approvals
// without them.
type unapproved struct {
	sha string
	why string // "pushed directly, without a pull request", ...
}

// approvalGate tells whether the apply of sha to target t waits because
// an environment of t that needs approvals (config.Approvals) was changed
// by a commit without them since the last commit applied to t, and
// reports it: the target's status names the reason, each such commit
// gets gitvend's status approval.MergeStatus (failure), and each
// environment one issue listing them. A commit counts as approved when
// the pull request that brought it was merged while gitvend/approval on
// its head was success, or when an admin confirmed it on the issue
// (approval.MergeStatus success); a change is no longer waiting once a
// later commit returns the environment to its last approved state (the
// change reverted). Everything it reads is on GitHub and in Git, so a
// restart finds the same answer.
func (r *Rollout) approvalGate(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, branch, sha string, t *targetState) (bool, error) {
	j := &approvalJudge{r: r, gh: gh, clone: clone, owner: owner, name: name, branch: branch, t: t, dirs: map[string]string{}}
	defer j.cleanup()
	if ruled, err := j.ruled(ctx, sha); err != nil || !ruled {
		return false, err // no rule: nothing to judge, nothing to ask GitHub
	}
	pending, err := j.pending(ctx, sha)
	if err != nil {
		return false, err
	}
	repo := owner + "/" + name
	var envs []string
	for env := range pending {
		envs = append(envs, env)
	}
	slices.Sort(envs)
	for _, env := range t.Environments {
		if _, waiting := pending[env]; !waiting {
			if err := r.settleApprovalIssue(ctx, gh, owner, name, env); err != nil {
				return false, err
			}
		}
	}
	if len(envs) == 0 {
		return false, nil
	}
	var reasons []string
	for _, env := range envs {
		r.forget(repo + "/approval-issue/" + env) // settled again once nothing waits
		number, err := r.approvalIssue(ctx, gh, owner, name, branch, env, pending[env])
		if err != nil {
			return true, err
		}
		for _, u := range pending[env] {
			desc := textbudget.Line(fmt.Sprintf("changed %s without approvals (%s); an admin may confirm with /provision approve-merge on #%d",
				env, u.why, number), textbudget.Chars(github.MaxStatusDescription))
			key := repo + "@" + u.sha + "/" + approval.MergeStatus
			if r.once(key, desc) {
				st, err := gh.Status(ctx, owner, name, u.sha, approval.MergeStatus)
				if err == nil && st.State == "success" {
					continue
				}
				if err := gh.SetStatus(ctx, owner, name, u.sha, approval.MergeStatus, "failure", desc, ""); err != nil {
					r.forget(key)
					return true, fmt.Errorf("status of %.12s: %w", u.sha, err)
				}
			}
		}
		first := pending[env][0]
		reasons = append(reasons, fmt.Sprintf("%s changed by %.7s without approvals (%s), see #%d", env, first.sha, first.why, number))
	}
	desc := textbudget.Line("not applied: "+strings.Join(reasons, "; "), textbudget.Chars(github.MaxStatusDescription))
	key := repo + "@" + sha + "/" + t.Name
	if r.once(key, "unapproved: "+desc) {
		r.log.Warn("apply refused: a change lacks its approvals", "target", t.Name, "sha", sha, "environments", envs)
		if err := r.setStatus(ctx, gh, owner, name, sha, t.Name, "failure", desc); err != nil {
			r.forget(key)
			return true, fmt.Errorf("status of %s: %w", t.Name, err)
		}
	}
	return true, nil
}

// approvalJudge walks the history of one target's environments.
type approvalJudge struct {
	r                   *Rollout
	gh                  GitHub
	clone               *gitrepo.Repo
	owner, name, branch string
	t                   *targetState
	dirs                map[string]string // commit → its checkout
}

func (j *approvalJudge) cleanup() {
	for _, d := range j.dirs {
		os.RemoveAll(d)
	}
}

// pending returns, by environment of the target, the commits up to head
// that changed it without approvals and are still waiting. It walks back
// along first parents to the last commit applied to the target in full
// (or the first commit), then judges forward: an approved change sets the
// environment's approved state, an unapproved one waits until a later
// commit returns the environment to that state. An approved change on
// top of waiting ones does not approve them: its reviewers did not see
// them.
func (j *approvalJudge) pending(ctx context.Context, head string) (map[string][]unapproved, error) {
	chain := []string{head}
	for c := head; ; {
		if len(chain) > maxApprovalWalk {
			return j.tooFar(ctx, head)
		}
		if c != head {
			state, err := j.gh.StatusState(ctx, j.owner, j.name, c, StatusPrefix+j.t.Name)
			if err != nil {
				return nil, fmt.Errorf("status of %s on %.12s: %w", j.t.Name, c, err)
			}
			if state == "success" {
				break
			}
		}
		info, err := j.clone.CommitInfo(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("read commit %.12s: %w", c, err)
		}
		if len(info.Parents) == 0 {
			break
		}
		c = info.Parents[0]
		chain = append(chain, c)
	}
	slices.Reverse(chain) // oldest first: chain[0] is the baseline
	approved, _, err := j.digest(ctx, chain[0])
	if err != nil {
		return nil, err
	}
	pending := map[string][]unapproved{}
	prev := approved
	for i := 1; i < len(chain); i++ {
		c := chain[i]
		cur, _, err := j.digest(ctx, c)
		if err != nil {
			return nil, err
		}
		_, rules, err := j.digest(ctx, chain[i-1])
		if err != nil {
			return nil, err
		}
		touched := approval.Touched(rules, prev, cur)
		if len(touched) > 0 {
			ok, why, err := j.approved(ctx, c)
			if err != nil {
				return nil, err
			}
			for _, env := range touched {
				switch {
				case !slices.Contains(j.t.Environments, env.Name):
				case cur[env.Name] == approved[env.Name]:
					delete(pending, env.Name) // back to the approved state
				case ok && len(pending[env.Name]) == 0:
					approved[env.Name] = cur[env.Name]
				case ok:
					// Approved, but on top of changes its reviewers did not see.
				default:
					pending[env.Name] = append(pending[env.Name], unapproved{sha: c, why: why})
				}
			}
		}
		prev = cur
	}
	return pending, nil
}

// ruled tells whether the gitvend.yaml of some commit among the last
// maxApprovalWalk up to head (along first parents) has an environment of
// the target need approvals: only then is the history judged, read from
// the local clone alone.
func (j *approvalJudge) ruled(ctx context.Context, head string) (bool, error) {
	c := head
	for range maxApprovalWalk + 1 {
		data, err := j.clone.ReadFile(ctx, c, config.RepoFile)
		if err == nil {
			if cfg, err := config.ParseRepo(data); err == nil && len(approval.Needing(cfg, j.t.Environments)) > 0 {
				return true, nil
			}
		} else if !errors.Is(err, gitrepo.ErrNotFound) {
			return false, fmt.Errorf("read %s at %.12s: %w", config.RepoFile, c, err)
		}
		info, err := j.clone.CommitInfo(ctx, c)
		if err != nil {
			return false, fmt.Errorf("read commit %.12s: %w", c, err)
		}
		if len(info.Parents) == 0 {
			return false, nil
		}
		c = info.Parents[0]
	}
	return true, nil
}

// tooFar is what waits when the last apply is too far back to judge: the
// head, in every environment of the target that needs approvals.
func (j *approvalJudge) tooFar(ctx context.Context, head string) (map[string][]unapproved, error) {
	ok, _, err := j.approved(ctx, head)
	if err != nil || ok {
		return nil, err
	}
	_, cfg, err := j.digest(ctx, head)
	if err != nil {
		return nil, err
	}
	out := map[string][]unapproved{}
	for _, env := range approval.Needing(cfg, j.t.Environments) {
		out[env.Name] = []unapproved{{sha: head, why: fmt.Sprintf("more than %d commits since the last apply", maxApprovalWalk)}}
	}
	return out, nil
}

// digest checks commit c out (once) and fingerprints the target's
// environments there, with the configuration that rules changes on top.
func (j *approvalJudge) digest(ctx context.Context, c string) (approval.Digests, *config.Repo, error) {
	dir, ok := j.dirs[c]
	if !ok {
		d, err := os.MkdirTemp(j.r.opts.ScratchDir, "gitvend-approval-")
		if err != nil {
			return nil, nil, fmt.Errorf("make scratch directory: %w", err)
		}
		if err := j.clone.Export(ctx, c, d); err != nil {
			os.RemoveAll(d)
			return nil, nil, fmt.Errorf("export %.12s: %w", c, err)
		}
		j.dirs[c] = d
		dir = d
	}
	ds, cfg, err := approval.Digest(ctx, dir, j.t.Environments)
	if err != nil {
		return nil, nil, fmt.Errorf("environments of %.12s: %w", c, err)
	}
	return ds, cfg, nil
}

// approved tells whether commit c had its approvals, and if not, why.
func (j *approvalJudge) approved(ctx context.Context, c string) (bool, string, error) {
	st, err := j.gh.Status(ctx, j.owner, j.name, c, approval.MergeStatus)
	if err != nil {
		return false, "", fmt.Errorf("approve-merge status of %.12s: %w", c, err)
	}
	if st.State == "success" {
		return true, "", nil
	}
	prs, err := j.gh.CommitPulls(ctx, j.owner, j.name, c)
	if err != nil {
		return false, "", fmt.Errorf("pull requests of %.12s: %w", c, err)
	}
	why := "pushed directly, without a pull request"
	for _, pr := range prs {
		if (!pr.Merged && pr.MergedAt.IsZero()) || pr.Base != j.branch {
			continue
		}
		runs, err := j.gh.ListCheckRuns(ctx, j.owner, j.name, pr.HeadSHA)
		if err != nil {
			return false, "", fmt.Errorf("check runs of #%d: %w", pr.Number, err)
		}
		conclusion := "missing"
		for _, run := range runs {
			if run.Name == approval.CheckRun {
				conclusion = run.Conclusion
				if run.Status != "completed" {
					conclusion = run.Status
				}
			}
		}
		if conclusion == "success" {
			return true, "", nil
		}
		why = fmt.Sprintf("merged from #%d while %s on its head was %s", pr.Number, approval.CheckRun, conclusion)
	}
	return false, why, nil
}

// approvalIssue opens or updates the issue of env's waiting commits and
// returns its number.
func (r *Rollout) approvalIssue(ctx context.Context, gh GitHub, owner, name, branch, env string, waiting []unapproved) (int, error) {
	var shas []string
	var b strings.Builder
	fmt.Fprintf(&b, "### ⛔ Not applied: unapproved change to `%s`\n\n", env)
	fmt.Fprintf(&b, "Changes to environment `%s` need approvals (see `approvals:` in `gitvend.yaml`), but these commits reached `%s` without them:\n\n", env, branch)
	for _, u := range waiting {
		shas = append(shas, u.sha)
		fmt.Fprintf(&b, "- `%.12s`: %s\n", u.sha, u.why)
	}
	fmt.Fprintf(&b, "\nNothing of `%s` is applied until a repository admin confirms these commits by commenting "+
		"`/provision approve-merge` here, or until `%s` returns `%s` to its last approved state (the commits reverted). "+
		"Each commit's `%s` status shows whether it waits.\n\n%s\n", env, branch, env, approval.MergeStatus, approval.Marker(env, shas))
	body := b.String()
	title := approval.IssueTitle(env)
	is, err := gh.FindIssueByTitle(ctx, owner, name, title, approval.Label)
	if err == nil && !r.ownIssue(is) {
		err = github.ErrNotFound // someone else's issue of that title is not gitvend's
	}
	switch {
	case errors.Is(err, github.ErrNotFound):
		is, err = gh.CreateIssue(ctx, owner, name, github.NewIssue{Title: title, Body: body, Labels: []string{approval.Label}})
		if err != nil {
			return 0, fmt.Errorf("open the issue of %s's unapproved changes: %w", env, err)
		}
		r.log.Info("opened the issue of unapproved changes", "environment", env, "issue", is.Number)
		return is.Number, nil
	case err != nil:
		return 0, fmt.Errorf("find the issue of %s's unapproved changes: %w", env, err)
	}
	if is.Body != body || is.State != "open" {
		open := "open"
		if _, err := gh.EditIssue(ctx, owner, name, is.Number, github.IssueEdit{Body: &body, State: &open}); err != nil {
			return 0, fmt.Errorf("update issue #%d: %w", is.Number, err)
		}
	}
	return is.Number, nil
}

// settleApprovalIssue closes env's issue of unapproved changes, when one
// is open: nothing of env waits any more.
func (r *Rollout) settleApprovalIssue(ctx context.Context, gh GitHub, owner, name, env string) error {
	key := owner + "/" + name + "/approval-issue/" + env
	if !r.once(key, "settled") {
		return nil
	}
	is, err := gh.FindIssueByTitle(ctx, owner, name, approval.IssueTitle(env), approval.Label)
	if errors.Is(err, github.ErrNotFound) || (err == nil && (is.State != "open" || !r.ownIssue(is))) {
		return nil
	}
	if err != nil {
		r.forget(key)
		return fmt.Errorf("find the issue of %s's unapproved changes: %w", env, err)
	}
	if err := gh.CloseIssue(ctx, owner, name, is.Number, fmt.Sprintf(
		"Nothing of `%s` waits any more: its unapproved changes were confirmed or reverted, and it is applied again.", env)); err != nil {
		r.forget(key)
		return fmt.Errorf("close issue #%d: %w", is.Number, err)
	}
	return nil
}

// ownIssue tells whether gitvend opened is (when gitvend's login is known).
func (r *Rollout) ownIssue(is github.Issue) bool {
	return r.opts.Login == "" || strings.EqualFold(is.User, r.opts.Login)
}
