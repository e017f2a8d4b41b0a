package load_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/load"
)

// TestRunTiny runs the generator end to end at a tiny size: 20 requests
// over two environments, four request issues, one merge and one change by
// hand. Every issue must get exactly one pull request with its checks, the
// merge must be applied and the change reported, and the printed service
// levels must be there and agree with what happened.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("gitvend serve as a process against a real API server")
	}
	if _, err := kubetest.BinDir(); err != nil {
		if required, _ := strconv.ParseBool(os.Getenv(kubetest.RequireEnv)); required {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "gitvend")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/gitvend").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg := load.Config{Requests: 20, Envs: 2, Rate: 4, Duration: time.Second, Drain: 90 * time.Second, Merges: 1, Drift: 1}
	var progress strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := load.Run(ctx, load.Options{Config: cfg, Bin: bin, Dir: t.TempDir(), Out: &progress, CLI: true, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var out strings.Builder
	rep.Print(&out)
	text := out.String()
	t.Log(progress.String() + text)
	logOnFail(t, rep.Log)

	own, srv := rep.Own, rep.Server
	if own.Issues != 4 || own.WithPR != 4 || own.OnePR != 4 {
		t.Errorf("issues %d, with a PR %d, with one PR %d; want 4 each", own.Issues, own.WithPR, own.OnePR)
	}
	if own.Merged != 1 || own.Applied != 1 || own.Drifted != 1 || own.Reported != 1 {
		t.Errorf("merged %d, applied %d, changed %d, reported %d; want 1 each", own.Merged, own.Applied, own.Drifted, own.Reported)
	}
	if len(own.Unfinished) != 0 {
		t.Errorf("unfinished: %v", own.Unfinished)
	}
	// The server opened one pull request per issue and timed each; the
	// merge's apply was timed too.
	if srv.PRsOpened != 4 {
		t.Errorf("server opened %d pull requests, want 4", srv.PRsOpened)
	}
	if srv.RequestToPR.N < 4 || srv.MergeToApplied.N < 1 {
		t.Errorf("server observations: request → PR %d, merge → applied %d", srv.RequestToPR.N, srv.MergeToApplied.N)
	}
	if srv.APICalls < 4*8 {
		t.Errorf("%d GitHub API calls for 4 requests: too few to be the whole path", srv.APICalls)
	}
	if len(srv.Errors) != 0 {
		t.Errorf("errors: %v", srv.Errors)
	}
	// The server's median request → PR and the generator's agree within
	// the bucket's resolution plus the generator's polling; the server
	// counts from the issue's timestamp, which GitHub gives in whole
	// seconds, so it may read up to a second more.
	if s, o := srv.RequestToPR.P50, own.RequestToPR.P50; math.IsNaN(s) || s > o*1.5+1.3 || s < o/1.5-0.3 {
		t.Errorf("request → PR p50: server %.3f s, generator %.3f s", s, o)
	}
	if rep.Check.Wall <= 0 || rep.Check.PeakRSS < 1<<20 || rep.Verify.Wall <= 0 || rep.Verify.PeakRSS < 1<<20 {
		t.Errorf("CLI timings: check %+v, verify %+v", rep.Check, rep.Verify)
	}
	for _, want := range []string{
		"gitvend load: 20 requests over 2 environments; 4 issues at 4/s for 1s; 1 merges, 1 changes by hand",
		fmt.Sprintf("  request → PR       p50 %.3f s  p95 ", srv.RequestToPR.P50),
		fmt.Sprintf("  merge → applied    p50 %.3f s  p95 ", srv.MergeToApplied.P50),
		"  pull requests opened  4\n",
		fmt.Sprintf("  GitHub API calls   %d (%.1f per request issue", srv.APICalls, float64(srv.APICalls)/4),
		"  errors             none\n",
		"  issues opened      4; with a pull request and its checks 4; with exactly one pull request 4\n",
		"  merged             1; applied 1\n",
		"  changed by hand    1; in the drift issue 1\n",
		"  drift → issue      p50 ",
		"  unfinished         none\n",
		"  gitvend check  ",
		"  gitvend render --verify ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func logOnFail(t *testing.T, path string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if data, err := os.ReadFile(path); err == nil {
			if len(data) > 20000 {
				data = data[len(data)-20000:]
			}
			t.Logf("server log (tail):\n%s", data)
		}
	})
}
