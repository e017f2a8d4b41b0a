package bot

import (
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/github"
)

func TestLifeStart(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name string
		prs  []github.PullRequest // newest first
		want time.Time
	}{
		{"never merged", []github.PullRequest{{State: "open"}, {State: "closed"}}, time.Time{}},
		{"the first merge counts, not a later change", []github.PullRequest{{MergedAt: at(5)}, {State: "closed"}, {MergedAt: at(1)}}, at(1)},
		{"removed", []github.PullRequest{{MergedAt: at(9), Title: "gitvend: remove orders (web-service) from dev/team-payments"}, {MergedAt: at(1)}}, time.Time{}},
		{"asked for again after an expiry", []github.PullRequest{{MergedAt: at(12)}, {MergedAt: at(9), Labels: []string{ExpiryLabel}}, {MergedAt: at(1)}}, at(12)},
	}
	for _, tt := range tests {
		if got := lifeStart(tt.prs); !got.Equal(tt.want) {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestChecksPassed(t *testing.T) {
	ok := func(name string) github.CheckRun {
		return github.CheckRun{Name: name, Status: "completed", Conclusion: "success"}
	}
	tests := []struct {
		name string
		runs []github.CheckRun
		want bool
	}{
		{"both passed", []github.CheckRun{ok(CheckPolicy), ok(CheckCost)}, true},
		{"one missing", []github.CheckRun{ok(CheckPolicy)}, false},
		{"policy failed", []github.CheckRun{{Name: CheckPolicy, Status: "completed", Conclusion: "failure"}, ok(CheckCost)}, false},
		{"cost in progress", []github.CheckRun{ok(CheckPolicy), {Name: CheckCost, Status: "in_progress"}}, false},
		{"neutral is no pass", []github.CheckRun{ok(CheckPolicy), {Name: CheckCost, Status: "completed", Conclusion: "neutral"}}, false},
		{"another run of gitvend's failed", []github.CheckRun{ok(CheckPolicy), ok(CheckCost), {Name: "gitvend/plan", Status: "completed", Conclusion: "failure"}}, false},
	}
	for _, tt := range tests {
		if got := checksPassed(tt.runs); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}

func TestRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:              "in less than a minute",
		time.Minute:                   "in 1 minute",
		59*time.Minute + time.Second:  "in 59 minutes",
		90*time.Minute - time.Second:  "in 1 hour",
		23*time.Hour + 40*time.Minute: "in 24 hours",
		72 * time.Hour:                "in 3 days",
	} {
		if got := relative(d); got != want {
			t.Errorf("relative(%s) = %q, want %q", d, got, want)
		}
	}
}
