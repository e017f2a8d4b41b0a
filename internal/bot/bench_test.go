package bot_test

import (
	"fmt"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
)

// BenchmarkIssueToPR measures a request from the moment its issue is opened
// (from the form) to its pull request being open with both check runs
// posted, through the webhook server, the queue and the GitHub double on
// loopback, one request at a time; and the GitHub API calls it costs.
func BenchmarkIssueToPR(b *testing.B) {
	h := newHarness(b, func(o *bot.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	// Warm the process: App token, installation, default branch, policies.
	h.openForm("alice", "web-service", form("warm-up"))
	h.settle()
	var lat []time.Duration
	calls := 0
	b.ResetTimer()
	for i := range b.N {
		h.gh.ResetCalls()
		start := time.Now()
		n := h.openForm("alice", "web-service", form(fmt.Sprintf("svc-%d", i)))
		for !h.hasChecks(n) {
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
		h.settle()
		calls += h.gh.Calls().Total
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*95)/100].Milliseconds()), "p95-ms")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/request")
}

func form(name string) map[string]string {
	f := map[string]string{}
	for k, v := range paymentsForm {
		f[k] = v
	}
	f["Request name"] = name
	return f
}

// hasChecks tells whether issue n's pull request is open with both checks.
func (h *harness) hasChecks(n int) bool {
	prs, err := h.gh.PullRequests(repo)
	if err != nil {
		return false
	}
	for _, pr := range prs {
		if pr.Head == fmt.Sprintf("%s%d", bot.BranchPrefix, n) {
			runs, err := h.gh.CheckRuns(repo)
			if err != nil {
				return false
			}
			seen := 0
			for _, r := range runs {
				if r.HeadSHA == pr.HeadSHA && (r.Name == bot.CheckPolicy || r.Name == bot.CheckCost) {
					seen++
				}
			}
			return seen == 2
		}
	}
	return false
}
