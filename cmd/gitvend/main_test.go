package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const examples = "../../examples/desired-state"

// gitvend runs the command line in-process and returns its exit code and output.
func gitvend(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, streams{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
	code := exitCode(err, &stderr)
	return code, stdout.String(), stderr.String()
}

type jsonReport struct {
	Passed     bool `json:"passed"`
	Violations []struct {
		Policy, Severity, Kind, Namespace, Name, File, Message string
		Line                                                   int
	} `json:"violations"`
	Errors []struct {
		File    string
		Line    int
		Message string
	} `json:"errors"`
	Cost struct {
		Currency    string  `json:"currency"`
		Monthly     float64 `json:"monthly"`
		BaseMonthly float64 `json:"base_monthly"`
		Delta       float64 `json:"delta"`
		Objects     []struct {
			Kind, Name string
			Monthly    float64
		} `json:"objects"`
	} `json:"cost"`
}

func decodeReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not the JSON report: %v\n%s", err, out)
	}
	return r
}

func TestCheckExamplesPass(t *testing.T) {
	code, out, stderr := gitvend(t, "check", "--format", "json", examples+"/...")
	r := decodeReport(t, out)
	if code != exitOK || !r.Passed {
		t.Fatalf("exit %d, passed %v; violations %+v; stderr %s", code, r.Passed, r.Violations, stderr)
	}
	for _, v := range r.Violations {
		if v.Severity == "deny" {
			t.Errorf("unexpected denial %+v", v)
		}
	}
	if r.Cost.Currency != "USD" || r.Cost.Monthly <= 0 || len(r.Cost.Objects) == 0 {
		t.Errorf("cost = %+v, want a positive USD estimate with objects", r.Cost)
	}
}

func TestCheckFindsViolationsWithLines(t *testing.T) {
	code, out, _ := gitvend(t, "check", "--format", "json", "testdata/bad")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailed, out)
	}
	r := decodeReport(t, out)
	type hit struct {
		Policy, File string
		Line         int
	}
	var got []hit
	for _, v := range r.Violations {
		if v.Severity == "deny" {
			got = append(got, hit{v.Policy, v.File, v.Line})
		}
	}
	want := []hit{
		{"namespace-boundary", "requests/dev/team-payments/web/deployment-web.yaml", 37},
		{"image-latest-tag", "requests/dev/team-payments/web/deployment-web.yaml", 21},
		{"privileged-container", "requests/dev/team-payments/web/deployment-web.yaml", 23},
	}
	less := func(a, b hit) bool { return a.Policy < b.Policy }
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(less)); diff != "" {
		t.Errorf("denials (-want +got):\n%s", diff)
	}
}

func TestCheckUnreadableInput(t *testing.T) {
	code, out, _ := gitvend(t, "check", "--format", "json", "testdata/broken")
	if code != exitBadUse {
		t.Fatalf("exit %d, want %d\n%s", code, exitBadUse, out)
	}
	r := decodeReport(t, out)
	if len(r.Errors) != 1 || !strings.HasSuffix(r.Errors[0].File, "broken.yaml") || r.Errors[0].Line == 0 {
		t.Fatalf("errors = %+v, want one with broken.yaml and a line", r.Errors)
	}
	code, text, _ := gitvend(t, "check", "testdata/broken")
	if code != exitBadUse || !strings.Contains(text, "Widget (example.com/v1) is not a built-in Kubernetes kind") {
		t.Errorf("text output lacks the unknown-kind note (exit %d):\n%s", code, text)
	}
}

func TestCheckFormats(t *testing.T) {
	for _, f := range []string{"text", "markdown", "github", "sarif"} {
		t.Run(f, func(t *testing.T) {
			code, out, _ := gitvend(t, "check", "--format", f, "testdata/bad")
			if code != exitFailed {
				t.Fatalf("exit %d, want %d", code, exitFailed)
			}
			want := map[string]string{
				"text":     "privileged-container",
				"markdown": "| ❌ deny | `privileged-container` |",
				"github":   "::error file=requests/dev/team-payments/web/deployment-web.yaml,line=23,title=gitvend privileged-container::",
				"sarif":    `"ruleId": "privileged-container"`,
			}[f]
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		})
	}
	if code, _, stderr := gitvend(t, "check", "--format", "xml", "testdata/bad"); code != exitBadUse || !strings.Contains(stderr, "allowed: text, json") {
		t.Errorf("--format xml: exit %d, stderr %q", code, stderr)
	}
}

