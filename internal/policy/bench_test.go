package policy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

// typicalObjects renders n objects as one YAML file, a quarter each of
// Deployments, Services, ConfigMaps and CronJobs, in the shape gitvend's
// blueprints render them, and decodes it.
func typicalObjects(tb testing.TB, n int) []manifest.Object {
	tb.Helper()
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
	objs, err := manifest.Decode("environments/dev/all.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatalf("decode objects: %v", err)
	}
	if len(objs) != n {
		tb.Fatalf("decoded %d objects, want %d", len(objs), n)
	}
	return objs
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

func BenchmarkEvaluate1000(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx, Options{Settings: config.Policy{Policies: map[string]config.PolicySetting{
		"allowed-registries": {Params: map[string]any{"registries": []any{"ghcr.io/acme/"}}},
	}}})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	in := Input{Subjects: subjectsOf(typicalObjects(b, 1000))}
	res, err := e.Evaluate(ctx, in)
	if err != nil {
		b.Fatalf("Evaluate: %v", err)
	}
	if len(res.Violations) != 250 || !res.Passed() {
		b.Fatalf("got %d violations (passed %v), want the 250 readOnlyRootFilesystem warnings of the CronJobs", len(res.Violations), res.Passed())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Evaluate(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
