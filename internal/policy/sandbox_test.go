package policy

import (
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gitvend/gitvend/internal/config"
)

// TestMain lets the test binary serve as the policy sandbox, as gitvend's
// own binary does.
func TestMain(m *testing.M) {
	SandboxMain()
	os.Exit(m.Run())
}

// policyModule is a repository policy with id and the body of its
// violation rule.
func policyModule(id, pkg, body string) string {
	return "package gitvend.policies." + pkg + "\n\n" +
		"metadata := {\"id\": \"" + id + "\", \"severity\": \"deny\", \"title\": \"t\", \"description\": \"d\", \"fix\": \"f\", \"params\": {}}\n\n" +
		body + "\n"
}

const sandboxManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  template:
    spec:
      containers:
        - name: app
          image: docker.io/acme/web:1.0 #@image
`

// TestSandboxAgreesWithEngine: the same policies and settings judge the
// same input alike in the sandbox and in process, files and lines included.
func TestSandboxAgreesWithEngine(t *testing.T) {
	ctx := context.Background()
	strict := policyModule("own-registry", "own_registry", `violation contains {"subject": i, "message": "image from outside ghcr.io", "path": ["spec", "template", "spec", "containers", 0, "image"]} if {
	some i, s in input.subjects
	some c in s.object.spec.template.spec.containers
	not startswith(c.image, "ghcr.io/")
}`)
	extra := fstest.MapFS{"own_registry.rego": {Data: []byte(strict)}}
	settings := config.Policy{Policies: map[string]config.PolicySetting{"probes": {Severity: "warn"}}}
	in := Input{Subjects: subjects(decode(t, sandboxManifest), requestContext)}

	e, err := New(ctx, Options{Settings: settings, Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Evaluate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := NewSandbox(extra, settings, Limits{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sb.Evaluate(ctx, in)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sandbox result differs:\n got %+v\nwant %+v", got, want)
	}
	found := false
	for _, v := range got.Violations {
		if v.Policy == "own-registry" {
			found = true
			if v.File != testFile || v.Line != lineOf(t, sandboxManifest, "image") {
				t.Errorf("own-registry at %s:%d, want %s:%d", v.File, v.Line, testFile, lineOf(t, sandboxManifest, "image"))
			}
		}
	}
	if !found {
		t.Fatalf("the repository's policy found nothing: %+v", got.Violations)
	}
}

// TestSandboxNamesTheFileOfALoadProblem: a policy the loader refuses (its
// violation is not a set) is reported at its file.
func TestSandboxNamesTheFileOfALoadProblem(t *testing.T) {
	extra := fstest.MapFS{"flat.rego": {Data: []byte(policyModule("flat", "flat", "violation := set()"))}}
	sb, err := NewSandbox(extra, config.Policy{}, Limits{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sb.Evaluate(context.Background(), Input{Subjects: subjects(decode(t, sandboxManifest), requestContext)})
	var re *RulesError
	if !errors.As(err, &re) || len(re.Problems) != 1 || re.Problems[0].File != "policies/flat.rego" ||
		re.Problems[0].Message != "package gitvend.policies.flat: violation must be a set (violation contains finding if { ... })" {
		t.Fatalf("want the problem at policies/flat.rego, got %#v", err)
	}
}

// TestSandboxMemoryFollowsTheProcessLimit: without a limit of its own, the
// sandbox takes half of the process's Go memory limit when that is less
// than the default, as in a container whose memory limit sets GOMEMLIMIT.
func TestSandboxMemoryFollowsTheProcessLimit(t *testing.T) {
	for _, tc := range []struct{ own, want int64 }{
		{math.MaxInt64, DefaultMemory},
		{4 << 30, DefaultMemory},
		{512 << 20, 256 << 20},
		{100 << 20, minMemory},
	} {
		if got := defaultMemory(tc.own); got != tc.want {
			t.Errorf("defaultMemory(%d) = %d, want %d", tc.own, got, tc.want)
		}
	}
}
