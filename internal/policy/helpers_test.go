package policy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
)

// testFile is the file name the test manifests are decoded as.
const testFile = "environments/dev/app.yaml"

// requestContext is the context of objects rendered by request "web" of
// team payments into team-a.
var requestContext = Context{
	Environment: "dev", Request: "web", Owner: "payments",
	Namespace: "team-a", AllowedNamespaces: []string{"team-a"},
}

// defaultEngine is built once per test binary: compiling the library is
// the slow part of New.
var defaultEngine = sync.OnceValues(func() (*Engine, error) {
	return New(context.Background(), Options{})
})

func engine(t *testing.T) *Engine {
	t.Helper()
	e, err := defaultEngine()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// decode decodes src as testFile.
func decode(t *testing.T, src string) []manifest.Object {
	t.Helper()
	objs, err := manifest.Decode(testFile, []byte(src))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return objs
}

// subjects wraps objs with the same context.
func subjects(objs []manifest.Object, ctx Context) []Subject {
	out := make([]Subject, len(objs))
	for i := range objs {
		out[i] = Subject{Object: &objs[i], Context: ctx}
	}
	return out
}

// lineOf returns the line of src that carries the comment "#@marker".
func lineOf(t *testing.T, src, marker string) int {
	t.Helper()
	found := 0
	for i, line := range strings.Split(src, "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), "#@"+marker) {
			if found != 0 {
				t.Fatalf("marker #@%s appears twice", marker)
			}
			found = i + 1
		}
	}
	if found == 0 {
		t.Fatalf("marker #@%s not found", marker)
	}
	return found
}

// only returns the violations of policy id.
func only(list []Violation, id string) []Violation {
	out := []Violation{}
	for _, v := range list {
		if v.Policy == id {
			out = append(out, v)
		}
	}
	return out
}

func id(apiVersion, kind, namespace, name string) manifest.ID {
	return manifest.ID{APIVersion: apiVersion, Kind: kind, Namespace: namespace, Name: name}
}

// compliantDeployment is a Deployment that passes every policy.
const compliantDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
  labels:
    app.kubernetes.io/name: web
    gitvend.dev/owner: payments
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: app
          image: ghcr.io/acme/web:1.4.2
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
`

func describeViolations(list []Violation) string {
	var b strings.Builder
	for _, v := range list {
		fmt.Fprintf(&b, "  %s:%d %s %s %s: %s\n", v.File, v.Line, v.Policy, v.Severity, v.ID, v.Message)
	}
	return b.String()
}
