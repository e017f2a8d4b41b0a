package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/load"
)

// BenchmarkIssueToPRGrowth measures request → PR, one request at a time, in
// synthetic repositories of 100, 1,000 and 10,000 requests (load.Generate,
// three environments): from the issue opened to its pull request open with
// both checks, through the webhook server, the queue and the GitHub double
// on loopback. Nothing else runs, so the figure is the work of one intake
// job and how it grows with the repository; make load adds the queue and
// the clusters.
func BenchmarkIssueToPRGrowth(b *testing.B) {
	// GITVEND_BENCH_STEADY=n sets how many requests follow the first
	// before the measured ones (60 by default; see below).
	steadyRequests := 60
	if v := os.Getenv("GITVEND_BENCH_STEADY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("GITVEND_BENCH_STEADY=%q: want a number of requests, 0 or more", v)
		}
		steadyRequests = n
	}
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			files := generated(b, n)
			logger := slog.New(slog.DiscardHandler)
			// GITVEND_BENCH_LOG=file writes the bot's log, with the time
			// of every step, to file.N.
			if out := os.Getenv("GITVEND_BENCH_LOG"); out != "" {
				f, err := os.Create(fmt.Sprintf("%s.%d", out, n))
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			h := newHarnessOf(b, files, func(o *bot.Options) { o.Logger = logger })
			h.gh.SetTeamMembers("acme", load.Owner, "alice")
			open := func(name string) int {
				return h.openForm("alice", "web-service", map[string]string{"Request name": name, "Environment": "dev",
					"Namespace": load.Namespace, "Owner": load.Owner, "Image": "ghcr.io/acme/load:1.0.1"})
			}
			// warm runs a request through, unmeasured.
			warm := func(name string) {
				n := open(name)
				h.settle()
				if !h.hasChecks(n) {
					b.Fatalf("warm-up request %s has no pull request with checks: %v", name, h.botComments(n))
				}
			}
			// Warm the process: App token, installation, default branch,
			// clone, base checkout and the check's caches.
			warm("warm-up")
			// The setup wrote tens of thousands of files (the double's
			// repository, the clone, the checkouts): written back to disk
			// now, they do not slow the requests measured. Its garbage
			// (the generated repository, the double's, the first check's)
			// is collected now too, as go test does before a benchmark
			// runs, rather than among the first requests.
			syscall.Sync()
			runtime.GC()
			// Then steadyRequests more, the same number at every size: the
			// heap grows to its working size and is collected (twice at
			// 10,000 requests), as in a server that has been running for
			// a while, and every size is measured with as many pull
			// requests open. Without this the first requests measured pay
			// for the heap's first growth into memory the machine has
			// never handed the process (on a virtual machine, every new
			// page costs the host a fault).
			for n := range steadyRequests {
				warm(fmt.Sprintf("steady-%d", n))
			}
			// The pull requests open while measuring, reported beside
			// the latencies.
			openPRs := 0
			prs, err := h.gh.PullRequests(repo)
			if err != nil {
				b.Fatal(err)
			}
			for _, pr := range prs {
				if pr.State == "open" {
					openPRs++
				}
			}
			syscall.Sync()
			// GITVEND_BENCH_PROFILE=file profiles the requests after the
			// warm-up only (go test's -cpuprofile includes the setup).
			if out := os.Getenv("GITVEND_BENCH_PROFILE"); out != "" {
				f, err := os.Create(fmt.Sprintf("%s.%d", out, n))
				if err != nil {
					b.Fatal(err)
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					b.Fatal(err)
				}
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
			// GITVEND_BENCH_MEMPROFILE=file writes heap profiles after the
			// warm-up (file.N.before) and after the requests (file.N.after);
			// go tool pprof -base before after shows what the requests
			// allocated.
			memProfile := func(string) {}
			if out := os.Getenv("GITVEND_BENCH_MEMPROFILE"); out != "" {
				runtime.MemProfileRate = 64 << 10
				memProfile = func(when string) {
					runtime.GC()
					f, err := os.Create(fmt.Sprintf("%s.%d.%s", out, n, when))
					if err != nil {
						b.Fatal(err)
					}
					defer f.Close()
					if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
			memProfile("before")
			defer memProfile("after")
			var lat []time.Duration
			i := 0
			// b.Loop runs the setup above once, not once per round of b.N.
			for b.Loop() {
				i++
				start := time.Now()
				n := open(fmt.Sprintf("growth-%d", i))
				for !h.hasChecks(n) {
					time.Sleep(2 * time.Millisecond)
				}
				lat = append(lat, time.Since(start))
				b.StopTimer()
				h.settle()
				syscall.Sync()
				b.StartTimer()
			}
			// GITVEND_BENCH_LATENCIES=file appends every latency measured,
			// as "requests milliseconds" lines, so that runs can be pooled:
			// on a machine whose speed wanders from run to run, the p50 of
			// the requests of several runs is steadier than any one run's.
			if out := os.Getenv("GITVEND_BENCH_LATENCIES"); out != "" {
				f, err := os.OpenFile(out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				for _, d := range lat {
					fmt.Fprintf(f, "%d %.1f\n", n, float64(d.Microseconds())/1000)
				}
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*95)/100].Milliseconds()), "p95-ms")
			b.ReportMetric(float64(openPRs), "open-prs")
		})
	}
}

// generated is a synthetic repository of n requests over three
// environments, as files by path.
func generated(b *testing.B, n int) map[string]string {
	b.Helper()
	dir := b.TempDir()
	if err := load.Generate(context.Background(), dir, n, 3); err != nil {
		b.Fatal(err)
	}
	files, err := githubtest.ReadFiles(dir)
	if err != nil {
		b.Fatal(err)
	}
	return files
}
