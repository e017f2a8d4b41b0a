package bot_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
)

// BenchmarkFanOut1000 measures a blueprint fan-out over 1,000 requests
// (400 in dev, 300 each in staging and prod, fanout.maxRequests at its
// default of 20): from the blueprint change on the default branch to
// every fan-out pull request open (or updated) with its policy and cost
// checks and the dashboard written, through the GitHub double on
// loopback. The first iteration opens the pull requests; each later one
// changes the blueprint again and updates them in place. The push
// webhook is dropped so that the fan-out is the one the benchmark runs.
func BenchmarkFanOut1000(b *testing.B) {
	ctx := context.Background()
	reqs := requestsOver(map[string]int{"dev": 400, "staging": 300, "prod": 300})
	cfg := strings.Replace(fanoutConfig, "fanout:\n  maxRequests: 10\n", "", 1)
	h := newHarnessOf(b, fanoutRepo(b, cfg, reqs), func(o *bot.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	var first time.Duration
	var firstCalls, calls int
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		h.gh.DropWebhooks(1)
		changeBlueprint(b, h, 2+i, "tier-"+string(rune('a'+i%26)))
		h.settle()
		h.gh.ResetCalls()
		b.StartTimer()
		start := time.Now()
		res, err := h.bot.FanOut(ctx, repo)
		if err != nil {
			b.Fatal(err)
		}
		h.settle()
		took := time.Since(start)
		n := h.gh.Calls().Total
		if i == 0 {
			first, firstCalls = took, n
		}
		calls += n
		if len(res.Pending) != 50 {
			b.Fatalf("%d fan-out pull requests, want 50", len(res.Pending))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(first.Milliseconds()), "first-ms")
	b.ReportMetric(float64(firstCalls), "first-calls")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(len(fanoutPRs(h))), "prs-open")
}
