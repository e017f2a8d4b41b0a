package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

// BenchmarkServeStory measures the earlier figures again through `gitvend
// serve` as a process: request issue → PR with both checks, merge →
// gitvend/apply status, and a change by hand → drift issue. Each iteration
// is one request through the whole path.
func BenchmarkServeStory(b *testing.B) {
	if _, err := kubetest.BinDir(); err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	bin := filepath.Join(b.TempDir(), "gitvend")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/gitvend").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	w, err := NewWorld(ctx, b.TempDir(), "../../examples/desired-state")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	srv, err := NewServe(w, bin)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()
	s := &Story{W: w, Out: os.Stderr, start: time.Now()}
	var toPR, toApply, toDrift []time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("bench-%d", i)
		body := fmt.Sprintf("### Request name\n\n%s\n\n### Environment\n\ndev\n\n### Namespace\n\nteam-payments\n\n### Owner\n\npayments\n\n### Image\n\n%s\n", name, goodImage)
		start := time.Now()
		n, err := w.GH.OpenIssue(ctx, Repo, githubtest.IssueSpec{User: Alice, Title: "[gitvend] web-service: " + name, Body: body, Labels: []string{"gitvend"}})
		if err != nil {
			b.Fatal(err)
		}
		var pr githubtest.PullRequest
		must(b, s.wait(ctx, "PR with checks", func() (bool, error) {
			p, ok, err := s.pullOf(n)
			if err != nil || !ok {
				return false, err
			}
			pr = p
			runs, err := s.runs(p.HeadSHA)
			return checked(runs), err
		}))
		toPR = append(toPR, time.Since(start))
		if os.Getenv("GITVEND_BENCH_PR_ONLY") != "" {
			toApply, toDrift = append(toApply, 0), append(toDrift, 0)
			continue
		}

		start = time.Now()
		sha, err := w.GH.MergePullRequest(ctx, Repo, pr.Number, Carol)
		if err != nil {
			b.Fatal(err)
		}
		must(b, s.wait(ctx, "apply status", func() (bool, error) {
			st, ok, err := s.status(sha)
			return ok && st.State == "success", err
		}))
		toApply = append(toApply, time.Since(start))

		start = time.Now()
		patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"ghcr.io/acme/orders:drift-%d"}]}}}}`, i)
		if out, err := w.Kube.Kubectl(ctx, "patch", "deployment", name, "-n", "team-payments", "-p", patch).CombinedOutput(); err != nil {
			b.Fatalf("patch: %v: %s", err, out)
		}
		must(b, s.wait(ctx, "drift issue", func() (bool, error) {
			is, ok, err := s.issueTitled(driftName)
			return ok && strings.Contains(is.Body, name), err
		}))
		toDrift = append(toDrift, time.Since(start))
		// Self-heal closes the issue; wait so the next round starts clean.
		must(b, s.wait(ctx, "drift healed", func() (bool, error) {
			is, ok, err := s.issueTitled(driftName)
			return ok && is.State == "closed", err
		}))
	}
	b.StopTimer()
	if keep := os.Getenv("GITVEND_BENCH_LOG"); keep != "" {
		if data, err := os.ReadFile(srv.Log); err == nil {
			_ = os.WriteFile(keep, data, 0o600)
		}
	}
	report := func(name string, d []time.Duration) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		b.ReportMetric(float64(d[len(d)/2].Milliseconds()), name+"-p50-ms")
		b.ReportMetric(float64(d[(len(d)*95)/100].Milliseconds()), name+"-p95-ms")
	}
	report("pr", toPR)
	report("apply", toApply)
	report("drift", toDrift)
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
