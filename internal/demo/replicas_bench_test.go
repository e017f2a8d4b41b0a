package demo

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

// BenchmarkMergeToAppliedTwoReplicas measures merge → applied (the merge
// of a request's pull request until gitvend/apply/dev says success on the
// merge commit) with two `gitvend serve` replicas behind a proxy, every
// webhook sent to one of them: to=standby sends them to the replica that
// does not lead, whose push must reach the leader's rollout through the
// push signal Lease; to=leader sends them to the leader, for comparison.
// Each iteration is one request: opened, its pull request checked (not
// timed), merged and applied (timed).
func BenchmarkMergeToAppliedTwoReplicas(b *testing.B) {
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
	replicas, err := NewReplicas(w, bin, 2)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range replicas {
		if err := r.Start(ctx); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = r.Stop() }()
	}
	proxy, err := NewProxy(replicas...)
	if err != nil {
		b.Fatal(err)
	}
	defer proxy.Close()
	w.GH.SetWebhookURL(proxy.URL() + "/webhook")
	s := &Story{W: w, Out: io.Discard, start: time.Now()}
	leader := -1
	must(b, s.wait(ctx, "a leader", func() (bool, error) {
		for i, r := range replicas {
			if r.IsLeader(ctx) {
				leader = i
				return true, nil
			}
		}
		return false, nil
	}))
	request := 0
	for _, to := range []string{"standby", "leader"} {
		b.Run("to="+to, func(b *testing.B) {
			target := leader
			if to == "standby" {
				target = 1 - leader
			}
			proxy.SendTo(target)
			var took []time.Duration
			for b.Loop() {
				request++
				name := fmt.Sprintf("bench-%d", request)
				body := fmt.Sprintf("### Request name\n\n%s\n\n### Environment\n\ndev\n\n### Namespace\n\nteam-payments\n\n### Owner\n\npayments\n\n### Image\n\n%s\n", name, goodImage)
				b.StopTimer()
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
				b.StartTimer()
				start := time.Now()
				sha, err := w.GH.MergePullRequest(ctx, Repo, pr.Number, Carol)
				if err != nil {
					b.Fatal(err)
				}
				must(b, s.wait(ctx, "apply status", func() (bool, error) {
					st, ok, err := s.status(sha)
					return ok && st.State == "success", err
				}))
				took = append(took, time.Since(start))
			}
			if !replicas[leader].IsLeader(ctx) {
				b.Fatal("leadership moved during the benchmark: the figures mix both paths")
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "apply-p50-ms")
			b.ReportMetric(float64(took[(len(took)*95)/100].Milliseconds()), "apply-p95-ms")
		})
	}
}
