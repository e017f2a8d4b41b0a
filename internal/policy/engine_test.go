package policy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
)

// TestPoliciesInfo checks the built-in library against the ids and default
// severities gitvend documents, and that every policy explains itself.
func TestPoliciesInfo(t *testing.T) {
	want := map[string]string{
		"privileged-container": "deny", "privilege-escalation": "deny", "host-namespaces": "deny",
		"host-path": "deny", "run-as-non-root": "deny", "capabilities": "deny",
		"image-latest-tag": "deny", "allowed-registries": "deny", "resource-limits": "deny",
		"probes": "warn", "read-only-root-filesystem": "warn", "loadbalancer-service": "warn",
		"required-labels": "deny", "namespace-boundary": "deny", "replica-limits": "deny", "budget": "deny",
		"rbac": "deny", "quota": "deny",
	}
	got := map[string]string{}
	for _, p := range engine(t).Policies() {
		got[p.ID] = p.DefaultSeverity
		if p.Severity != p.DefaultSeverity {
			t.Errorf("%s: severity %q in effect without settings, want the default %q", p.ID, p.Severity, p.DefaultSeverity)
		}
		if p.Title == "" || p.Description == "" || p.Fix == "" {
			t.Errorf("%s: title, description and fix must all be set: %+v", p.ID, p)
		}
		if !strings.HasPrefix(p.Source, "builtin/") {
			t.Errorf("%s: source %q, want a built-in file", p.ID, p.Source)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policies and default severities (-want +got):\n%s", diff)
	}
	var params []Param
	for _, p := range engine(t).Policies() {
		if p.ID == "capabilities" || p.ID == "replica-limits" {
			params = append(params, p.Params...)
		}
	}
	wantParams := []Param{
		{Name: "allowed", Type: "string-array", Default: []any{"NET_BIND_SERVICE"}, Description: "Capabilities a container may add, such as NET_BIND_SERVICE."},
		{Name: "max", Type: "integer", Default: int64(20), Description: "The largest replica count allowed."},
	}
	if diff := cmp.Diff(wantParams, params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
}

// fieldErrors lists the *field.Error values joined into err.
func fieldErrors(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *field.Error
		if errors.As(err, &fe) {
			out = append(out, fe.Error())
		} else if err != nil {
			out = append(out, "not a field error: "+err.Error())
		}
	}
	walk(err)
	return out
}

func TestNewValidatesSettings(t *testing.T) {
	known := "known policies are allowed-registries, budget, capabilities, host-namespaces, host-path, image-latest-tag, loadbalancer-service, namespace-boundary, privilege-escalation, privileged-container, probes, quota, rbac, read-only-root-filesystem, replica-limits, required-labels, resource-limits, run-as-non-root"
	tests := []struct {
		name     string
		settings config.Policy
		want     []string
	}{
		{
			name: "unknown policy",
			settings: config.Policy{Policies: map[string]config.PolicySetting{
				"no-privileged": {Severity: "warn"},
			}},
			want: []string{`policy.policies.no-privileged: unknown policy "no-privileged"; ` + known},
		},
		{
			name: "bad severity",
			settings: config.Policy{Policies: map[string]config.PolicySetting{
				"probes": {Severity: "error"},
			}},
			want: []string{`policy.policies.probes.severity: must be one of deny, warn, off, got "error"`},
		},
		{
			name: "unknown params",
			settings: config.Policy{Policies: map[string]config.PolicySetting{
				"replica-limits":       {Params: map[string]any{"maximum": 5}},
				"privileged-container": {Params: map[string]any{"allow": true}},
			}},
			want: []string{
				"policy.policies.privileged-container.params.allow: unknown parameter; privileged-container takes no parameters",
				"policy.policies.replica-limits.params.maximum: unknown parameter; replica-limits takes max",
			},
		},
		{
			name: "wrong param types",
			settings: config.Policy{Policies: map[string]config.PolicySetting{
				"replica-limits":     {Params: map[string]any{"max": "ten"}},
				"allowed-registries": {Params: map[string]any{"registries": "ghcr.io/acme/"}},
				"capabilities":       {Params: map[string]any{"allowed": []any{"NET_ADMIN", 7}}},
				"required-labels":    {Params: map[string]any{"labels": nil}},
			}},
			want: []string{
				`policy.policies.allowed-registries.params.registries: must be a list of strings, got the string "ghcr.io/acme/"`,
				"policy.policies.capabilities.params.allowed: must be a list of strings, but item 1 is the number 7",
				"policy.policies.replica-limits.params.max: must be an integer, got the string \"ten\"",
				"policy.policies.required-labels.params.labels: must be a list of strings, got nothing (null)",
			},
		},
		{
			name: "fractional integer",
			settings: config.Policy{Policies: map[string]config.PolicySetting{
				"replica-limits": {Params: map[string]any{"max": 2.5}},
			}},
			want: []string{"policy.policies.replica-limits.params.max: must be an integer, got the number 2.5"},
		},
		{
			name: "bad exceptions",
			settings: config.Policy{Exceptions: []config.Exception{
				{Policy: "privileged-container", Kind: "DaemonSet", Reason: "the node agent needs raw devices"},
				{Policy: "no-such-policy", Name: "x", Reason: "because it is fine to do"},
				{Kind: "Pod", Reason: "because it is fine to do"},
				{Policy: "probes", Reason: "   "},
			}},
			want: []string{
				`policy.exceptions[1].policy: unknown policy "no-such-policy"; ` + known,
				"policy.exceptions[2].policy: is required; " + known,
				"policy.exceptions[3]: must match objects by at least one of kind, namespace or name",
				"policy.exceptions[3].reason: is required: say why the exception is safe; it is shown on the pull request",
			},
		},
		{
			name:     "bad cluster-scoped kinds",
			settings: config.Policy{ClusterScopedKinds: []string{"ClusterRole", "rbac.authorization.k8s.io/v1", ""}},
			want: []string{
				`policy.clusterScopedKinds[1]: must be a kind such as ClusterRole, or Kind.group such as ClusterRole.rbac.authorization.k8s.io, got "rbac.authorization.k8s.io/v1"`,
				`policy.clusterScopedKinds[2]: must be a kind such as ClusterRole, or Kind.group such as ClusterRole.rbac.authorization.k8s.io, got ""`,
			},
		},
		{
			name: "valid settings",
			settings: config.Policy{
				Policies: map[string]config.PolicySetting{
					"probes":             {Severity: "deny"},
					"replica-limits":     {Params: map[string]any{"max": 10}},
					"allowed-registries": {Params: map[string]any{"registries": []string{"ghcr.io/acme/"}}},
				},
				Exceptions:         []config.Exception{{Policy: "host-path", Namespace: "monitoring", Reason: "node exporter reads /proc"}},
				ClusterScopedKinds: []string{"PriorityClass.scheduling.k8s.io"},
			},
		},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(ctx, Options{Settings: tt.settings})
			if diff := cmp.Diff(tt.want, fieldErrors(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// mixed holds one violation each of a deny policy, a warn policy and a
// policy with a parameter.
const mixed = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: team-a
  labels: {app.kubernetes.io/name: web, gitvend.dev/owner: payments}
spec:
  type: LoadBalancer #@lb
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
  labels: {app.kubernetes.io/name: web, gitvend.dev/owner: payments}
spec:
  replicas: 12 #@replicas
  template:
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: app
          image: ghcr.io/acme/web:1.0
          securityContext:
            privileged: true #@priv
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: ["ALL"]}
          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}
          readinessProbe: {tcpSocket: {port: 80}}
          livenessProbe: {tcpSocket: {port: 80}}
`

func TestSeveritiesAndExceptions(t *testing.T) {
	deploy := id("apps/v1", "Deployment", "team-a", "web")
	service := id("v1", "Service", "team-a", "web")
	lbMsg := "Service has type LoadBalancer, which provisions a billed load balancer reachable from outside the cluster; use type ClusterIP behind an Ingress, or add an exception that says why"
	privMsg := "container app sets securityContext.privileged: true; remove it or set it to false"
	replicasMsg := "spec.replicas is 12, above the limit of 10; lower it or ask for a higher limit"
	line := func(m string) int { return lineOf(t, mixed, m) }
	tests := []struct {
		name         string
		settings     config.Policy
		wantPassed   bool
		want, except []Violation
	}{
		{
			name:       "defaults",
			wantPassed: false,
			want: []Violation{
				{Policy: "loadbalancer-service", Severity: "warn", ID: service, File: testFile, Line: line("lb"), Message: lbMsg},
				{Policy: "privileged-container", Severity: "deny", ID: deploy, File: testFile, Line: line("priv"), Message: privMsg},
			},
		},
		{
			name: "overrides: off drops, warn downgrades, deny upgrades, params apply",
			settings: config.Policy{Policies: map[string]config.PolicySetting{
				"privileged-container": {Severity: "warn"},
				"loadbalancer-service": {Severity: "off"},
				"replica-limits":       {Severity: "deny", Params: map[string]any{"max": 10}},
			}},
			wantPassed: false,
			want: []Violation{
				{Policy: "replica-limits", Severity: "deny", ID: deploy, File: testFile, Line: line("replicas"), Message: replicasMsg},
				{Policy: "privileged-container", Severity: "warn", ID: deploy, File: testFile, Line: line("priv"), Message: privMsg},
			},
		},
		{
			name: "exceptions by kind, namespace and name move violations aside",
			settings: config.Policy{Exceptions: []config.Exception{
				{Policy: "privileged-container", Kind: "Deployment", Name: "other", Reason: "does not match the name"},
				{Policy: "privileged-container", Kind: "Deployment.apps", Namespace: "team-a", Name: "web", Reason: "the agent manages network interfaces"},
				{Policy: "loadbalancer-service", Namespace: "team-a", Reason: "team-a serves a public TCP endpoint"},
			}},
			wantPassed: true,
			want:       []Violation{},
			except: []Violation{
				{Policy: "loadbalancer-service", Severity: "warn", ID: service, File: testFile, Line: line("lb"), Message: lbMsg, Exception: "team-a serves a public TCP endpoint"},
				{Policy: "privileged-container", Severity: "deny", ID: deploy, File: testFile, Line: line("priv"), Message: privMsg, Exception: "the agent manages network interfaces"},
			},
		},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(ctx, Options{Settings: tt.settings})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			res, err := e.Evaluate(ctx, Input{Subjects: subjects(decode(t, mixed), requestContext)})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if diff := cmp.Diff(Result{Violations: tt.want, Excepted: tt.except}, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if res.Passed() != tt.wantPassed {
				t.Errorf("Passed() = %v, want %v", res.Passed(), tt.wantPassed)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	e := engine(t)
	res, err := e.Evaluate(context.Background(), Input{Cost: &CostInput{Currency: "EUR", Budgets: []BudgetInput{
		{Scope: ScopeOwner, Name: "payments", Environment: "prod", Monthly: 1250.456, Limit: 1000},
		{Scope: ScopeNamespace, Name: "team-a", Monthly: 80, Limit: 79.99},
		{Scope: ScopeNamespace, Name: "team-b", Monthly: 10, Limit: 100},
	}}})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	want := []Violation{
		{Policy: "budget", Severity: "deny", ID: id("", "", "team-a", ""), Message: "namespace team-a is estimated at 80.00 EUR a month, over its budget of 79.99 EUR; lower resource requests or replicas, or raise the budget in gitvend.yaml"},
		{Policy: "budget", Severity: "deny", ID: id("", "", "", "payments"), Message: "team payments is estimated at 1250.46 EUR a month in prod, over its budget of 1000.00 EUR; lower resource requests or replicas, or raise the budget in gitvend.yaml"},
	}
	if diff := cmp.Diff(want, res.Violations); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	_, err = e.Evaluate(context.Background(), Input{Cost: &CostInput{Budgets: []BudgetInput{{Scope: "team", Name: "x"}}}})
	if err == nil || !strings.Contains(err.Error(), `cost.budgets[0].scope must be "owner" or "namespace", got "team"`) {
		t.Errorf("bad scope: got error %v", err)
	}
}

func TestViolationJSON(t *testing.T) {
	v := Violation{Policy: "privileged-container", Severity: "deny", ID: id("v1", "Pod", "a", "b"), File: "x.yaml", Line: 7, Message: "container app is privileged"}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"policy":"privileged-container","severity":"deny","apiVersion":"v1","kind":"Pod","namespace":"a","name":"b","file":"x.yaml","line":7,"message":"container app is privileged"}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	v.Exception = "reviewed"
	got, _ = json.Marshal(v)
	if !strings.HasSuffix(string(got), `,"exception":"reviewed"}`) {
		t.Errorf("JSON with exception = %s", got)
	}
}

func TestEvaluateErrors(t *testing.T) {
	e := engine(t)
	if _, err := e.Evaluate(context.Background(), Input{Subjects: []Subject{{}}}); err == nil || !strings.Contains(err.Error(), "subjects[0]: object is missing") {
		t.Errorf("nil object: got error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Evaluate(ctx, Input{Subjects: subjects(decode(t, compliantDeployment), requestContext)}); err == nil {
		t.Error("cancelled context: got no error")
	}
}

// repoPolicies is a repository's policies/ directory: it replaces the
// built-in privileged-container and adds a policy of its own.
var repoPolicies = fstest.MapFS{
	"privileged_container.rego": {Data: []byte(`# Privileged containers only warn here: this cluster runs node agents.
package gitvend.policies.privileged_container

import data.gitvend.lib

metadata := {
	"id": "privileged-container",
	"severity": "warn",
	"title": "Privileged containers (node agents allowed)",
	"description": "Privileged containers are reported but do not fail the check.",
	"fix": "Remove securityContext.privileged unless the workload is a node agent.",
	"params": {},
}

violation contains {"subject": c.subject, "message": sprintf("%s is privileged", [lib.label(c)]), "path": lib.path(c, ["securityContext", "privileged"])} if {
	some c in lib.containers
	c.container.securityContext.privileged == true
}
`)},
	"acme/cost_center.rego": {Data: []byte(`package gitvend.policies.cost_center

metadata := {
	"id": "cost-center",
	"severity": "deny",
	"title": "Cost center",
	"description": "Every object names its cost center.",
	"fix": "Add the annotation acme.com/cost-center.",
	"params": {"annotation": {"type": "string", "default": "acme.com/cost-center", "description": "The annotation to require."}},
}

params := data.gitvend.lib.params(metadata)

violation contains {"subject": i, "message": sprintf("missing annotation %s", [params.annotation]), "path": ["metadata", "annotations"]} if {
	some i, s in input.subjects
	not s.object.metadata.annotations[params.annotation]
}
`)},
	"acme/cost_center_test.rego": {Data: []byte(`package gitvend.policies.cost_center_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.cost_center as policy

test_missing_annotation if {
	count(policy.violation) == 1 with input as fixtures.input_for([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}])
}

test_wrong_expectation_fails if {
	count(policy.violation) == 5 with input as fixtures.input_for([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}])
}
`)},
	"privileged_container_test.rego": {Data: []byte(`package gitvend.policies.privileged_container_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.privileged_container as policy

