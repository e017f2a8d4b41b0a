package check

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/policy"
)

// TestMain lets the test binary serve as the policy sandbox.
func TestMain(m *testing.M) {
	policy.SandboxMain()
	os.Exit(m.Run())
}

// impactPolicy returns the test policy file name of testdata/impact.
func impactPolicy(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "impact", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// withPolicies is the example repository with the named test policies in
// its policies/.
func withPolicies(t *testing.T, extra map[string]string, names ...string) string {
	t.Helper()
	files := map[string]string{}
	for _, n := range names {
		files["policies/"+n] = impactPolicy(t, n)
	}
	for k, v := range extra {
		files[k] = v
	}
	return copyRepo(t, files)
}

// exceptionFor is the example gitvend.yaml with one exception added.
func exceptionFor(t *testing.T, policyID, kind, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(exampleRepo, "gitvend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(data), "  # An exception needs", "  exceptions:\n  - policy: "+policyID+"\n    kind: "+kind+
		"\n    name: "+name+"\n    reason: The ledger is billed by the platform team.\n  # An exception needs", 1)
}

// TestImpactGolden: a pull request that drops a denying and a warning
// policy, adds a stricter one (with an exception for one object) and a
// warning one is reported per environment in every format.
func TestImpactGolden(t *testing.T) {
	ctx := context.Background()
	base := withPolicies(t, nil, "no_cronjobs.rego", "ingress_tls.rego")
	head := withPolicies(t, map[string]string{"gitvend.yaml": exceptionFor(t, "cost-center", "StatefulSet", "ledger-db")},
		"cost_center.rego", "service_owner.rego")
	rep, err := Impact(ctx, base, head, ImpactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Errors) > 0 {
		t.Fatalf("passed=%v errors=%v, want a failure for the new denials", rep.Passed, rep.Errors)
	}
	want := []string{RulesPolicies, RulesExceptions}
	if diff := cmp.Diff(want, rep.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	// In dev two Deployments are newly denied (the StatefulSet is
	// excepted), four Services newly warned, the CronJob and the Ingress
	// no longer judged; prod has one of each but a CronJob.
	got := map[string][4]int{}
	for _, e := range rep.Environments {
		got[e.Environment] = [4]int{len(e.NewlyDenied), len(e.NewlyWarned), len(e.StoppedDenying), len(e.StoppedWarning)}
	}
	wantCounts := map[string][4]int{"dev": {2, 4, 1, 1}, "prod": {1, 1, 0, 1}}
	if diff := cmp.Diff(wantCounts, got); diff != "" {
		t.Errorf("newly denied, newly warned, stopped denying, stopped warning per environment (-want +got):\n%s", diff)
	}
	for _, format := range ImpactFormats {
		var buf bytes.Buffer
		if err := WriteImpact(&buf, rep, format); err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("testdata", "impact."+format+".golden"), buf.String())
	}
	var round ImpactReport
	var buf bytes.Buffer
	_ = WriteImpact(&buf, rep, "json")
	if err := json.Unmarshal(buf.Bytes(), &round); err != nil {
		t.Fatalf("json output does not decode: %v", err)
	}
}

// TestImpactRelaxedPasses: rules that only stop denying pass, and list
// what they let through.
func TestImpactRelaxedPasses(t *testing.T) {
	base := withPolicies(t, nil, "no_cronjobs.rego")
	head := copyRepo(t, nil)
	rep, err := Impact(context.Background(), base, head, ImpactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || len(rep.Environments) != 1 || len(rep.Environments[0].StoppedDenying) != 1 {
		t.Fatalf("want a pass that stops denying the CronJob, got %+v", rep)
	}
	if v := rep.Environments[0].StoppedDenying[0]; v.Policy != "no-cronjobs" || v.Kind != "CronJob" || v.File == "" || v.Line == 0 {
		t.Errorf("stopped denying %+v, want no-cronjobs on the CronJob at its file and line", v)
	}
}

// TestImpactSameRulesChangeNothing: a head whose rules are the base's
// reports no change, and the settings it changes are named.
func TestImpactSameRulesChangeNothing(t *testing.T) {
	base := withPolicies(t, nil, "no_cronjobs.rego")
	head := withPolicies(t, nil, "no_cronjobs.rego", "no_cronjobs_test.rego")
	rep, err := Impact(context.Background(), base, head, ImpactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || len(rep.Environments) != 0 || len(rep.Changed) != 0 {
		t.Fatalf("want no change, got %+v", rep)
	}
}

// TestImpactBrokenRego: a Rego file of the head that does not parse is
// reported at its file and line, never as no change.
func TestImpactBrokenRego(t *testing.T) {
	base := copyRepo(t, nil)
	head := withPolicies(t, nil, "broken.rego")
	rep, err := Impact(context.Background(), base, head, ImpactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Errors) == 0 {
		t.Fatalf("want errors, got %+v", rep)
	}
	if p := rep.Errors[0]; p.File != "policies/broken.rego" || p.Line != 8 || !strings.Contains(p.Message, "rego_parse_error") {
		t.Errorf("error %+v, want a parse error at policies/broken.rego:8", p)
	}
	var buf bytes.Buffer
	_ = WriteImpact(&buf, rep, "text")
	if !strings.Contains(buf.String(), "policies/broken.rego:8: rego_parse_error") {
		t.Errorf("text does not name the file and line:\n%s", buf.String())
	}
}

// TestImpactRunawayPolicy: a head policy that never ends is stopped at its
// time and reported; the impact check itself finishes.
func TestImpactRunawayPolicy(t *testing.T) {
	base := copyRepo(t, nil)
	spin := `package gitvend.policies.spin

metadata := {"id": "spin", "severity": "deny", "title": "t", "description": "d.", "fix": "f", "params": {}}

violation contains {"message": "never"} if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i + j < 0
}
`
	head := copyRepo(t, map[string]string{"policies/spin.rego": spin})
	start := time.Now()
	rep, err := Impact(context.Background(), base, head, ImpactOptions{Limits: policy.Limits{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Message, "ran longer than the 2s") {
		t.Fatalf("want a time-out problem, got %+v", rep)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s", took)
	}
}

// TestImpactOfABlueprintChange: a head that changes a blueprint is judged
// on the base's requests rendered again with it: the CronJob of the one
// request using scheduled-job is newly denied, nothing else changes.
func TestImpactOfABlueprintChange(t *testing.T) {
	files := map[string]string{}
	src := filepath.Join("..", "..", "templates", "scheduled-job")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		files["blueprints/scheduled-job/"+filepath.ToSlash(rel)] = strings.Replace(string(data), "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	base := copyRepo(t, nil)
	head := copyRepo(t, files)
	rep, err := Impact(context.Background(), base, head, ImpactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	if diff := cmp.Diff([]string{RulesBlueprints}, rep.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	if rep.Passed || len(rep.Environments) != 1 || len(rep.Environments[0].NewlyDenied) != 1 {
		t.Fatalf("want one newly denied object, got %+v", rep)
	}
	if v := rep.Environments[0].NewlyDenied[0]; v.Kind != "CronJob" || v.Name != "nightly-reindex" || v.Policy != "privilege-escalation" ||
		!strings.HasPrefix(v.File, "requests/dev/team-search/nightly-reindex/") {
		t.Errorf("newly denied %+v", v)
	}
}

// TestImpactOfSettings: narrower policy parameters in the head's
// gitvend.yaml newly deny existing objects; a settings error of the head
// is reported at its field, never as no change.
func TestImpactOfSettings(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(exampleRepo, "gitvend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(data)
	narrow := strings.Replace(cfg, "registries: [ghcr.io/acme/, docker.io/library/]", "registries: [docker.io/library/]", 1)
	unknown := strings.Replace(cfg, "    replica-limits:\n", "    replica-limitz:\n", 1)
	if narrow == cfg || unknown == cfg {
		t.Fatal("the example gitvend.yaml changed; update the test")
	}
	base := copyRepo(t, nil)

	rep, err := Impact(context.Background(), base, copyRepo(t, map[string]string{"gitvend.yaml": narrow}), ImpactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{RulesSettings}, rep.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	if rep.Passed || rep.NewlyDenied() == 0 {
		t.Fatalf("want new denials, got %+v", rep)
	}
	for _, e := range rep.Environments {
		for _, v := range e.NewlyDenied {
			if v.Policy != "allowed-registries" {
				t.Errorf("newly denied by %s: %+v", v.Policy, v)
			}
		}
	}

	rep, err = Impact(context.Background(), base, copyRepo(t, map[string]string{"gitvend.yaml": unknown}), ImpactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Errors) != 1 || rep.Errors[0].File != "gitvend.yaml" ||
		!strings.Contains(rep.Errors[0].Message, `policy.policies.replica-limitz: unknown policy "replica-limitz"`) {
		t.Fatalf("want the settings error at its field, got %+v", rep.Errors)
	}
}
