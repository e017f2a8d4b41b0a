package policy

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

// typicalObjects renders n objects as one YAML file, a quarter each of
// Deployments, Services, ConfigMaps and CronJobs, in the shape gitvend's
// blueprints render them, and decodes it.
func typicalObjects(tb testing.TB, n int) []manifest.Object {
	tb.Helper()
	objs, err := manifest.Decode("environments/dev/all.yaml", typicalYAML(n))
	if err != nil {
		tb.Fatalf("decode objects: %v", err)
	}
	if len(objs) != n {
		tb.Fatalf("decoded %d objects, want %d", len(objs), n)
	}
	return objs
}

// typicalYAML renders the n objects of typicalObjects.
func typicalYAML(n int) []byte {
	var b strings.Builder
	for i := range n {
		name := fmt.Sprintf("app-%d", i/4)
		ns := fmt.Sprintf("team-%d", i%7)
		labels := fmt.Sprintf(`    app.kubernetes.io/managed-by: gitvend
    app.kubernetes.io/name: %s
    gitvend.dev/owner: team-%d
    gitvend.dev/request: %s
    gitvend.dev/environment: dev
`, name, i%7, name)
		b.WriteString("---\n")
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, deploymentYAML, name, ns, labels, 2+i%3, name, name, i%5)
		case 1:
			fmt.Fprintf(&b, serviceYAML, name, ns, labels, name)
		case 2:
			fmt.Fprintf(&b, configMapYAML, name, ns, labels, i)
		case 3:
			fmt.Fprintf(&b, cronJobYAML, name, ns, labels, name, i%5)
		}
	}
	return []byte(b.String())
}

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
  labels:
%sspec:
  replicas: %d
  selector:
    matchLabels:
      app.kubernetes.io/name: %s
  template:
    metadata:
      labels:
        app.kubernetes.io/name: %s
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: app
          image: ghcr.io/acme/web:1.4.%d
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
          livenessProbe:
            httpGet: {path: /live, port: 8080}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
`

const serviceYAML = `apiVersion: v1
kind: Service
metadata:
  name: %s
  namespace: %s
  labels:
%sspec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: %s
  ports:
    - name: http
      port: 80
      targetPort: 8080
`

const configMapYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
  labels:
%sdata:
  settings.yaml: |
    feature: %d
    mode: production
`

// The CronJob leaves out probes (not checked for jobs) and, like a
// hand-written job often does, readOnlyRootFilesystem (a warning).
const cronJobYAML = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
  namespace: %s
  labels:
%sspec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          labels:
            app.kubernetes.io/name: %s
        spec:
          restartPolicy: OnFailure
          securityContext:
            runAsNonRoot: true
          containers:
            - name: report
              image: ghcr.io/acme/report:2.0.%d
              args: ["--since", "24h"]
              securityContext:
                allowPrivilegeEscalation: false
                capabilities:
                  drop: ["ALL"]
              resources:
                requests: {cpu: 50m, memory: 64Mi}
                limits: {memory: 128Mi}
`

// subjectsOf wraps objects as rendered by requests into their own namespaces.
func subjectsOf(objs []manifest.Object) []Subject {
	out := make([]Subject, len(objs))
	for i := range objs {
		o := &objs[i]
		out[i] = Subject{Object: o, Context: Context{
			Environment: "dev", Request: o.Name, Owner: o.Labels()["gitvend.dev/owner"],
			Namespace: o.Namespace, AllowedNamespaces: []string{o.Namespace},
		}}
	}
	return out
}

// benchSettings turn on every policy, allowed-registries included.
var benchSettings = config.Policy{Policies: map[string]config.PolicySetting{
	"allowed-registries": {Params: map[string]any{"registries": []any{"ghcr.io/acme/"}}},
}}

// TestTypicalObjects checks that the benchmarks' objects are what they
// claim: every policy passes but for the 250 readOnlyRootFilesystem
// warnings of the CronJobs. With GITVEND_BENCH_OBJECTS set, it also writes
// them to that file for policies/bench-conftest.sh.
func TestTypicalObjects(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, Options{Settings: benchSettings})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res, err := e.Evaluate(ctx, Input{Subjects: subjectsOf(typicalObjects(t, 1000))})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	counts := map[string]int{}
	for _, v := range res.Violations {
		counts[v.Policy+" "+v.Severity+" "+v.Kind]++
	}
	if diff := cmp.Diff(map[string]int{"read-only-root-filesystem warn CronJob": 250}, counts); diff != "" {
		t.Errorf("violations by policy (-want +got):\n%s", diff)
	}
	if out := os.Getenv("GITVEND_BENCH_OBJECTS"); out != "" {
		if err := os.WriteFile(out, typicalYAML(1000), 0o644); err != nil {
			t.Fatalf("write objects: %v", err)
		}
	}
}

// BenchmarkEvaluate1000 evaluates every policy on 1,000 decoded objects.
func BenchmarkEvaluate1000(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx, Options{Settings: benchSettings})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	in := Input{Subjects: subjectsOf(typicalObjects(b, 1000))}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Evaluate(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEvaluate1000 decodes the YAML of 1,000 objects and
// evaluates them: what a conftest run does after loading its policies.
func BenchmarkDecodeEvaluate1000(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx, Options{Settings: benchSettings})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	data := typicalYAML(1000)
	b.ReportAllocs()
	for b.Loop() {
		objs, err := manifest.Decode("environments/dev/all.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Evaluate(ctx, Input{Subjects: subjectsOf(objs)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew loads, compiles and prepares the built-in library.
func BenchmarkNew(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := New(ctx, Options{Settings: benchSettings}); err != nil {
			b.Fatal(err)
		}
	}
}
