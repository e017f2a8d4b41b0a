package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gitvend/gitvend/internal/demo"
	"github.com/gitvend/gitvend/internal/githubtest"
)

// Options are one run: its Config and where things are.
type Options struct {
	Config
	// Bin is the gitvend binary run as the server (and for the CLI timings).
	Bin string
	// Dir holds the synthetic repository, the world's files and the
	// server's log.
	Dir string
	// Out receives progress lines; the report is printed by Report.Print.
	Out io.Writer
	// CLI, when set, also times `gitvend check` and `gitvend render
	// --verify` on the synthetic repository, each as a child process.
	CLI bool
	// Profile, when set, is a file a CPU profile of the server is written
	// to while the issues are opened and until the run ends (perf record).
	Profile string
	// Poll is how often the generator looks at the double and the
	// cluster; 200ms when zero.
	Poll time.Duration
}

// tracked is one request issue of the run, through the stages it goes.
type tracked struct {
	name   string
	issue  int
	opened time.Time
	// Set as the stages are seen.
	pr       int
	prAt     time.Time
	prCount  int
	merge    bool // chosen to be merged
	mergeSeq int  // its place among the merges, from 1
	mergeSHA string
	mergedAt time.Time
	mergeErr error
	refused  int // merge attempts the double refused
	applied  time.Time
	drift    bool // chosen to be changed by hand
	driftAt  time.Time
	driftErr error
	reported time.Time
}

// Run builds the repository, starts the world and the server, drives them
// and returns what it measured.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Poll == 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	rep := &Report{Config: o.Config}
	repoDir := filepath.Join(o.Dir, "repo")
	start := time.Now()
	if err := Generate(ctx, repoDir, o.Requests, o.Envs); err != nil {
		return nil, err
	}
	rep.Generate = time.Since(start)
	fmt.Fprintf(o.Out, "generated %d requests over %d environments in %s (%s)\n", o.Requests, o.Envs, rep.Generate.Round(time.Millisecond), repoDir)
	if o.CLI {
		var err error
		if rep.Check, err = timeCLI(ctx, o.Bin, repoDir, "check", "."); err != nil {
			return nil, err
		}
		if rep.Verify, err = timeCLI(ctx, o.Bin, repoDir, "render", "--verify"); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Out, "gitvend check: %s, %d MB peak; render --verify: %s, %d MB peak\n",
			rep.Check.Wall.Round(time.Millisecond), rep.Check.PeakRSS>>20, rep.Verify.Wall.Round(time.Millisecond), rep.Verify.PeakRSS>>20)
	}

	worldDir := filepath.Join(o.Dir, "world")
	if err := os.MkdirAll(worldDir, 0o755); err != nil {
		return nil, err
	}
	w, err := demo.NewWorld(ctx, worldDir, repoDir)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	srv, err := demo.NewServe(w, o.Bin)
	if err != nil {
		return nil, err
	}
	rep.Log = srv.Log
	start = time.Now()
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	defer func() { _ = srv.Stop() }()
	fmt.Fprintf(o.Out, "gitvend serve ready in %s; metrics at %s/metrics; log %s\n", time.Since(start).Round(time.Millisecond), srv.OpsURL(), srv.Log)
	if err := awaitFirstApply(ctx, w.GH, o.Drain, o.Poll); err != nil {
		return nil, fmt.Errorf("%w (server log: %s)", err, srv.Log)
	}
	rep.FirstApply = time.Since(start)
	fmt.Fprintf(o.Out, "the repository's dev environment applied %s after start\n", rep.FirstApply.Round(time.Millisecond))
	// The service levels are those of a server that has been running:
	// its first resync (every request rendered for the fan-out, every
	// open issue and pull request looked at, caches filled) is a cost of
	// the start, reported on its own, not of the first issues opened.
	if err := awaitFirstResync(ctx, srv.OpsURL()+"/metrics", o.Drain, o.Poll); err != nil {
		return nil, fmt.Errorf("%w (server log: %s)", err, srv.Log)
	}
	rep.FirstResync = time.Since(start)
	fmt.Fprintf(o.Out, "its first resync done %s after start\n", rep.FirstResync.Round(time.Millisecond))

	before, err := Scrape(ctx, srv.OpsURL()+"/metrics")
	if err != nil {
		return nil, err
	}
	var prof *exec.Cmd
	if o.Profile != "" {
		prof = exec.Command("perf", "record", "-F", "199", "-g", "-p", fmt.Sprint(srv.PID()), "-o", o.Profile)
		prof.Stdout, prof.Stderr = o.Out, o.Out
		if err := prof.Start(); err != nil {
			return nil, fmt.Errorf("profile: start perf record: %w", err)
		}
		// perf writes a readable file only when interrupted, also when
		// the run ends early.
		defer func() {
			if prof.ProcessState == nil {
				_ = prof.Process.Signal(syscall.SIGINT)
				_ = prof.Wait()
			}
		}()
	}
	d := &driver{o: o, w: w}
	driveStart := time.Now()
	if err := d.drive(ctx); err != nil {
		return nil, fmt.Errorf("%w (server log: %s)", err, srv.Log)
	}
	rep.Drive = time.Since(driveStart)
	if prof != nil {
		_ = prof.Process.Signal(syscall.SIGINT)
		_ = prof.Wait()
		fmt.Fprintf(o.Out, "CPU profile of the server: %s (perf report -i %s)\n", o.Profile, o.Profile)
	}
	after, err := Scrape(ctx, srv.OpsURL()+"/metrics")
	if err != nil {
		return nil, err
	}
	rep.fill(d.all, after.Delta(before))
	return rep, nil
}