func TestCheckCostChangeAgainstBase(t *testing.T) {
	head := copyTree(t, examples)
	req := filepath.Join(head, "requests/dev/team-payments/payments-api.yaml")
	data, err := os.ReadFile(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(req, bytes.Replace(data, []byte("cpu: 250m"), []byte("cpu: 750m"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := gitvend(t, "render", "--write", "--repo", head); code != exitOK {
		t.Fatalf("render --write: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ := gitvend(t, "check", "--format", "json", "--repo", head, "--base", examples, head+"/...")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	r := decodeReport(t, out)
	// Two more replicas' worth: 2 × 0.5 core × 0.031611 $/h × 730 h.
	want := 2 * 0.5 * 0.031611 * 730
	if d := r.Cost.Delta - want; d > 0.01 || d < -0.01 {
		t.Errorf("delta = %.4f, want %.4f (base %.2f, head %.2f)", r.Cost.Delta, want, r.Cost.BaseMonthly, r.Cost.Monthly)
	}
}

func TestRenderVerify(t *testing.T) {
	if code, out, _ := gitvend(t, "render", "--verify", "--repo", examples); code != exitOK {
		t.Fatalf("examples do not verify clean (exit %d):\n%s", code, out)
	}
	repo := copyTree(t, examples)
	f := filepath.Join(repo, "requests/dev/team-payments/payments-api/deployment-payments-api.yaml")
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, bytes.Replace(data, []byte("cpu: 250m"), []byte("cpu: \"4\""), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "requests/dev/team-payments/payments-api/extra.yaml"), []byte("a: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(repo, "requests/dev/team-search/nightly-reindex.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, _ := gitvend(t, "render", "--verify", "--repo", repo)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailed, out)
	}
	for _, want := range []string{
		"requests/dev/team-payments/payments-api/deployment-payments-api.yaml: differs from a fresh render",
		"-              cpu: \"4\"",
		"+              cpu: 250m",
		"requests/dev/team-payments/payments-api/extra.yaml: not produced by blueprint web-service",
		"requests/dev/team-search/nightly-reindex: rendered folder without a request record",
		"environments/dev/kustomization.yaml: does not name exactly the requests of dev",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := gitvend(t, "render", "--write", "--repo", repo); code != exitOK {
		t.Fatalf("render --write: exit %d\n%s", code, out)
	}
	if code, out, _ := gitvend(t, "render", "--verify", "--repo", repo); code == exitOK || !strings.Contains(out, "rendered folder without a request record") {
		t.Errorf("after --write only the orphan folder should remain (exit %d):\n%s", code, out)
	}
}

func TestRenderRequest(t *testing.T) {
	code, out, stderr := gitvend(t, "render", "--request", examples+"/requests/dev/team-payments/payments-api.yaml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "testdata/golden/render-payments-api.yaml", out)
	dir := t.TempDir()
	if code, _, stderr := gitvend(t, "render", "--request", examples+"/requests/dev/team-payments/payments-api.yaml", "--out", dir); code != exitOK {
		t.Fatalf("--out: exit %d: %s", code, stderr)
	}
	committed, err := os.ReadFile(examples + "/requests/dev/team-payments/payments-api/deployment-payments-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(filepath.Join(dir, "deployment-payments-api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, written) {
		t.Errorf("--out wrote a file that differs from the committed one")
	}
}

func TestRenderBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body, want string
	}{
		{"unknown-blueprint.yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: a}\nspec: {blueprint: nope, environment: dev, namespace: n, owner: o}\n", "spec.blueprint"},
		{"bad-param.yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: a}\nspec: {blueprint: web-service, environment: dev, namespace: n, owner: o, parameters: {image: 'ghcr.io/a/b:1', minReplicas: many}}\n", "parameters.minReplicas"},
		{"bad-name.yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: Bad_Name}\nspec: {blueprint: web-service, environment: dev, namespace: n, owner: o}\n", "metadata.name: must be a DNS-1123 label"},
		{"unknown-field.yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: a}\nspec: {blueprint: web-service, environment: dev, namespace: n, owner: o, replicas: 3}\n", "spec.replicas: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := gitvend(t, "render", "--request", write(tt.name, tt.body))
			if code != exitBadUse || out != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming %q", code, out, stderr, tt.want)
			}
		})
	}
}

func TestForms(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := gitvend(t, "forms", "--repo", examples, "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"gitvend-postgres.yml", "gitvend-preview.yml", "gitvend-scheduled-job.yml", "gitvend-team-namespace.yml", "gitvend-web-service.yml"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("forms (-want +got):\n%s", diff)
	}
	form, err := os.ReadFile(filepath.Join(dir, "gitvend-web-service.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(form), "- prod") || !strings.Contains(string(form), "- gitvend") {
		t.Errorf("web-service form lacks the environments or the gitvend label:\n%s", form)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitBadUse, "Usage:"},
		{[]string{"frobnicate"}, exitBadUse, `unknown command "frobnicate"`},
		{[]string{"render"}, exitBadUse, "give exactly one of --request FILE, --verify or --write"},
		{[]string{"render", "--verify", "--write"}, exitBadUse, "give exactly one of"},
		{[]string{"check", "--nope"}, exitBadUse, "unknown flag: --nope"},
		{[]string{"forms"}, exitBadUse, "--out DIR is required"},
		{[]string{"check", "does/not/exist"}, exitBadUse, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, stderr := gitvend(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr+out, tt.want) {
				t.Errorf("exit %d, output %q; want exit %d and %q", code, stderr+out, tt.code, tt.want)
			}
		})
	}
	if code, out, _ := gitvend(t, "version"); code != exitOK || !strings.HasPrefix(out, "gitvend ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}
