package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeObjects writes n typical objects (Deployments, Services, ConfigMaps
// and CronJobs in equal parts) as one multi-document file under dir.
func writeObjects(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var b strings.Builder
	for i := range n {
		ns := fmt.Sprintf("team-%d", i%10)
		labels := fmt.Sprintf("    app.kubernetes.io/name: app-%d\n    gitvend.dev/owner: team\n", i)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  namespace: %s
  labels:
%sspec:
  replicas: 3
  selector: {matchLabels: {app.kubernetes.io/name: app-%d}}
  template:
    metadata: {labels: {app.kubernetes.io/name: app-%d}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - name: app
        image: ghcr.io/acme/app:1.%d
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {memory: 256Mi}}
        readinessProbe: {httpGet: {path: /healthz, port: 8080}}
        livenessProbe: {httpGet: {path: /healthz, port: 8080}}
`, i, ns, labels, i, i, i)
		case 1:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata:\n  name: app-%d\n  namespace: %s\n  labels:\n%sspec:\n  ports: [{port: 80, targetPort: 8080}]\n", i, ns, labels)
		case 2:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%d\n  namespace: %s\n  labels:\n%sdata:\n  key: value\n", i, ns, labels)
		case 3:
			fmt.Fprintf(&b, `apiVersion: batch/v1
kind: CronJob
metadata:
  name: job-%d
  namespace: %s
  labels:
%sspec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          securityContext: {runAsNonRoot: true}
          containers:
          - name: job
            image: ghcr.io/acme/job:2.%d
            securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
            resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}
`, i, ns, labels, i)
		}
		b.WriteString("---\n")
	}
	p := filepath.Join(dir, "objects.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkCheck1000 measures one check of 1,000 objects: reading the
// YAML, cost, budgets and every policy, with the engine prepared once as
// the CLI and the App do.
func BenchmarkCheck1000(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	file := writeObjects(b, dir, 1000)
	c, err := New(ctx, dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := c.Check(ctx, []string{file}, "")
		if err != nil {
			b.Fatal(err)
		}
		if rep.Objects != 1000 || !rep.Passed {
			b.Fatalf("objects %d, passed %v: %+v", rep.Objects, rep.Passed, rep.Violations[:min(3, len(rep.Violations))])
		}
	}
}

// TestWriteObjectsForBenchmarks writes the benchmark input where
// GITVEND_BENCH_OUT points, for timing the CLI on the same file.
func TestWriteObjectsForBenchmarks(t *testing.T) {
	out := os.Getenv("GITVEND_BENCH_OUT")
	if out == "" {
		t.Skip("set GITVEND_BENCH_OUT to a directory to write the 1,000-object benchmark input")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	writeObjects(t, out, 1000)
}
