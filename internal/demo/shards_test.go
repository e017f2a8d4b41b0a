package demo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/demo"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

// shardRun is `gitvend serve` as replicas of one deployment sharing the
// targets of one repository (leaderElection.shardTargets) behind a proxy,
// with the GitHub double and one API server: a target per environment
// t00, t01, …, each with three Namespaces team-<target>-0..2 of its own.
type shardRun struct {
	w        *demo.World
	replicas []*demo.Serve
	targets  []string
	killed   map[int]bool
}

// shardTimings are the Lease timings of the replicas; zero keeps
// gitvend's defaults.
type shardTimings struct {
	lease, renew, retry time.Duration
	// drift is every target's drift interval; zero keeps the default.
	drift time.Duration
	// resync is the resync (and rollout) interval; zero keeps the default.
	resync time.Duration
}

// startShards starts n replicas sharing targets targets, whose desired
// state holds only their Namespaces, waits until every target is applied
// and the targets are spread evenly, and returns the run. Objects come
// with merge, once the replicas have settled, so that each is applied by
// the one replica owning its target.
func startShards(tb testing.TB, targets, n int, timings shardTimings) *shardRun {
	tb.Helper()
	ctx := context.Background()
	r := &shardRun{killed: map[int]bool{}}
	for i := range targets {
		r.targets = append(r.targets, fmt.Sprintf("t%02d", i))
	}
	repoDir := tb.TempDir()
	// The Namespaces only, at first.
	writeEnvRepo(tb, repoDir, r.targets, func(_ int, t string) string { return benchObjectsYAML(t, 3) })
	worldDir := tb.TempDir()
	if os.Getenv("GITVEND_SHARD_DEBUG") != "" {
		worldDir, _ = os.MkdirTemp("", "shards-")
		tb.Logf("world in %s", worldDir)
	}
	w, err := demo.NewWorld(ctx, worldDir, repoDir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(w.Close)
	r.w = w
	if r.replicas, err = demo.NewReplicas(w, gitvendBinary(tb), n); err != nil {
		tb.Fatal(err)
	}
	for _, s := range r.replicas {
		writeShardConfig(tb, s.Config, w.Kube.KubeconfigPath(), r.targets, timings)
	}
	proxy, err := demo.NewProxy(r.replicas...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = proxy.Close() })
	w.GH.SetWebhookURL(proxy.URL() + "/webhook")
	for i, s := range r.replicas {
		if err := s.Start(ctx); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			if err := s.Stop(); err != nil {
				tb.Error(err)
			}
			if tb.Failed() {
				if log, err := os.ReadFile(s.Log); err == nil {
					tb.Logf("replica %d log, warnings and errors:\n%s", i, tail(warnings(string(log)), 30))
				}
			}
		})
	}
	branches, err := w.GH.Branches(ctx, demo.Repo)
	if err != nil {
		tb.Fatal(err)
	}
	// While the replicas come up the first one holds every target and gives
	// most back as the others join, cancelling applies under way: their
	// failure status stands until the new owner has applied.
	for deadline := time.Now().Add(3 * time.Minute); ; {
		err := waitAppliedTo(ctx, w.GH, branches["main"], r.targets, time.Until(deadline))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	fair := (targets + n - 1) / n
	r.waitFor(tb, 2*time.Minute, "the targets spread evenly", func() bool {
		held := r.held(tb)
		total := 0
		for _, h := range held {
			if h != fair && h != targets/n {
				return false
			}
			total += h
		}
		return total == targets
	})
	return r
}

