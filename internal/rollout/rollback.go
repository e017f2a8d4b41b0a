package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// RevertPrefix starts the branch of every revert pull request gitvend
// opens: gitvend/revert-<merge commit>.
const RevertPrefix = "gitvend/revert-"

// RevertBranch is the branch of the pull request that reverts the merge
// commit sha. There is one per merge: finding it is how a rollback is
// known to have been proposed already, by this process or an earlier one.
func RevertBranch(sha string) string { return RevertPrefix + sha }

// revertMarker marks the body of the revert pull request of sha.
func revertMarker(sha string) string { return github.Marker("revert " + sha) }

// merge is the merge commit a rollout applied: its id, its info and the
// pull request it merged.
type merge struct {
	sha  string
	info gitrepo.CommitInfo
	pr   int
}

// rollback proposes to revert m when it did not become healthy: a target
// serving an environment that sets rollbackOnFailure has objects that are
// not healthy after the merge, and was not failing before it (gitvend's
// status of the target on the merge's first parent is not a failure: a
// merge is not blamed for what it found). It opens a pull request from
// RevertBranch(m.sha) whose one commit reverts the merge (gitrepo.Revert,
// on the merge itself: the head the rollout applied), once per merge: a
// pull request of that branch, open or closed, is never opened again, so
// neither a resync nor a restart proposes it twice, and a person who closed
// it is not asked again. The decision is taken again from what GitHub and
// the cluster say on every apply of the merge, so a process that stopped
// before opening it opens it after a restart. It never pushes to the
// desired-state branch and never merges. It returns the revert pull
// request, or 0 when none is called for.
func (r *Rollout) rollback(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, dir string, m merge, applied []Applied) (int, error) {
	failing := unhealthyTargets(applied)
	if len(failing) == 0 || len(m.info.Parents) == 0 {
		return 0, nil
	}
	repoCfg, err := config.LoadRepo(dir)
	if err != nil {
		return 0, fmt.Errorf("read %s to decide on a rollback: %w", config.RepoFile, err)
	}
	var envs []string
	for _, t := range r.targets {
		if failing[t.Name] == nil {
			continue
		}
		asks := rollbackEnvironments(repoCfg, t.Target)
		if len(asks) == 0 {
			delete(failing, t.Name)
			continue
		}
		before, err := gh.StatusState(ctx, owner, name, m.info.Parents[0], StatusPrefix+t.Name)
		if err != nil {
			return 0, fmt.Errorf("status of %s before the merge: %w", t.Name, err)
		}
		if before == "failure" || before == "error" {
			delete(failing, t.Name)
			continue
		}
		envs = append(envs, asks...)
	}
	if len(envs) == 0 {
		return 0, nil
	}
	slices.Sort(envs)
	envs = slices.Compact(envs)
	log := r.log.With("repo", owner+"/"+name, "sha", m.sha, "pr", m.pr)
	pr, err := gh.GetPR(ctx, owner, name, m.pr)
	if err != nil {
		return 0, fmt.Errorf("get pull request #%d: %w", m.pr, err)
	}
	switch {
	case !pr.Merged || pr.MergeCommitSHA != m.sha:
		// A commit message that names a pull request is no merge of it.
		log.Info("no rollback: the commit is not the pull request's merge")
		return 0, nil
	case strings.HasPrefix(pr.Head, RevertPrefix):
		// A revert that fails too is for a person to look at; reverting
		// it would bring back what failed first.
		log.Warn("no rollback of a revert that did not become healthy either")
		return 0, nil
	}
	branch := RevertBranch(m.sha)
	existing, err := gh.ListPRsByHead(ctx, owner, name, branch)
	if err != nil {
		return 0, fmt.Errorf("look for the revert of %.12s: %w", m.sha, err)
	}
	if len(existing) > 0 {
		return existing[0].Number, nil
	}
	if r.opts.Author.Name == "" {
		log.Warn("no rollback: no commit author configured")
		return 0, nil
	}
	// The revert's time is the merge's, so that making it again (after a
	// failure between push and pull request) gives the same commit and
	// the push does nothing.
	revert, err := clone.Revert(ctx, gitrepo.RevertSpec{Commit: m.sha, Onto: m.sha, Author: r.opts.Author, Time: m.info.Time})
	if err != nil {
		return 0, err
	}
	if revert == m.sha {
		return 0, nil // nothing to undo
	}
	if err := clone.Push(ctx, revert, branch, false); err != nil {
		return 0, fmt.Errorf("push the revert of %.12s: %w", m.sha, err)
	}
	opened, err := gh.CreatePR(ctx, owner, name, github.NewPR{
		Title: textbudget.Line(fmt.Sprintf("Revert \"%s\" (#%d)", pr.Title, m.pr), textbudget.Chars(github.MaxTitle)),
		Body:  revertBody(m, envs, failing),
		Head:  branch, Base: pr.Base,
	})
	if err != nil {
		return 0, fmt.Errorf("open the revert of #%d: %w", m.pr, err)
	}
	log.Info("revert proposed", "revert", opened.Number, "environments", envs)
	return opened.Number, nil
}

// unhealthyTargets returns, per target whose health was checked, the
// objects that are not healthy.
func unhealthyTargets(applied []Applied) map[string][]reconcile.ObjectResult {
	out := map[string][]reconcile.ObjectResult{}
	for _, a := range applied {
		if a.Err != nil || a.Result == nil || !a.Result.HealthChecked || a.Result.DryRun {
			continue
		}
		if bad := a.Result.UnhealthyObjects(); len(bad) > 0 {
			out[a.Target] = bad
		}
	}
	return out
}

// rollbackEnvironments lists the environments t serves that set
// rollbackOnFailure.
func rollbackEnvironments(c *config.Repo, t cluster.Target) []string {
	var out []string
	for _, name := range t.Environments {
		if env, ok := c.Environment(name); ok && env.RollbackOnFailure {
			out = append(out, name)
		}
	}
	return out
}

// revertBody is the revert pull request's body: which merge, why, and
// what merging it does. Cluster-reported text is shown as code.
func revertBody(m merge, envs []string, failing map[string][]reconcile.ObjectResult) string {
	var sb strings.Builder
	sb.WriteString(revertMarker(m.sha) + "\n")
	fmt.Fprintf(&sb, "↩️ gitvend proposes to revert #%d (merge `%.12s`): objects it changed did not become healthy within the health timeout, and %s %s `rollbackOnFailure: true`.\n\n",
		m.pr, m.sha, plural(len(envs), "environment", "environments"), strings.Join(codes(envs), ", "))
	sb.WriteString("Merging this pull request applies the state from before the merge. gitvend does not merge it by itself: review it, or close it to keep the change.\n\n")
	sb.WriteString(unhealthyTable(failing))
	return textbudget.Fit(sb.String(), commentBody, textbudget.Options{Shown: shownRows, Noun: "objects", Where: "the commit status of each target"})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func codes(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = code(s)
	}
	return out
}

// retryRollback forgets that the targets of applied are current, so that
// the next sync applies them again and, should they still not be
// healthy, tries the rollback again.
func (r *Rollout) retryRollback(applied []Applied) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range applied {
		delete(r.applied, a.Target)
	}
}
