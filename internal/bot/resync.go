package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ClosedWindow is how far back a resync looks for closed request issues
// with new commands.
const ClosedWindow = 24 * time.Hour

// Resync brings every open request issue, drift issue and pull request of
// repository full to the state it should have: gitvend's labels exist,
// issues without their PR get one, commands on drift issues are answered,
// PRs without checks get them. Open
// issues are listed once, labelled or not, so that a form issue GitHub
// left unlabelled is found too. With nothing changed it costs GitHub's
// rate limit nothing, since every read is a conditional request.
func (b *Bot) Resync(ctx context.Context, full string) error {
	w, err := b.open(ctx, full)
	if err != nil {
		return err
	}
	label := w.cfg.Intake.Label
	b.checkProtection(ctx, w)
	err = b.ensureLabels(ctx, w)
	expiring := expiringIssues(w)
	b.warmHeads(ctx, w)
	b.warmCheck(ctx, w)
	w.cleanup()
	if err != nil {
		return err
	}
	owner, name, gh := w.owner, w.name, w.gh
	issues, err := gh.ListOpenIssues(ctx, owner, name)
	if err != nil {
		return fmt.Errorf("list open issues of %s: %w", full, err)
	}
	// Closed request issues updated lately may hold commands whose
	// webhooks were lost (a /provision destroy, say). The window starts on
	// a whole hour, so that the same conditional request repeats within it.
	since := b.now().Add(-ClosedWindow).Truncate(time.Hour)
	recent, err := gh.ListIssuesSince(ctx, owner, name, since, label)
	if err != nil {
		return fmt.Errorf("list recent request issues of %s: %w", full, err)
	}
	var errs []error
	seen := map[int]bool{}
	for _, is := range append(issues, recent...) {
		// Drift issues too: a revert or adopt whose webhook was lost.
		if !(mayBeRequest(&is, label) || b.isDriftIssue(w, &is)) || seen[is.Number] {
			continue
		}
		seen[is.Number] = true
		if _, err := b.SyncIssue(ctx, full, is.Number, Trigger{}); err != nil {
			errs = append(errs, fmt.Errorf("issue #%d: %w", is.Number, err))
		}
	}
	// Requests with a ttl are looked at however long ago their issues
	// closed: an expiry falls due without any webhook.
	for _, n := range expiring {
		if seen[n] {
			continue
		}
		seen[n] = true
		if _, err := b.SyncIssue(ctx, full, n, Trigger{}); err != nil {
			errs = append(errs, fmt.Errorf("issue #%d: %w", n, err))
		}
	}
	b.expiries.keepOnly(full, seen)
	prs, err := gh.ListOpenPRs(ctx, owner, name)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list pull requests of %s: %w", full, err))...)
	}
	for _, pr := range prs {
		if err := b.CheckPR(ctx, full, PRHead{Number: pr.Number, Branch: pr.Head, SHA: pr.HeadSHA}, false); err != nil {
			errs = append(errs, fmt.Errorf("pull request #%d: %w", pr.Number, err))
		}
	}
	// Adopt pull requests whose drift closed while no webhook came.
	if err := b.settleAdoptions(ctx, w, prs, nil); err != nil {
		errs = append(errs, err)
	}
	// Blueprints changed while no push webhook came, or gitvend was
	// upgraded with a new built-in catalog.
	if _, err := b.FanOut(ctx, full); err != nil {
		errs = append(errs, fmt.Errorf("fan-out: %w", err))
	}
	return errors.Join(errs...)
}

// RunResync queues a resync of every served repository at once and then
// every interval, until ctx ends. Queued behind webhook jobs of the same
// repository, a resync never races them.
func (b *Bot) RunResync(ctx context.Context, q Queue, interval time.Duration) {
	b.runResync(ctx, q, interval, b.Repos)
}

// RunResyncOf is RunResync for one repository, repo: the work of a replica
// that holds the repository's resync Lease when the resyncs are spread
// over the replicas.
func (b *Bot) RunResyncOf(ctx context.Context, q Queue, interval time.Duration, repo string) {
	b.runResync(ctx, q, interval, func() []string { return []string{repo} })
}

func (b *Bot) runResync(ctx context.Context, q Queue, interval time.Duration, repos func() []string) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		for _, full := range repos() {
			err := q.Add(full, "resync", func(ctx context.Context) error {
				return b.metrics.job("resync", func() error {
					err := b.Resync(ctx, full)
					if err != nil {
						b.log.Warn("resync failed", "repo", full, "err", err)
					}
					return err
				})
			})
			if err != nil {
				b.log.Warn("resync not queued", "repo", full, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