// warnings keeps the lines of log at level WARN or ERROR.
func warnings(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// writeShardConfig rewrites a replica's configuration: targets shared
// over the replicas, one per environment, with timings.
func writeShardConfig(tb testing.TB, path, kubeconfig string, targets []string, timings shardTimings) {
	tb.Helper()
	editServeConfig(tb, path, func(cfg, le map[string]any) {
		le["shardTargets"] = true
		if os.Getenv("GITVEND_SHARD_DEBUG") != "" {
			cfg["log"] = map[string]any{"level": "debug", "format": "json"}
		}
		for k, d := range map[string]time.Duration{"leaseDuration": timings.lease, "renewDeadline": timings.renew, "retryPeriod": timings.retry} {
			delete(le, k)
			if d > 0 {
				le[k] = d.String()
			}
		}
		delete(cfg, "resync")
		if timings.resync > 0 {
			cfg["resync"] = map[string]any{"interval": timings.resync.String()}
		}
		var ts []map[string]any
		for _, t := range targets {
			tc := benchTarget(t, kubeconfig)
			tc["selfHeal"] = false
			if timings.drift > 0 {
				tc["driftInterval"] = timings.drift.String()
			}
			ts = append(ts, tc)
		}
		cfg["targets"] = ts
	})
}

// merge pushes a commit giving every target objects objects (its three
// Namespaces included), as a merged pull request would, and waits until
// every target reports it applied; it returns the commit and how long
// that took.
func (r *shardRun) merge(tb testing.TB, objects int, timeout time.Duration) (string, time.Duration) {
	tb.Helper()
	ctx := context.Background()
	files := map[string]string{}
	for _, t := range r.targets {
		files["environments/"+t+"/objects.yaml"] = headless(benchObjectsYAML(t, objects))
	}
	start := time.Now()
	sha, err := r.w.GH.Push(ctx, demo.Repo, githubtest.PushSpec{User: demo.Carol, Branch: "main", Message: "Objects for every target", Files: files})
	if err != nil {
		tb.Fatal(err)
	}
	if err := waitAppliedTo(ctx, r.w.GH, sha, r.targets, timeout); err != nil {
		tb.Fatal(err)
	}
	return sha, time.Since(start)
}

// headless makes the Services of objs headless (clusterIP: None): the
// test API server allocates ClusterIPs from a /24, 254 of them, and 30
// targets of 1,000 objects have 7,500 Services.
func headless(objs string) string {
	return strings.ReplaceAll(objs, "spec:\n  selector: {app.kubernetes.io/name:", "spec:\n  clusterIP: None\n  selector: {app.kubernetes.io/name:")
}

// waitFor polls cond every 100 ms until it holds or within has passed.
func (r *shardRun) waitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// live returns the indices of the replicas not killed.
func (r *shardRun) live() []int {
	var out []int
	for i := range r.replicas {
		if !r.killed[i] {
			out = append(out, i)
		}
	}
	return out
}

// held is gitvend_shards_held{kind="target"} of every live replica.
func (r *shardRun) held(tb testing.TB) map[int]int {
	tb.Helper()
	out := map[int]int{}
	for _, i := range r.live() {
		m := scrape(tb, r.replicas[i].OpsURL())
		out[i] = int(m[`gitvend_shards_held{kind="target"}`])
	}
	return out
}

// identity is the name replica i has in the Leases and its log lines.
func (r *shardRun) identity(tb testing.TB, i int) string {
	tb.Helper()
	host, err := os.Hostname()
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%s_%d", host, r.replicas[i].PID())
}

// holders reads the target Leases: target → holder identity.
func (r *shardRun) holders(tb testing.TB) map[string]string {
	tb.Helper()
	out, err := r.w.Kube.Kubectl(context.Background(), "-n", "gitvend-system", "get", "leases", "-l", "gitvend.dev/shard=target", "-o", "json").Output()
	if err != nil {
		tb.Fatalf("kubectl get leases: %v", err)
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				HolderIdentity string `json:"holderIdentity"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		tb.Fatal(err)
	}
	holders := map[string]string{}
	for _, l := range list.Items {
		if key := l.Metadata.Annotations["gitvend.dev/key"]; key != "" && l.Metadata.Labels["gitvend.dev/lease"] != "member" {
			holders[key] = l.Spec.HolderIdentity
		}
	}
	return holders
}

// driftChecks counts the drift checks replica i ran of each target.
func (r *shardRun) driftChecks(tb testing.TB, i int) map[string]float64 {
	tb.Helper()
	out := map[string]float64{}
	for series, v := range scrape(tb, r.replicas[i].OpsURL()) {
		if !strings.HasPrefix(series, "gitvend_reconcile_duration_seconds_count{") || !strings.Contains(series, `operation="drift"`) {
			continue
		}
		_, rest, _ := strings.Cut(series, `target="`)
		target, _, _ := strings.Cut(rest, `"`)
		out[target] += v
	}
	return out
}

// scrape reads the metrics of the ops listener at url: series → value.
func scrape(tb testing.TB, url string) map[string]float64 {
	tb.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			tb.Fatalf("metrics: %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// logApply is an apply a replica logged ("apply finished").
type logApply struct {
	replica  int
	identity string
	start    time.Time
	end      time.Time
}

// applies reads the applies of commit sha from every replica's log, by
// target.
func (r *shardRun) applies(tb testing.TB, sha string) map[string][]logApply {
	tb.Helper()
	out := map[string][]logApply{}
	for i, s := range r.replicas {
		f, err := os.Open(s.Log)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			var line struct {
				Time     time.Time `json:"time"`
				Msg      string    `json:"msg"`
				Replica  string    `json:"replica"`
				Target   string    `json:"target"`
				Revision string    `json:"revision"`
				Duration int64     `json:"duration"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.Revision != sha ||
				(line.Msg != "apply finished" && line.Msg != "apply finished with errors") {
				continue
			}
			out[line.Target] = append(out[line.Target], logApply{replica: i, identity: line.Replica,
				start: line.Time.Add(-time.Duration(line.Duration)), end: line.Time})
		}
		_ = f.Close()
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// timeline returns what the live replicas logged about targets since
// start, as offsets from start.
func (r *shardRun) timeline(tb testing.TB, start time.Time, targets []string) []string {
	tb.Helper()
	var out []string
	for _, i := range r.live() {
		data, err := os.ReadFile(r.replicas[i].Log)
		if err != nil {
			tb.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			var line struct {
				Time   time.Time `json:"time"`
				Msg    string    `json:"msg"`
				Target string    `json:"target"`
				Key    string    `json:"key"`
			}
			if json.Unmarshal([]byte(l), &line) != nil || line.Time.Before(start) {
				continue
			}
			if os.Getenv("GITVEND_SHARD_DEBUG") != "" {
				out = append(out, fmt.Sprintf("%8.3fs replica %d: %s", line.Time.Sub(start).Seconds(), i, l[:min(len(l), 400)]))
				continue
			}
			if !slices.Contains(targets, line.Target) && !slices.Contains(targets, line.Key) {
				continue
			}
			out = append(out, fmt.Sprintf("%8.3fs replica %d: %s %s%s", line.Time.Sub(start).Seconds(), i, line.Msg, line.Target, line.Key))
		}
	}
	slices.Sort(out)
	return out
}

// auditOnce checks that every target's apply of sha was made once, by
// one replica: one apply in all the replicas' logs, naming the replica;
// one pending and one success status; and that every object carries one
// entry of gitvend's field manager, written (when sha changed the object)
// while that apply ran. It returns the problems found, and apart the
// objects whose gitvend entry is dated outside that apply.
func (r *shardRun) auditOnce(tb testing.TB, sha string) (problems, late []string) {
	tb.Helper()
	applies := r.applies(tb, sha)
	all, err := r.w.GH.Statuses(demo.Repo)
	if err != nil {
		tb.Fatal(err)
	}
	states := map[string][]string{}
	for _, st := range all {
		if st.SHA == sha {
			states[strings.TrimPrefix(st.Context, "gitvend/apply/")] = append(states[strings.TrimPrefix(st.Context, "gitvend/apply/")], st.State)
		}
	}
	for _, t := range r.targets {
		a := applies[t]
		if len(a) != 1 {
			problems = append(problems, fmt.Sprintf("target %s: %d applies of %.12s in the logs, want 1: %+v", t, len(a), sha, a))
		} else if a[0].identity != r.identity(tb, a[0].replica) {
			problems = append(problems, fmt.Sprintf("target %s: its apply is logged as replica %q, want %q", t, a[0].identity, r.identity(tb, a[0].replica)))
		}
		if got := strings.Join(states[t], ","); got != "pending,success" {
			problems = append(problems, fmt.Sprintf("target %s: statuses %s on %.12s, want pending,success", t, got, sha))
		}
	}
	out, err := r.w.Kube.Kubectl(context.Background(), "get", "namespaces,deployments.apps,services,configmaps,serviceaccounts", "--all-namespaces",
		"-l", "app.kubernetes.io/part-of="+benchPartOf, "-o", "json", "--show-managed-fields").Output()
	if err != nil {
		tb.Fatalf("kubectl get: %v", err)
	}
	var list struct {
		Items []struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name          string `json:"name"`
				Namespace     string `json:"namespace"`
				ManagedFields []struct {
					Manager   string    `json:"manager"`
					Operation string    `json:"operation"`
					Time      time.Time `json:"time"`
				} `json:"managedFields"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		tb.Fatal(err)
	}
	for _, it := range list.Items {
		m := it.Metadata
		ns := m.Namespace
		if it.Kind == "Namespace" {
			ns = m.Name
		}
		target := strings.TrimPrefix(ns[:strings.LastIndexByte(ns, '-')], "team-")
		var entries []time.Time
		for _, f := range m.ManagedFields {
			if f.Manager == "gitvend" {
				entries = append(entries, f.Time)
			}
		}
		if len(entries) != 1 {
			problems = append(problems, fmt.Sprintf("%s %s/%s: %d entries of field manager gitvend, want 1", it.Kind, ns, m.Name, len(entries)))
			continue
		}
		a := applies[target]
		if it.Kind == "Namespace" || len(a) != 1 {
			continue // written by the first commit, or reported above
		}
		// Managed fields keep whole seconds.
		if at := entries[0]; at.Before(a[0].start.Truncate(time.Second)) || at.After(a[0].end.Add(time.Second)) {
			late = append(late, fmt.Sprintf("%s %s/%s: written by gitvend at %s, outside its target's one apply (%s to %s)",
				it.Kind, ns, m.Name, at.Format(time.RFC3339), a[0].start.Format(time.RFC3339Nano), a[0].end.Format(time.RFC3339Nano)))
		}
	}
	if len(list.Items) == 0 {
		problems = append(problems, "no object in the cluster")
	}
	return problems, late
}

// takeover is what killing a replica showed.
type takeover struct {
	victim   int
	orphans  []string      // targets the victim held
	took     time.Duration // SIGKILL → every orphan held and checked by a live replica
	drift    time.Duration // the edit → the drift issue of the edited orphan
	edited   string        // the orphan whose object was edited
	newOwner map[string]string
	timeline []string // what the new owners logged of the orphans
}

// kill kills replica victim (SIGKILL) and, right after, edits a
// ConfigMap of one of its targets by hand; it waits until every target
// the victim held is held by a live replica that has checked it for drift
// since (it lists and watches it again), and until the edit is reported
// as a drift issue.
func (r *shardRun) kill(tb testing.TB, victim int, within time.Duration) takeover {
	tb.Helper()
	ctx := context.Background()
	id := r.identity(tb, victim)
	tk := takeover{victim: victim, newOwner: map[string]string{}}
	for t, h := range r.holders(tb) {
		if h == id {
			tk.orphans = append(tk.orphans, t)
		}
	}
	slices.Sort(tk.orphans)
	if len(tk.orphans) == 0 {
		tb.Fatalf("replica %d holds no target", victim)
	}
	before := map[int]map[string]float64{}
	for _, i := range r.live() {
		if i != victim {
			before[i] = r.driftChecks(tb, i)
		}
	}
	tk.edited = tk.orphans[0]
	start := time.Now()
	if err := r.replicas[victim].Kill(); err != nil {
		tb.Fatal(err)
	}
	r.killed[victim] = true
	edit := time.Now()
	if out, err := r.w.Kube.Kubectl(ctx, "-n", "team-"+tk.edited+"-0", "patch", "configmap", "app-0", "--type=merge",
		"-p", `{"data":{"LOG_LEVEL":"debug"}}`).CombinedOutput(); err != nil {
		tb.Fatalf("edit by hand: %v\n%s", err, out)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	var issueErr error
	go func() {
		defer wg.Done()
		title := "Drift on target " + tk.edited
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			all, err := r.w.GH.Issues(demo.Repo)
			if err != nil {
				issueErr = err
				return
			}
			for _, is := range all {
				if is.Title == title && is.State == "open" {
					tk.drift = time.Since(edit)
					if !is.CreatedAt.IsZero() && is.CreatedAt.After(edit) {
						tk.drift = is.CreatedAt.Sub(edit)
					}
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		issueErr = fmt.Errorf("no drift issue %q within %s", title, within)
	}()
	ids := map[string]int{}
	for _, i := range r.live() {
		ids[r.identity(tb, i)] = i
	}
	r.waitFor(tb, within, "the dead replica's targets taken over and checked", func() bool {
		holders := r.holders(tb)
		for _, t := range tk.orphans {
			i, ok := ids[holders[t]]
			if !ok || r.driftChecks(tb, i)[t] <= before[i][t] {
				return false
			}
			tk.newOwner[t] = fmt.Sprintf("replica %d", i)
		}
		return true
	})
	tk.took = time.Since(start)
	wg.Wait()
	tk.timeline = r.timeline(tb, start, tk.orphans)
	for _, i := range r.live() {
		m := scrape(tb, r.replicas[i].OpsURL())
		for _, t := range tk.orphans {
			series := fmt.Sprintf(`{operation="drift",target="%s"}`, t)
			if n := m["gitvend_reconcile_duration_seconds_count"+series]; n > before[i][t] {
				tk.timeline = append(tk.timeline, fmt.Sprintf("replica %d: %.0f drift checks of %s so far, %.1fs in all",
					i, n, t, m["gitvend_reconcile_duration_seconds_sum"+series]))
			}
		}
	}
	if issueErr != nil {
		tb.Fatal(issueErr)
	}
	return tk
}

// memory is one replica's memory, from its own metrics.
type memory struct {
	held      int
	rss       float64 // process_resident_memory_bytes
	heapInUse float64 // go_memstats_heap_inuse_bytes: live and not yet collected
	heapLive  float64 // live heap after the last GC: go_memstats_next_gc_bytes / 2 (GOGC=100)
}

func (r *shardRun) memory(tb testing.TB, i int) memory {
	tb.Helper()
	m := scrape(tb, r.replicas[i].OpsURL())
	return memory{held: int(m[`gitvend_shards_held{kind="target"}`]), rss: m["process_resident_memory_bytes"],
		heapInUse: m["go_memstats_heap_inuse_bytes"], heapLive: m["go_memstats_next_gc_bytes"] / 2}
}

// waitAppliedTo polls the GitHub double until the latest commit status of
// each of targets on sha is success; a failure or error status ends the
// wait.
func waitAppliedTo(ctx context.Context, gh *githubtest.Server, sha string, targets []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		all, err := gh.Statuses(demo.Repo)
		if err != nil {
			return err
		}
		latest := map[string]githubtest.Status{}
		for _, st := range all {
			if st.SHA == sha && st.ID >= latest[st.Context].ID {
				latest[st.Context] = st
			}
		}
		done := true
		for _, t := range targets {
			st := latest["gitvend/apply/"+t]
			switch st.State {
			case "success":
			case "failure", "error":
				return fmt.Errorf("target %s: %s: %s", t, st.State, st.Description)
			default:
				done = false
			}
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("targets not applied within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestShardedReplicas plays three `gitvend serve` replicas sharing six
// targets: a merge is applied to each target once, by the one replica
// that owns it; when a replica is killed (SIGKILL), the others take its
// targets over within seconds, and a change by hand made to one of them
// during the takeover becomes a drift issue. Nothing is applied twice,
// by the replicas' logs and by the objects' managed fields.
func TestShardedReplicas(t *testing.T) {
	world(t) // skips as the other stories do; the run starts its own world
	r := startShards(t, 6, 3, shardTimings{lease: 3 * time.Second, renew: 2 * time.Second, retry: 500 * time.Millisecond,
		drift: 20 * time.Second, resync: 30 * time.Second})
	sha, took := r.merge(t, 13, 2*time.Minute)
	t.Logf("merge applied to 6 targets in %s", took.Round(time.Millisecond))
	problems, late := r.auditOnce(t, sha)
	for _, p := range append(problems, late...) {
		t.Error(p)
	}
	owners := map[int]bool{}
	for _, as := range r.applies(t, sha) {
		owners[as[0].replica] = true
	}
	if len(owners) != 3 {
		t.Errorf("the merge was applied by %d replicas, want the 3 sharing the targets", len(owners))
	}

	victim := r.live()[0]
	tk := r.kill(t, victim, time.Minute)
	t.Logf("replica %d killed: its targets %v taken over and checked in %s (new owners %v); drift on %s reported as an issue in %s",
		victim, tk.orphans, tk.took.Round(time.Millisecond), tk.newOwner, tk.edited, tk.drift.Round(time.Millisecond))
	held := r.held(t)
	if total := held[r.live()[0]] + held[r.live()[1]]; total != 6 {
		t.Errorf("the two live replicas hold %v, want all 6 targets", held)
	}
	// The new owners only watch what the dead one applied.
	problems, late = r.auditOnce(t, sha)
	for _, p := range append(problems, late...) {
		t.Error(p)
	}
}

// BenchmarkShardedReplicas runs three `gitvend serve` replicas sharing
// 30 targets of 1,000 objects each (three Namespaces per target) on one
// API server, with gitvend's default Lease timings. It reports the time a
// merge giving every target its objects takes to be applied everywhere,
// each replica's memory once applied (resident and Go heap, from its
// metrics), then kills one replica (SIGKILL) and edits an object of one
// of its targets right after: the time until every target it held is
// held and checked again by a live one, the time until the edit is a
// drift issue, the survivors' memory with the larger share, and an audit
// that no apply was made twice (logs and managed fields). It runs once
// whatever b.N. GITVEND_SHARD_TARGETS=n runs n targets instead of 30;
// GITVEND_SHARD_DEBUG=1 logs at debug level and keeps the replicas' logs
// and configurations in a directory it names.
func BenchmarkShardedReplicas(b *testing.B) {
	if testing.Short() {
		b.Skip("30,000 objects")
	}
	targets, objects, n := 30, 1000, 3
	if v, err := strconv.Atoi(os.Getenv("GITVEND_SHARD_TARGETS")); err == nil && v > 0 {
		targets = v // a smaller run while developing
	}
	if _, err := kubetest.BinDir(); err != nil {
		b.Skip(err)
	}
	r := startShards(b, targets, n, shardTimings{drift: time.Minute})
	sha, took := r.merge(b, objects, 30*time.Minute)
	time.Sleep(10 * time.Second) // the first drift checks after the applies
	b.Logf("merge of %d objects on each of %d targets applied by %d replicas in %s", objects, targets, n, took.Round(time.Millisecond))
	problems, late := r.auditOnce(b, sha)
	if len(problems) > 0 {
		b.Fatalf("applied twice or not at all:\n%s", strings.Join(problems, "\n"))
	}
	if len(late) > 0 {
		b.Logf("%d objects dated outside their target's apply, first: %s", len(late), late[0])
	}
	b.ReportMetric(float64(len(late)), "objects-dated-outside-apply")
	report := func(when string) (maxRSS, maxLive float64) {
		for _, i := range r.live() {
			m := r.memory(b, i)
			b.Logf("%s: replica %d holds %d targets: RSS %.1f MB, Go heap in use %.1f MB, live after the last GC %.1f MB",
				when, i, m.held, mb(int64(m.rss)), mb(int64(m.heapInUse)), mb(int64(m.heapLive)))
			maxRSS, maxLive = math.Max(maxRSS, m.rss), math.Max(maxLive, m.heapLive)
		}
		return maxRSS, maxLive
	}
	rss, live := report("applied")
	b.ReportMetric(took.Seconds(), "merge-applied-s")
	b.ReportMetric(mb(int64(rss)), "rss-MB-max")
	b.ReportMetric(mb(int64(live)), "heap-live-MB-max")

	tk := r.kill(b, r.live()[0], 30*time.Minute)
	b.Logf("replica %d killed holding %d targets %v: taken over and checked in %s (%v); drift on %s an issue in %s",
		tk.victim, len(tk.orphans), tk.orphans, tk.took.Round(time.Millisecond), tk.newOwner, tk.edited, tk.drift.Round(time.Millisecond))
	b.Logf("the takeover, as the new owners logged it:\n%s", strings.Join(tk.timeline, "\n"))
	time.Sleep(10 * time.Second)
	rss2, live2 := report("after the takeover")
	if problems, _ := r.auditOnce(b, sha); len(problems) > 0 {
		b.Fatalf("after the takeover:\n%s", strings.Join(problems, "\n"))
	}
	b.ReportMetric(tk.took.Seconds(), "takeover-s")
	b.ReportMetric(tk.drift.Seconds(), "drift-issue-s")
	b.ReportMetric(mb(int64(rss2)), "rss-MB-max-after")
	b.ReportMetric(mb(int64(live2)), "heap-live-MB-max-after")
}
