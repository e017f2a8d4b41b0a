package demo_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/demo"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

const (
	// benchObjects are the objects of the benchmark's desired state, its
	// Namespaces included, spread over benchEnvs.
	benchObjects = 1000
	// benchDrift is every target's drift interval, and the idle window over
	// which CPU is measured: each target checks drift once in it.
	benchDrift = time.Minute
	// benchPartOf labels every object of the benchmark.
	benchPartOf = "serve-bench"
	// userHZ is the unit of the times in /proc/<pid>/stat, fixed on Linux.
	userHZ = 100
)

// benchEnvs are the environments of the benchmark's repository, each
// served by a target of the same name.
var benchEnvs = []string{"a", "b", "c"}

// BenchmarkServeMemory runs `gitvend serve` as a process with 1,000
// objects on three targets of one API server, waits until every target
// reported a successful apply of the default branch, then measures the
// process: its resident memory after an idle window of one drift interval
// (rss-MB), its peak resident memory (peak-MB) and its CPU over that window
// as a percentage of one core (idle-cpu-%). The time per op is from the
// process's start until the three targets reported success. It runs once
// whatever b.N.
func BenchmarkServeMemory(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads the server's memory and CPU from /proc")
	}
	if _, err := kubetest.BinDir(); err != nil {
		if required, _ := strconv.ParseBool(os.Getenv(kubetest.RequireEnv)); required {
			b.Fatal(err)
		}
		b.Skip(err)
	}
	ctx := context.Background()
	repoDir := b.TempDir()
	writeBenchRepo(b, repoDir)
	w, err := demo.NewWorld(ctx, b.TempDir(), repoDir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Close)
	s, err := demo.NewServe(w, gitvendBinary(b))
	if err != nil {
		b.Fatal(err)
	}
	writeBenchConfig(b, s.Config, w.Kube.KubeconfigPath())
	branches, err := w.GH.Branches(ctx, demo.Repo)
	if err != nil {
		b.Fatal(err)
	}
	head := branches["main"]

	b.ResetTimer()
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Stop(); err != nil {
			b.Error(err)
		}
		// A benchmark's own log keeps ten lines; the server's goes to stderr.
		if b.Failed() {
			if log, err := os.ReadFile(s.Log); err == nil {
				fmt.Fprintf(os.Stderr, "server log:\n%s\n", tail(string(log), 60))
			}
		}
	})
	if err := waitApplied(ctx, w.GH, head, 3*time.Minute); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()

	objects := countBenchObjects(ctx, b, w.Kube)
	if objects != benchObjects {
		b.Fatalf("%d objects in the cluster, want %d", objects, benchObjects)
	}
	pid := s.PID()
	applied, _ := memoryOf(b, pid)
	checks0 := driftChecks(b, s.OpsURL())
	cpu0, start := cpuOf(b, pid), time.Now()
	time.Sleep(benchDrift) // the idle window being measured
	cpu := cpuOf(b, pid) - cpu0
	idle := time.Since(start)
	checks := driftChecks(b, s.OpsURL()) - checks0
	rss, peak := memoryOf(b, pid)
	b.Logf("RSS %.1f MB right after the applies, %.1f MB after %s idle; peak %.1f MB; CPU %.2fs over %s, %d drift checks in it",
		mb(applied), mb(rss), benchDrift, mb(peak), cpu.Seconds(), idle.Round(time.Millisecond), checks)
	b.ReportMetric(mb(rss), "rss-MB")
	b.ReportMetric(mb(peak), "peak-MB")
	b.ReportMetric(100*cpu.Seconds()/idle.Seconds(), "idle-cpu-%")
	b.ReportMetric(float64(objects), "objects")
	b.ReportMetric(float64(checks), "idle-drift-checks")
}

// writeBenchRepo writes a desired-state repository under dir: one
// environment per name of benchEnvs, whose kustomize root holds three
// Namespaces team-<env>-0..2 and typical objects in them (Deployments,
// Services, ConfigMaps and ServiceAccounts in turn), benchObjects in all.
func writeBenchRepo(tb testing.TB, dir string) {
	tb.Helper()
	writeEnvRepo(tb, dir, benchEnvs, func(i int, env string) string {
		n := benchObjects / len(benchEnvs)
		if i < benchObjects%len(benchEnvs) {
			n++
		}
		return benchObjectsYAML(env, n)
	})
}

