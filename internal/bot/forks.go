package bot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/logctx"
)

// prHead is the head of a pull request made ready to check.
type prHead struct {
	sha string
	// request is the request issue the head branch names, 0 for none; a
	// fork's branch never names one, whatever it is called.
	request int
	// fork is set for a head in another repository (or one deleted),
	// fetched from the base's refs/pull/N/head.
	fork bool
	// neutral, when set, is why the head is not checked: both check runs
	// are posted neutral with it as their summary.
	neutral string
}

// resolveHead tells where the head commit of pr comes from: a branch of
// the repository, in the job's clone already, or a fork, whose commits the
// clone's fetch of branches never reaches. A fork's pull request gets
// neutral check runs when the base's gitvend.yaml says so.
func (b *Bot) resolveHead(ctx context.Context, w *work, pr github.PullRequest) prHead {
	fork := pr.HeadFork || pr.HeadRepo != "" && !config.SameRepo(pr.HeadRepo, w.full)
	if !fork {
		return prHead{sha: pr.HeadSHA, request: issueOfBranch(pr.Head)}
	}
	h := prHead{sha: pr.HeadSHA, fork: true}
	if w.cfg.Forks == config.ForksNeutral {
		logctx.LoggerFrom(ctx).Info("pull request from a fork not checked, as configured", "repo", w.full, "pr", pr.Number, "head", forkName(pr))
		h.neutral = fmt.Sprintf(neutralForkText, pr.Number, forkName(pr), config.RepoFile)
	}
	return h
}

// fetchHead brings a fork's head into the job's clone from refs/pull/N/head
// of this repository, where GitHub keeps it, even once the fork is
// deleted; other heads are left as they are. A zero sha means there is
// nothing to do now.
func (b *Bot) fetchHead(ctx context.Context, w *work, pr github.PullRequest, h prHead) (prHead, error) {
	if !h.fork || h.neutral != "" {
		return h, nil
	}
	log := logctx.LoggerFrom(ctx).With("repo", w.full, "pr", pr.Number, "head", forkName(pr))
	sha, err := w.clone.FetchPull(ctx, pr.Number)
	if errors.Is(err, gitrepo.ErrNotFound) {
		log.Warn("pull request from a fork without refs/pull head")
		h.neutral = fmt.Sprintf(unreachableForkText, pr.Number, forkName(pr))
		return h, nil
	}
	if err != nil {
		return prHead{}, fmt.Errorf("fetch the head of #%d from refs/pull: %w", pr.Number, err)
	}
	if sha != pr.HeadSHA {
		// The fork moved on since the pull request was read; the
		// synchronize event of its new head brings a job of its own.
		log.Info("head moved while fetched; its own event checks it", "read", pr.HeadSHA, "fetched", sha)
		return prHead{}, nil
	}
	log.Info("pull request from a fork checked with the base's configuration and policies")
	return h, nil
}

// forkName names a pull request's head repository for people.
func forkName(pr github.PullRequest) string {
	if pr.HeadGone || pr.HeadRepo == "" {
		return "a fork deleted since"
	}
	return pr.HeadRepo
}

// checkHead checks the head commit of a pull request against the job's
// base, with the base's configuration, policies and prices. A fork's head
// is judged by the base's gitvend.yaml even for what its own would decide
// (environments and their roots), and is not looked up on the clusters:
// what a merge would adopt is told to the repository's own branches only,
// since a fork's author could otherwise probe which objects exist there.
func (b *Bot) checkHead(ctx context.Context, w *work, h prHead) (*check.Report, error) {
	if !h.fork {
		return b.checkCommit(ctx, w, h.sha)
	}
	dir, cleanup, err := b.export(ctx, w.clone, h.sha, "fork")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := useBaseConfig(w.baseDir, dir); err != nil {
		return nil, err
	}
	ch, _, err := b.checks.get(ctx, w.full+"@"+w.baseSHA, w.baseDir)
	if err != nil {
		return nil, fmt.Errorf("prepare checks: %w", err)
	}
	rep, err := ch.For(dir).Check(ctx, []string{dir}, w.baseDir)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	b.metrics.checks.WithLabelValues(verdict(rep)).Inc()
	return rep, nil
}

// useBaseConfig puts the base's gitvend.yaml in place of the one of the
// checkout in dir (or removes that one when the base has none), so that
// nothing of a fork's configuration takes part in its check.
func useBaseConfig(baseDir, dir string) error {
	data, err := os.ReadFile(filepath.Join(baseDir, config.RepoFile))
	target := filepath.Join(dir, config.RepoFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.RemoveAll(target); err != nil {
			return fmt.Errorf("drop the fork's %s: %w", config.RepoFile, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read the base's %s: %w", config.RepoFile, err)
	}
	if err := os.RemoveAll(target); err != nil { // a link or a folder of the fork's making
		return fmt.Errorf("drop the fork's %s: %w", config.RepoFile, err)
	}
	if err := os.WriteFile(target, data, 0o644); err != nil {
		return fmt.Errorf("use the base's %s: %w", config.RepoFile, err)
	}
	return nil
}

// Why a fork's pull request gets neutral check runs.
const (
	neutralForkText = "## gitvend did not check this pull request\n\n" +
		"#%d comes from a fork (%s), and this repository's `%s` says `forks: neutral`: " +
		"pull requests from forks are not checked here. A maintainer reviews it, or opens the change " +
		"from a branch of this repository to have it checked.\n"
	unreachableForkText = "## gitvend could not check this pull request\n\n" +
		"#%d comes from a fork (%s), and GitHub serves no `refs/pull/<number>/head` for it, " +
		"where gitvend fetches the heads of forks from. A maintainer reviews it.\n"
)

// neutralRuns are both check runs, neutral, saying why the head was not
// checked.
func neutralRuns(sha, why string) []github.CheckRunSpec {
	out := make([]github.CheckRunSpec, 0, 2)
	for _, name := range []string{CheckPolicy, CheckCost} {
		out = append(out, github.CheckRunSpec{Name: name, HeadSHA: sha, Status: "completed", Conclusion: "neutral",
			Title: "Not checked: pull request from a fork", Summary: why})
	}
	return out
}