test_message if {
	c := object.union(fixtures.container, {"securityContext": {"privileged": true}})
	{f.message | some f in policy.violation} == {"container app is privileged"} with input as fixtures.input_for([fixtures.workload("Pod", {"containers": [c]})])
}
`)},
}

func TestRepositoryPolicies(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, Options{Extra: repoPolicies, Settings: config.Policy{Policies: map[string]config.PolicySetting{
		"cost-center": {Params: map[string]any{"annotation": "acme.com/team"}},
	}}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	infos := map[string]Info{}
	for _, p := range e.Policies() {
		infos[p.ID] = p
	}
	if got := infos["privileged-container"]; got.Source != "policies/privileged_container.rego" || got.Severity != "warn" {
		t.Errorf("privileged-container = %+v, want the repository's version with severity warn", got)
	}
	if got := infos["cost-center"]; got.Source != "policies/acme/cost_center.rego" || got.Title != "Cost center" {
		t.Errorf("cost-center = %+v, want the repository's policy", got)
	}
	if len(infos) != 19 {
		t.Errorf("got %d policies, want the 18 built-in ones and cost-center", len(infos))
	}
	res, err := e.Evaluate(ctx, Input{Subjects: subjects(decode(t, mixed), requestContext)})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	var got []string
	for _, v := range res.Violations {
		if v.Policy == "privileged-container" || v.Policy == "cost-center" {
			got = append(got, v.Policy+" "+v.Severity+" "+v.Kind+": "+v.Message)
		}
	}
	want := []string{
		"cost-center deny Service: missing annotation acme.com/team",
		"cost-center deny Deployment: missing annotation acme.com/team",
		"privileged-container warn Deployment: container app is privileged",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	if res.Passed() {
		t.Errorf("Passed() = true, want false for the cost-center denials")
	}
}

func TestRepositoryTests(t *testing.T) {
	results, err := Test(context.Background(), repoPolicies)
	if err != nil {
		t.Fatalf("Test: %v", err)
	}
	var got []string
	builtin := 0
	for _, r := range results {
		switch {
		case strings.HasPrefix(r.File, "policies/"):
			got = append(got, r.File+" "+r.Name+" "+map[bool]string{true: "pass", false: "fail"}[r.Passed])
		case strings.Contains(r.Package, "privileged_container_test"):
			t.Errorf("built-in test %s of the replaced privileged-container ran", r.Name)
		default:
			builtin++
			if !r.Passed {
				t.Errorf("built-in test failed: %s", r)
			}
		}
	}
	want := []string{
		"policies/acme/cost_center_test.rego test_missing_annotation pass",
		"policies/acme/cost_center_test.rego test_wrong_expectation_fails fail",
		"policies/privileged_container_test.rego test_message pass",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("repository tests (-want +got):\n%s", diff)
	}
	if builtin == 0 {
		t.Error("no built-in test ran")
	}
}

// TestEvaluateConcurrently shares one engine between goroutines, as the
// server does.
func TestEvaluateConcurrently(t *testing.T) {
	e := engine(t)
	in := Input{Subjects: subjects(decode(t, mixed), requestContext)}
	want, err := e.Evaluate(context.Background(), in)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	results := make([]Result, 4)
	errs := make([]error, 4)
	done := make(chan int)
	for i := range results {
		go func() {
			results[i], errs[i] = e.Evaluate(context.Background(), in)
			done <- i
		}()
	}
	for range results {
		i := <-done
		if errs[i] != nil {
			t.Errorf("goroutine %d: %v", i, errs[i])
		} else if diff := cmp.Diff(want, results[i]); diff != "" {
			t.Errorf("goroutine %d (-want +got):\n%s", i, diff)
		}
	}
}
