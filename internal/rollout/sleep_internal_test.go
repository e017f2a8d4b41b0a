package rollout

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/retry"
)

// TestRunReconcilesWhenSleepChanges: Run reconciles again when a target's
// sleep may change (a window starts or ends, an override runs out), not
// only at the interval; with nothing due, it waits for the interval.
func TestRunReconcilesWhenSleepChanges(t *testing.T) {
	now := time.Date(2026, 12, 2, 18, 59, 59, 0, time.UTC)
	git := &failingGit{err: retry.Terminal(errors.New("fetch: authentication required"))}
	r, err := New(Options{Clients: noClients{}, Git: git, Branches: map[string]string{"acme/infra": "main"},
		Interval: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if r.sleepDue() != nil {
		t.Fatal("a sleep change is due with no schedule")
	}
	r.setNextSleep("dev", now.Add(time.Second))
	r.setNextSleep("prod", now.Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// The first sync at start, then one when dev's sleep may change; its
	// time is past then, and the failed sync is left to its own retries.
	if got := git.opens.Load(); got != 2 {
		t.Errorf("syncs = %d, want 2", got)
	}
	r.setNextSleep("dev", time.Time{})
	r.setNextSleep("prod", time.Time{})
	if r.sleepDue() != nil {
		t.Error("a sleep change is due once every target's is cleared")
	}
}
