package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/cluster"
)

// benchObjects is the size of the object sets the benchmarks apply.
const benchObjects = 1000

// benchNamespaces is how many namespaces the objects are spread over.
const benchNamespaces = 4

// benchFixture returns a fixture whose target allows every namespace the
// benchmark creates.
func benchFixture(b *testing.B) *fixture {
	b.Helper()
	f := newFixtureOn(b, kube.Env(b))
	f.target.Namespaces = []string{namespacePrefixOf(f.ns) + "*"}
	return f
}

// namespacePrefixOf returns the generated namespace's prefix ("name-").
func namespacePrefixOf(ns string) string {
	return ns[:strings.LastIndex(ns, "-")+1]
}

// writeBenchFiles writes benchObjects objects (ConfigMaps, Services and
// Deployments in turn) spread over fresh namespaces into dir, one file per
// namespace, and returns dir.
func writeBenchFiles(b *testing.B, f *fixture) string {
	b.Helper()
	dir := b.TempDir()
	per := benchObjects / benchNamespaces
	for n := range benchNamespaces {
		ns := f.env.Namespace(b)
		var buf bytes.Buffer
		for i := range per {
			name := fmt.Sprintf("obj-%04d", i)
			switch i % 3 {
			case 0:
				fmt.Fprintf(&buf, benchConfigMap, ns, name)
			case 1:
				fmt.Fprintf(&buf, benchService, ns, name)
			default:
				fmt.Fprintf(&buf, benchDeployment, ns, name)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("ns-%d.yaml", n)), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// readBenchFiles reads the objects of the files writeBenchFiles wrote.
func readBenchFiles(b *testing.B, dir string) []*unstructured.Unstructured {
	b.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		objs, err := utils.ReadObjects(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, objs...)
	}
	return out
}

const benchConfigMap = `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: %[2]s
  namespace: %[1]s
  labels: {app.kubernetes.io/name: %[2]s}
data:
  setting: value-of-%[2]s
  other: "42"
`

const benchService = `---
apiVersion: v1
kind: Service
metadata:
  name: %[2]s
  namespace: %[1]s
  labels: {app.kubernetes.io/name: %[2]s}
spec:
  clusterIP: None # the test control plane's service range holds 254 addresses
  selector: {app.kubernetes.io/name: %[2]s}
  ports:
  - {name: http, port: 80, targetPort: 8080}
`

const benchDeployment = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
  labels: {app.kubernetes.io/name: %[2]s}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: %[2]s}
  template:
    metadata:
      labels: {app.kubernetes.io/name: %[2]s}
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/%[2]s:1.0.0
        ports: [{name: http, containerPort: 8080}]
        resources:
          requests: {cpu: 100m, memory: 128Mi}
`

// BenchmarkApplyNew applies 1,000 new objects with gitvend and, in the same
// run, the same files (in namespaces of their own) with
// kubectl apply --server-side; it reports both and their ratio.
func BenchmarkApplyNew(b *testing.B) {
	f := benchFixture(b)
	var gitvend, kubectl time.Duration
	for b.Loop() {
		b.StopTimer()
		ours := writeBenchFiles(b, f)
		theirs := writeBenchFiles(b, f)
		f.target.Name = fmt.Sprintf("bench-new-%d", time.Now().UnixNano())
		r := f.reconciler(b)
		b.StartTimer()

		start := time.Now()
		res, err := r.Apply(context.Background(), readBenchFiles(b, ours), "bench")
		gitvend += time.Since(start)
		if err != nil || res.Count(Created) != benchObjects {
			b.Fatalf("apply: %v (%s)", err, res.Summary())
		}

		start = time.Now()
		out, err := f.env.Kubectl(context.Background(), "apply", "--server-side", "-f", theirs).CombinedOutput()
		kubectl += time.Since(start)
		if err != nil {
			b.Fatalf("kubectl apply: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "serverside-applied"); n != benchObjects {
			b.Fatalf("kubectl applied %d objects, want %d", n, benchObjects)
		}
	}
	n := float64(b.N)
	b.ReportMetric(gitvend.Seconds()/n, "gitvend-s/op")
	b.ReportMetric(kubectl.Seconds()/n, "kubectl-s/op")
	b.ReportMetric(gitvend.Seconds()/kubectl.Seconds(), "gitvend/kubectl")
}

// BenchmarkReconcileUnchanged applies 1,000 objects that already match the
// cluster: "warm" with the Reconciler that applied them (as the server
// does on every interval), "cold" with a new Reconciler each time, made
// in the timed part (after a restart, or a CLI run), which knows what is
// unchanged from the inventory's records. The cold case runs, in the same
// run, kubectl apply --server-side on the same files applied once before
// (in namespaces of their own). It reports the writes and dry-runs per
// apply.
func BenchmarkReconcileUnchanged(b *testing.B) {
	f := benchFixture(b)
	f.target.Name = fmt.Sprintf("bench-unchanged-%d", time.Now().UnixNano())
	objs := readBenchFiles(b, writeBenchFiles(b, f))
	first := f.reconciler(b)
	if _, err := first.Apply(context.Background(), objs, "bench"); err != nil {
		b.Fatal(err)
	}
	theirs := writeBenchFiles(b, f)
	if out, err := f.env.Kubectl(context.Background(), "apply", "--server-side", "-f", theirs).CombinedOutput(); err != nil {
		b.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	b.Run("warm", func(b *testing.B) {
		f.writes.n.Store(0)
		f.writes.dryRuns.Store(0)
		for b.Loop() {
			res, err := first.Apply(context.Background(), objs, "bench")
			if err != nil || res.Count(Unchanged) != benchObjects {
				b.Fatalf("apply: %v (%s)", err, res.Summary())
			}
		}
		b.ReportMetric(float64(f.writes.n.Load())/float64(b.N), "writes/op")
		b.ReportMetric(float64(f.writes.dryRuns.Load())/float64(b.N), "dry-runs/op")
	})
	b.Run("cold", func(b *testing.B) {
		f.writes.n.Store(0)
		f.writes.dryRuns.Store(0)
		var gitvend, kubectl time.Duration
		for b.Loop() {
			start := time.Now()
			res, err := f.reconciler(b).Apply(context.Background(), objs, "bench")
			gitvend += time.Since(start)
			if err != nil || res.Count(Unchanged) != benchObjects {
				b.Fatalf("apply: %v (%s)", err, res.Summary())
			}

			start = time.Now()
			out, err := f.env.Kubectl(context.Background(), "apply", "--server-side", "-f", theirs).CombinedOutput()
			kubectl += time.Since(start)
			if err != nil {
				b.Fatalf("kubectl apply: %v\n%s", err, out)
			}
		}
		n := float64(b.N)
		b.ReportMetric(float64(f.writes.n.Load())/n, "writes/op")
		b.ReportMetric(float64(f.writes.dryRuns.Load())/n, "dry-runs/op")
		b.ReportMetric(gitvend.Seconds()/n, "gitvend-s/op")
		b.ReportMetric(kubectl.Seconds()/n, "kubectl-s/op")
		b.ReportMetric(gitvend.Seconds()/kubectl.Seconds(), "gitvend/kubectl")
	})
	// As a cluster's controllers do after an apply: every Deployment's
	// status is written, which moves its resourceVersion but not the
	// fields gitvend set; a new Reconciler still needs no dry-run.
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		if err := f.client.Status().Patch(context.Background(), stub(idOf(o)),
			client.RawPatch(types.MergePatchType, []byte(`{"status":{"observedGeneration":1,"replicas":0}}`)),
			client.FieldOwner("kube-controller-manager")); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold-after-status", func(b *testing.B) {
		f.writes.n.Store(0)
		f.writes.dryRuns.Store(0)
		for b.Loop() {
			res, err := f.reconciler(b).Apply(context.Background(), objs, "bench")
			if err != nil || res.Count(Unchanged) != benchObjects {
				b.Fatalf("apply: %v (%s)", err, res.Summary())
			}
		}
		b.ReportMetric(float64(f.writes.n.Load())/float64(b.N), "writes/op")
		b.ReportMetric(float64(f.writes.dryRuns.Load())/float64(b.N), "dry-runs/op")
	})
}

// BenchmarkDriftCold checks 1,000 unchanged objects for drift with a new
// Reconciler each time (as gitvend drift does, or the server's first
// check after a restart) and, in the same run, runs
// kubectl diff --server-side on the same files applied by kubectl (in
// namespaces of their own). It reports both, their ratio and the
// dry-runs per check.
func BenchmarkDriftCold(b *testing.B) {
	f := benchFixture(b)
	f.target.Name = fmt.Sprintf("bench-drift-cold-%d", time.Now().UnixNano())
	objs := readBenchFiles(b, writeBenchFiles(b, f))
	if _, err := f.reconciler(b).Apply(context.Background(), objs, "bench"); err != nil {
		b.Fatal(err)
	}
	theirs := writeBenchFiles(b, f)
	if out, err := f.env.Kubectl(context.Background(), "apply", "--server-side", "-f", theirs).CombinedOutput(); err != nil {
		b.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	f.writes.dryRuns.Store(0)
	var gitvend, kubectl time.Duration
	for b.Loop() {
		start := time.Now()
		rep, err := f.reconciler(b).Drift(context.Background(), objs)
		gitvend += time.Since(start)
		if err != nil || rep.HasDrift() || rep.Checked != benchObjects {
			b.Fatalf("drift: %v (%d checked, %d drifted)", err, rep.Checked, len(rep.Objects))
		}

		start = time.Now()
		out, err := f.env.Kubectl(context.Background(), "diff", "--server-side", "-f", theirs).CombinedOutput()
		kubectl += time.Since(start)
		if err != nil {
			b.Fatalf("kubectl diff: %v\n%s", err, out)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(f.writes.dryRuns.Load())/n, "dry-runs/op")
	b.ReportMetric(gitvend.Seconds()/n, "gitvend-s/op")
	b.ReportMetric(kubectl.Seconds()/n, "kubectl-s/op")
	b.ReportMetric(gitvend.Seconds()/kubectl.Seconds(), "gitvend/kubectl")
}

// BenchmarkDriftDetection measures the time from a manual change of a
// managed object to the drift report that shows it, through Monitor (watch
// and dry-run comparison), with 1,000 managed objects.
func BenchmarkDriftDetection(b *testing.B) {
	f := benchFixture(b)
	f.target.Name = fmt.Sprintf("bench-drift-%d", time.Now().UnixNano())
	f.target.DriftInterval = time.Hour
	objs := readBenchFiles(b, writeBenchFiles(b, f))
	r := f.reconciler(b)
	if _, err := r.Apply(context.Background(), objs, "bench"); err != nil {
		b.Fatal(err)
	}
	signal := &driftSignal{opened: make(chan struct{}, 16), resolved: make(chan struct{}, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Monitor(ctx, signal.report) //nolint:errcheck // ends with ctx
	<-signal.resolved                // first check: clean

	target := objs[0] // a ConfigMap
	patch := func(value string) {
		p := fmt.Sprintf(`{"data":{"setting":%q}}`, value)
		if err := f.client.Patch(context.Background(), stub(idOf(target)), client.RawPatch(types.MergePatchType, []byte(p)),
			client.FieldOwner("kubectl-edit")); err != nil {
			b.Fatal(err)
		}
	}
	original, _, _ := unstructured.NestedString(target.Object, "data", "setting")
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		patch("edited by hand")
		<-signal.opened
		total += time.Since(start)
		b.StopTimer()
		patch(original)
		<-signal.resolved
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms-to-issue")
}

// driftSignal signals when drift appears and when it is gone, as a drift
// issue would be opened and closed: once per change, and a first clean
// report counts as gone.
type driftSignal struct {
	opened   chan struct{}
	resolved chan struct{}
	reported bool
	drift    bool
}

func (s *driftSignal) report(_ context.Context, rep *DriftReport) error {
	if s.reported && rep.HasDrift() == s.drift {
		return nil
	}
	s.reported, s.drift = true, rep.HasDrift()
	if s.drift {
		s.opened <- struct{}{}
	} else {
		s.resolved <- struct{}{}
	}
	return nil
}

// BenchmarkCLI measures the gitvend binary named by GITVEND_BENCH_CLI (it
// is skipped without one) as a user runs it, each run a new process:
// gitvend apply of 1,000 new objects from a desired-state repository
// (once), then per iteration gitvend apply of the same, unchanged, and
// gitvend drift; kubectl apply --server-side and kubectl diff
// --server-side run on the same files (in namespaces of their own) in the
// same run.
func BenchmarkCLI(b *testing.B) {
	bin := os.Getenv("GITVEND_BENCH_CLI")
	if bin == "" {
		b.Skip("GITVEND_BENCH_CLI names no gitvend binary")
	}
	f := benchFixture(b)
	files := writeBenchFiles(b, f)
	theirs := writeBenchFiles(b, f)
	repo := b.TempDir()
	envDir := filepath.Join(repo, "environments", "dev")
	if err := os.MkdirAll(envDir, 0o755); err != nil {
		b.Fatal(err)
	}
	kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	names, _ := filepath.Glob(filepath.Join(files, "*.yaml"))
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(envDir, filepath.Base(name)), data, 0o644); err != nil {
			b.Fatal(err)
		}
		kust += "- " + filepath.Base(name) + "\n"
	}
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(filepath.Join(envDir, "kustomization.yaml"), kust)
	write(filepath.Join(repo, "gitvend.yaml"), "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n")
	cfg := filepath.Join(b.TempDir(), "server.yaml")
	write(cfg, fmt.Sprintf(`apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
github:
  appID: 1
repositories:
- name: acme/infra
targets:
- name: bench
  repository: acme/infra
  kubeconfig: %s
  environments: [dev]
  namespaces: [%q]
  healthTimeout: 0s
`, f.env.KubeconfigPath(), namespacePrefixOf(f.ns)+"*"))
	run := func(name string, args ...string) time.Duration {
		start := time.Now()
		var out []byte
		var err error
		if name == "kubectl" {
			out, err = f.env.Kubectl(context.Background(), args...).CombinedOutput()
		} else {
			args = append(args, "--config", cfg, "--target", "bench", "--repo", repo)
			out, err = exec.Command(bin, args...).CombinedOutput()
		}
		took := time.Since(start)
		if err != nil {
			b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return took
	}
	// What the CLI does besides reconciling: building the environment.
	start := time.Now()
	if _, err := Desired(context.Background(), repo, cluster.Target{Name: "bench", Environments: []string{"dev"}}); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	newGitvend := run("gitvend", "apply")
	newKubectl := run("kubectl", "apply", "--server-side", "-f", theirs)
	var again, againKubectl, drift, diff time.Duration
	for b.Loop() {
		again += run("gitvend", "apply")
		againKubectl += run("kubectl", "apply", "--server-side", "-f", theirs)
		drift += run("gitvend", "drift")
		diff += run("kubectl", "diff", "--server-side", "-f", theirs)
	}
	n := float64(b.N)
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric(newGitvend.Seconds(), "new-gitvend-s")
	b.ReportMetric(newKubectl.Seconds(), "new-kubectl-s")
	b.ReportMetric(again.Seconds()/n, "unchanged-gitvend-s/op")
	b.ReportMetric(againKubectl.Seconds()/n, "unchanged-kubectl-s/op")
	b.ReportMetric(drift.Seconds()/n, "drift-gitvend-s/op")
	b.ReportMetric(diff.Seconds()/n, "diff-kubectl-s/op")
}