// awaitFirstApply waits for the target's apply status on the default
// branch's head: the repository's own dev environment is on the cluster
// before the run starts.
func awaitFirstApply(ctx context.Context, gh *githubtest.Server, limit, poll time.Duration) error {
	branches, err := gh.Branches(ctx, demo.Repo)
	if err != nil {
		return err
	}
	head := branches["main"]
	return pollUntil(ctx, limit, poll, "the repository's first apply did not succeed", func() (bool, error) {
		sts, err := gh.Statuses(demo.Repo)
		if err != nil {
			return false, err
		}
		for _, st := range sts {
			if st.SHA == head && st.Context == "gitvend/apply/"+demo.Target && st.State == "success" {
				return true, nil
			}
		}
		return false, nil
	})
}

// awaitFirstResync waits for the server's metrics to count a resync job
// done, well or not.
func awaitFirstResync(ctx context.Context, metricsURL string, limit, poll time.Duration) error {
	return pollUntil(ctx, limit, poll, "the server's first resync did not end", func() (bool, error) {
		m, err := Scrape(ctx, metricsURL)
		if err != nil {
			return false, err
		}
		return m.Sum("gitvend_bot_jobs_total", map[string]string{"kind": "resync"}) >= 1, nil
	})
}

// pollUntil asks done every poll until it answers true, failing with
// what when limit (DRAIN) passes first.
func pollUntil(ctx context.Context, limit, poll time.Duration, what string, done func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s within DRAIN (%s)", what, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// driver opens the run's issues at the rate and follows each through its
// stages, looking at the double and the cluster every Poll.
type driver struct {
	o      Options
	w      *demo.World
	all    []*tracked
	merges int // merges made so far
	drifts int
}

func (d *driver) drive(ctx context.Context) error {
	n := d.o.Issues()
	interval := time.Duration(float64(time.Second) / d.o.Rate)
	next := time.Now()
	deadline := time.Time{}
	tick := time.NewTicker(d.o.Poll)
	defer tick.Stop()
	for {
		now := time.Now()
		for len(d.all) < n && !now.Before(next) {
			if err := d.open(ctx, len(d.all)); err != nil {
				return err
			}
			next = next.Add(interval)
		}
		if len(d.all) == n && deadline.IsZero() {
			deadline = now.Add(d.o.Drain)
		}
		if err := d.look(ctx); err != nil {
			return err
		}
		if len(d.all) == n && d.finished() {
			return nil
		}
		if !deadline.IsZero() && now.After(deadline) {
			fmt.Fprintf(d.o.Out, "DRAIN (%s) over with work unfinished\n", d.o.Drain)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// IssueName is the request name of the run's issue i.
func IssueName(i int) string { return fmt.Sprintf("load-%05d", i) }

func (d *driver) open(ctx context.Context, i int) error {
	name := IssueName(i)
	body := fmt.Sprintf("### Request name\n\n%s\n\n### Environment\n\n%s\n\n### Namespace\n\n%s\n\n### Owner\n\n%s\n\n### Image\n\nghcr.io/acme/load:1.0.%d\n",
		name, demo.Target, Namespace, Owner, i)
	t := &tracked{name: name, opened: time.Now()}
	n, err := d.w.GH.OpenIssue(ctx, demo.Repo, githubtest.IssueSpec{User: demo.Alice, Title: "[gitvend] web-service: " + name, Body: body, Labels: []string{"gitvend"}})
	if err != nil {
		return fmt.Errorf("open issue %s: %w", name, err)
	}
	t.issue = n
	d.all = append(d.all, t)
	return nil
}

// finished tells whether every issue reached every stage it was chosen
// for, or failed at one.
func (d *driver) finished() bool {
	for _, t := range d.all {
		switch {
		case t.prAt.IsZero():
			return false
		case t.merge && t.mergeErr == nil && (t.mergedAt.IsZero() || t.applied.IsZero()):
			return false
		case t.drift && t.driftErr == nil && t.reported.IsZero():
			return false
		}
	}
	return d.merges == min(d.o.Merges, len(d.all)) || d.o.Merges == 0
}

// look reads the double and moves each issue on: a pull request with its
// checks posted, a merge made and applied, a change by hand reported.
func (d *driver) look(ctx context.Context) error {
	gh := d.w.GH
	prs, err := gh.PullRequests(demo.Repo)
	if err != nil {
		return err
	}
	runs, err := gh.CheckRuns(demo.Repo)
	if err != nil {
		return err
	}
	done := map[string]map[string]bool{} // head sha → completed check names
	for _, r := range runs {
		if r.Status == "completed" {
			if done[r.HeadSHA] == nil {
				done[r.HeadSHA] = map[string]bool{}
			}
			done[r.HeadSHA][r.Name] = true
		}
	}
	byBranch := map[string][]githubtest.PullRequest{}
	for _, p := range prs {
		byBranch[p.Head] = append(byBranch[p.Head], p)
	}
	now := time.Now()
	for _, t := range d.all {
		mine := byBranch[fmt.Sprintf("gitvend/request-%d", t.issue)]
		t.prCount = len(mine)
		if t.prAt.IsZero() {
			for _, p := range mine {
				c := done[p.HeadSHA]
				if p.State == "open" && c["gitvend/policy"] && c["gitvend/cost"] && c["gitvend/plan"] {
					t.pr, t.prAt = p.Number, now
					if d.merges < d.o.Merges {
						d.merges++
						t.merge, t.mergeSeq = true, d.merges
						t.drift = d.drifts < d.o.Drift
						if t.drift {
							d.drifts++
						}
					}
				}
			}
		}
		if t.merge && t.mergedAt.IsZero() && t.mergeErr == nil && !t.prAt.IsZero() {
			d.merge(ctx, t)
		}
	}
	if err := d.lookApplied(); err != nil {
		return err
	}
	for _, t := range d.all {
		if t.drift && !t.applied.IsZero() && t.driftAt.IsZero() && t.driftErr == nil {
			patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"ghcr.io/acme/load:by-hand-%s"}]}}}}`, t.name)
			t.driftAt = time.Now()
			if out, err := d.w.Kube.Kubectl(ctx, "patch", "deployment", t.name, "-n", Namespace, "-p", patch).CombinedOutput(); err != nil {
				t.driftErr = fmt.Errorf("kubectl patch: %v: %s", err, strings.TrimSpace(string(out)))
			}
		}
	}
	return d.lookDrift()
}

// merge merges t's pull request as the reviewer. A merge the double
// refuses (the branch is being brought up to date after another merge) is
// tried again at the next look, for up to DRAIN.
func (d *driver) merge(ctx context.Context, t *tracked) {
	sha, err := d.w.GH.MergePullRequest(ctx, demo.Repo, t.pr, demo.Carol)
	if err != nil {
		t.refused++
		if t.refused == 1 {
			fmt.Fprintf(d.o.Out, "merge of #%d refused, trying again: %v\n", t.pr, err)
		}
		if time.Since(t.prAt) > d.o.Drain {
			t.mergeErr = err
		}
		return
	}
	t.mergeSHA, t.mergedAt = sha, time.Now()
}

// lookApplied marks merges applied: a success status of the target on the
// merge commit or on any later merge (an apply of a later commit holds
// the earlier one's change).
func (d *driver) lookApplied() error {
	sts, err := d.w.GH.Statuses(demo.Repo)
	if err != nil {
		return err
	}
	ok := map[string]bool{}
	for _, st := range sts {
		if st.Context == "gitvend/apply/"+demo.Target && st.State == "success" {
			ok[st.SHA] = true
		}
	}
	merged := []*tracked{}
	for _, t := range d.all {
		if !t.mergedAt.IsZero() {
			merged = append(merged, t)
		}
	}
	sort.Slice(merged, func(i, j int) bool { return merged[i].mergedAt.Before(merged[j].mergedAt) })
	now := time.Now()
	for i, t := range merged {
		if !t.applied.IsZero() {
			continue
		}
		for _, later := range merged[i:] {
			if ok[later.mergeSHA] {
				t.applied = now
				break
			}
		}
	}
	return nil
}

// lookDrift marks changes by hand reported once the target's drift issue
// is open and names the Deployment.
func (d *driver) lookDrift() error {
	pending := false
	for _, t := range d.all {
		pending = pending || (!t.driftAt.IsZero() && t.reported.IsZero() && t.driftErr == nil)
	}
	if !pending {
		return nil
	}
	issues, err := d.w.GH.Issues(demo.Repo)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, is := range issues {
		if is.Title != "Drift on target "+demo.Target || is.State != "open" {
			continue
		}
		for _, t := range d.all {
			if !t.driftAt.IsZero() && t.reported.IsZero() && strings.Contains(is.Body, t.name) {
				t.reported = now
			}
		}
	}
	return nil
}

// CLITime is one CLI run: wall time and peak resident memory.
type CLITime struct {
	Wall    time.Duration
	PeakRSS int64 // bytes
}

// timeCLI runs the gitvend binary with args in dir as a child process and
// reads its peak resident memory from its rusage.
func timeCLI(ctx context.Context, bin, dir string, args ...string) (CLITime, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return CLITime{}, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return CLITime{}, fmt.Errorf("gitvend %s: %w", strings.Join(args, " "), err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		text := out.String()
		if len(text) > 2000 {
			text = text[len(text)-2000:]
		}
		return CLITime{}, fmt.Errorf("gitvend %s exited %d on the synthetic repository:\n%s", strings.Join(args, " "), code, text)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	t := CLITime{Wall: wall}
	if ru != nil {
		t.PeakRSS = ru.Maxrss << 10 // Linux reports kilobytes
	}
	return t, nil
}
