package github

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/githubtest"
)

// TestSecondaryRateLimitWaits: each of GitHub's ways of telling a
// secondary rate limit gets the wait GitHub's documentation asks for:
// Retry-After; else the X-RateLimit-Reset of a remaining of 0; else one
// minute, doubling while it keeps happening, capped at 15 minutes.
func TestSecondaryRateLimitWaits(t *testing.T) {
	p := noJitter
	p.MaxRateLimitWait = time.Hour
	tests := []struct {
		name        string
		faults      githubtest.Faults
		maxAttempts int
		want        func(i int, d time.Duration) bool
		wantText    string
	}{
		{"Retry-After", githubtest.Faults{RetryAfter: 90 * time.Second}, 3,
			func(_ int, d time.Duration) bool { return d == 90*time.Second }, "90s each"},
		{"X-RateLimit-Reset", githubtest.Faults{RetryAfter: 90 * time.Second, RateLimitShape: githubtest.RateLimitReset}, 3,
			func(_ int, d time.Duration) bool { return d >= 90*time.Second && d <= 91*time.Second }, "until the reset, 90s to 91s each"},
		{"neither, 403", githubtest.Faults{RateLimitShape: githubtest.RateLimitBare}, 8,
			func(i int, d time.Duration) bool {
				return d == []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute}[i]
			}, "1m, 2m, 4m, 8m, then 15m"},
		{"neither, 429", githubtest.Faults{RateLimitShape: githubtest.RateLimitBare, RateLimitStatus: 429}, 3,
			func(i int, d time.Duration) bool { return d == []time.Duration{time.Minute, 2 * time.Minute}[i] }, "1m, 2m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := p
			p.MaxAttempts = tt.maxAttempts
			f := newFixture(t, fixtureOptions{policy: p})
			ctx := context.Background()
			n := f.openIssue(t, "busy")
			if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
				t.Fatal(err)
			}
			f.gh.ResetCalls()
			faults := tt.faults
			faults.RateLimitRate = 1
			f.gh.SetFaults(faults)
			_, err := f.client.CreateComment(ctx, owner, repoName, n, "hi")
			var rl *RateLimitError
			if !errors.As(err, &rl) || !rl.Secondary {
				t.Fatalf("error = %v, want a secondary *RateLimitError", err)
			}
			sleeps := f.clock.slept()
			if len(sleeps) != tt.maxAttempts-1 {
				t.Fatalf("waits %v, want %d", sleeps, tt.maxAttempts-1)
			}
			for i, d := range sleeps {
				if !tt.want(i, d) {
					t.Errorf("waits %v, want %s", sleeps, tt.wantText)
					break
				}
			}
			if got := f.gh.Calls().Total; got != tt.maxAttempts {
				t.Errorf("calls = %d, want %d", got, tt.maxAttempts)
			}
		})
	}
}

// TestSecondaryBackoffIsShared: the backoff belongs to the installation:
// its next request waits for it (or fails at once without calling when the
// wait is longer than allowed) instead of trying its luck, the App's own
// calls are not held back, and a success starts the doubling over.
func TestSecondaryBackoffIsShared(t *testing.T) {
	p := noJitter
	p.MaxAttempts = 2
	p.MaxRateLimitWait = time.Hour
	f := newFixture(t, fixtureOptions{policy: p})
	ctx := context.Background()
	n := f.openIssue(t, "busy")
	if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
		t.Fatal(err)
	}
	bare := githubtest.Faults{RateLimitRate: 1, RateLimitShape: githubtest.RateLimitBare}
	f.gh.SetFaults(bare)
	if _, err := f.client.CreateComment(ctx, owner, repoName, n, "one"); !errors.As(err, new(*RateLimitError)) {
		t.Fatalf("error = %v, want a *RateLimitError", err)
	}
	// Two limits in a row: the installation owes a wait of 2m.
	f.gh.SetFaults(githubtest.Faults{})
	f.gh.ResetCalls()
	if _, err := f.app.BotLogin(ctx); err != nil {
		t.Fatalf("the App's own call: %v", err)
	}
	if diff := cmp.Diff([]time.Duration{time.Minute}, f.clock.slept()); diff != "" {
		t.Errorf("the App's own call waited (-want +got):\n%s", diff)
	}

	f.app.sh.policy.MaxRateLimitWait = time.Minute
	_, err := f.client.CreateComment(ctx, owner, repoName, n, "two")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Secondary {
		t.Fatalf("error = %v, want a secondary *RateLimitError without calling", err)
	}
	if got := f.gh.Calls().ByRoute["POST /repos/{owner}/{repo}/issues/{issue_number}/comments"]; got != 0 {
		t.Errorf("comment calls during the backoff = %d, want 0", got)
	}

	f.app.sh.policy.MaxRateLimitWait = time.Hour
	if _, err := f.client.CreateComment(ctx, owner, repoName, n, "three"); err != nil {
		t.Fatal(err)
	}
	// The rest of the 2m backoff, less the real time the test took.
	sleeps := f.clock.slept()
	if len(sleeps) != 2 || sleeps[1] > 2*time.Minute || sleeps[1] < 2*time.Minute-5*time.Second {
		t.Errorf("waits %v, want 1m then the rest of the 2m backoff", sleeps)
	}
	// The success reset the run: the next limit waits a minute again.
	f.gh.SetFaults(bare)
	_, _ = f.client.CreateComment(ctx, owner, repoName, n, "four")
	if sleeps := f.clock.slept(); len(sleeps) != 3 || sleeps[2] != time.Minute {
		t.Errorf("waits %v, want a third of 1m after the success", sleeps)
	}
}

// TestSecondaryBackoffJitter: jitter spreads the waits of many processes
// but never below GitHub's minute.
func TestSecondaryBackoffJitter(t *testing.T) {
	p := RetryPolicy{Jitter: 0.5}.withDefaults()
	seen := map[time.Duration]bool{}
	for range 200 {
		d := p.secondaryWait(nil, time.Now(), 0)
		if d < time.Minute || d > 90*time.Second {
			t.Fatalf("wait %v, want 1m to 1m30s", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("%d distinct waits in 200, want them spread", len(seen))
	}
	if d := p.secondaryWait(nil, time.Now(), 30); d < 15*time.Minute || d > 22*time.Minute+30*time.Second {
		t.Errorf("wait after 30 limits %v, want the 15m cap plus jitter", d)
	}
}