// writeEnvRepo writes a desired-state repository under dir with one
// environment per name of envs, each with a team owning its Namespaces
// team-<env>-*, and a kustomize root whose one resource file holds
// objects(i, env) for the i-th environment.
func writeEnvRepo(tb testing.TB, dir string, envs []string, objects func(i int, env string) string) {
	tb.Helper()
	var repo strings.Builder
	repo.WriteString("apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n")
	for _, e := range envs {
		fmt.Fprintf(&repo, "- name: %s\n", e)
	}
	repo.WriteString("teams:\n")
	for _, e := range envs {
		fmt.Fprintf(&repo, "- name: team-%s\n  namespaces: [team-%s-*]\n", e, e)
	}
	files := map[string]string{"gitvend.yaml": repo.String()}
	for i, e := range envs {
		root := "environments/" + e + "/"
		files[root+"kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- objects.yaml\n"
		files[root+"objects.yaml"] = objects(i, e)
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// benchObjectsYAML is n objects of environment env as one multi-document
// file: three Namespaces, then apps of four objects (a Deployment, its
// Service, ConfigMap and ServiceAccount) spread over them.
func benchObjectsYAML(env string, n int) string {
	const namespaces = 3
	var b strings.Builder
	label := "    app.kubernetes.io/part-of: " + benchPartOf + "\n"
	for i := range namespaces {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-%s-%d\n  labels:\n%s---\n", env, i, label)
	}
	for i := range n - namespaces {
		app := i / 4
		meta := fmt.Sprintf("  name: app-%d\n  namespace: team-%s-%d\n  labels:\n%s    app.kubernetes.io/name: app-%d\n", app, env, app%namespaces, label, app)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
%sspec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: app-%d}}
  template:
    metadata: {labels: {app.kubernetes.io/name: app-%d}}
    spec:
      serviceAccountName: app-%d
      securityContext: {runAsNonRoot: true}
      containers:
      - name: app
        image: ghcr.io/acme/app:1.%d
        envFrom: [{configMapRef: {name: app-%d}}]
        ports: [{containerPort: 8080}]
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {memory: 256Mi}}
        readinessProbe: {httpGet: {path: /healthz, port: 8080}}
        livenessProbe: {httpGet: {path: /healthz, port: 8080}}
`, meta, app, app, app, app, app)
		case 1:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata:\n%sspec:\n  selector: {app.kubernetes.io/name: app-%d}\n  ports: [{port: 80, targetPort: 8080}]\n", meta, app)
		case 2:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n%sdata:\n  LOG_LEVEL: info\n  FEATURES: search,export\n", meta)
		case 3:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n%sautomountServiceAccountToken: false\n", meta)
		}
		b.WriteString("---\n")
	}
	return b.String()
}

// writeBenchConfig rewrites the server configuration at path with one
// target per environment on the API server of kubeconfig, and the
// production defaults of the resync interval and the Lease's timings.
func writeBenchConfig(tb testing.TB, path, kubeconfig string) {
	tb.Helper()
	editServeConfig(tb, path, func(cfg, le map[string]any) {
		if le["enabled"] != true {
			tb.Fatalf("%s: leader election is not enabled", path)
		}
		for _, k := range []string{"leaseDuration", "renewDeadline", "retryPeriod"} {
			delete(le, k)
		}
		delete(cfg, "resync")
		var targets []map[string]any
		for _, e := range benchEnvs {
			tc := benchTarget(e, kubeconfig)
			tc["driftInterval"] = benchDrift.String()
			targets = append(targets, tc)
		}
		cfg["targets"] = targets
	})
}

// editServeConfig reads the server configuration at path, has edit change
// it (cfg is the whole, le its leaderElection) and writes it back.
func editServeConfig(tb testing.TB, path string, edit func(cfg, le map[string]any)) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		tb.Fatal(err)
	}
	le, _ := cfg["leaderElection"].(map[string]any)
	if le == nil {
		tb.Fatalf("%s: no leaderElection", path)
	}
	edit(cfg, le)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// benchTarget is the configuration of a benchmark's target name, serving
// the environment of the same name in namespaces team-<name>-*, on the API
// server of kubeconfig, pruning and waiting for no health.
func benchTarget(name, kubeconfig string) map[string]any {
	return map[string]any{"name": name, "repository": demo.Repo, "kubeconfig": kubeconfig, "environments": []string{name},
		"namespaces": []string{"team-" + name + "-*"}, "clusterScopedKinds": []string{"Namespace"},
		"prune": true, "healthTimeout": "0s"}
}

// waitApplied polls the GitHub double until every benchmark target's latest commit
// status on sha is success; a failure or error status ends the wait.
func waitApplied(ctx context.Context, gh *githubtest.Server, sha string, timeout time.Duration) error {
	return waitAppliedTo(ctx, gh, sha, benchEnvs, timeout)
}

// countBenchObjects counts the benchmark's objects in the cluster.
func countBenchObjects(ctx context.Context, tb testing.TB, kube *kubetest.Env) int {
	tb.Helper()
	out, err := kube.Kubectl(ctx, "get", "namespaces,deployments.apps,services,configmaps,serviceaccounts", "--all-namespaces",
		"-l", "app.kubernetes.io/part-of="+benchPartOf, "-o", "name").Output()
	if err != nil {
		tb.Fatalf("kubectl get: %v", err)
	}
	return bytes.Count(out, []byte("\n"))
}

// driftChecks is how many drift checks of every target the server at url
// has run, from its metrics.
func driftChecks(tb testing.TB, url string) int {
	tb.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "gitvend_reconcile_duration_seconds_count{") || !strings.Contains(line, `operation="drift"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			tb.Fatalf("metrics: %q: %v", line, err)
		}
		n += int(v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// memoryOf reads the resident set size and its peak, in bytes, from
// /proc/<pid>/status.
func memoryOf(tb testing.TB, pid int) (rss, peak int64) {
	tb.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), ":")
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch {
		case key != "VmRSS" && key != "VmHWM":
		case err != nil:
			tb.Fatalf("/proc/%d/status: %s: %v", pid, key, err)
		case key == "VmRSS":
			rss = kb << 10
		default:
			peak = kb << 10
		}
	}
	if err := sc.Err(); err != nil || rss == 0 || peak == 0 {
		tb.Fatalf("/proc/%d/status: no VmRSS and VmHWM (%v)", pid, err)
	}
	return rss, peak
}

// cpuOf reads the CPU time (user and system) pid has used from
// /proc/<pid>/stat.
func cpuOf(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces and parentheses;
	// the fields after it start with the third, the state, so utime (14th)
	// and stime (15th) are at 11 and 12.
	i := bytes.LastIndexByte(data, ')')
	f := strings.Fields(string(data[i+1:]))
	if i < 0 || len(f) < 13 {
		tb.Fatalf("/proc/%d/stat: unexpected format %q", pid, data)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			tb.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }
