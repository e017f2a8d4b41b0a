package main

import (
	"bytes"
	"encoding/json"
	"github.com/gitvend/gitvend/internal/schema"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/spf13/cobra"

	"github.com/gitvend/gitvend/internal/cluster"
)

// TestCLI is the command line's table: flags after arguments, -o and
// --output for --format, --version, help on stdout with arguments, exit
// codes and examples, did-you-mean, completion, and the cases where there
// is nothing to do, which are errors naming what is missing.
func TestCLI(t *testing.T) {
	empty := t.TempDir()
	noRequests := t.TempDir()
	if err := os.WriteFile(filepath.Join(noRequests, "gitvend.yaml"), []byte("apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// No request left, but a rendered folder: verify has something to report.
	orphan := copyTree(t, noRequests)
	if err := os.MkdirAll(filepath.Join(orphan, "requests/dev/team-a/old"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan, "requests/dev/team-a/old/configmap-old.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old, namespace: team-a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	formsOut := filepath.Join(t.TempDir(), "forms")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each must appear on stdout
		stderr []string // each must appear on stderr
	}{
		{"flags after paths", []string{"check", examples + "/...", "--format", "json"}, exitOK, []string{`"passed": true`}, nil},
		{"-o after paths", []string{"check", examples + "/...", "-o", "json"}, exitOK, []string{`"passed": true`}, nil},
		{"--output", []string{"check", "--output=markdown", examples + "/..."}, exitOK, []string{"gitvend"}, nil},
		{"--repo after paths", []string{"check", examples + "/requests/...", "--repo", examples, "-o", "json"}, exitOK, []string{`"passed": true`}, nil},
		{"bad --output", []string{"check", examples, "-o", "yaml"}, exitBadUse, nil, []string{`unknown format "yaml"`, "allowed: text, json"}},
		{"--version", []string{"--version"}, exitOK, []string{"gitvend "}, nil},
		{"version", []string{"version"}, exitOK, []string{"gitvend "}, nil},
		{"version -o json", []string{"version", "-o", "json"}, exitOK, []string{`"version": "`}, nil},
		{"help", []string{"help"}, exitOK, []string{"Usage:", "Commands:", "check", "render", "apply", "completion", "Exit codes:", "3  drift found"}, nil},
		{"--help", []string{"--help"}, exitOK, []string{"Usage:", "Examples:"}, nil},
		{"help check", []string{"help", "check"}, exitOK, []string{"gitvend check [flags] [PATH...]", "Arguments:", "PATH", "Exit codes:", "1  a policy denied", "Examples:", "-o, --format"}, nil},
		{"check -h", []string{"check", "-h"}, exitOK, []string{"Usage:", "Arguments:"}, nil},
		{"render --help", []string{"render", "--help"}, exitOK, []string{"--verify", "all or nothing", "Exit codes:", "Examples:"}, nil},
		{"apply --help", []string{"apply", "--help"}, exitOK, []string{"--kubeconfig", "--context", "--namespace", "--cluster-scoped-kind", "--prune", "--wait", "--timeout", "Exit codes:", "Examples:"}, nil},
		{"drift --help", []string{"drift", "--help"}, exitOK, []string{"--kubeconfig", "3  drift found", "Examples:"}, nil},
		{"forms --help", []string{"forms", "--help"}, exitOK, []string{"--out", "Exit codes:", "Examples:"}, nil},
		{"serve --help", []string{"serve", "--help"}, exitOK, []string{"--config", "Exit codes:", "Examples:"}, nil},
		{"version --help", []string{"version", "--help"}, exitOK, []string{"-o, --format", "Examples:"}, nil},
		{"no command", nil, exitBadUse, nil, []string{"Usage:", "Commands:"}},
		{"did you mean check", []string{"chekc"}, exitBadUse, nil, []string{`unknown command "chekc"`, "Did you mean this?", "check"}},
		{"did you mean render", []string{"rendr", "--verify"}, exitBadUse, nil, []string{"Did you mean this?", "render"}},
		{"unknown flag", []string{"check", "--nope", examples}, exitBadUse, nil, []string{"unknown flag: --nope", "gitvend check --help"}},
		{"mistyped flag", []string{"check", examples, "--fromat", "json"}, exitBadUse, nil, []string{"unknown flag: --fromat; did you mean --format?"}},
		{"mistyped flag of apply", []string{"apply", "--kubecofnig", "k"}, exitBadUse, nil, []string{"did you mean --kubeconfig?"}},
		{"argument to a command without", []string{"render", "--verify", "extra"}, exitBadUse, nil, []string{`takes no arguments, got "extra"`}},
		{"completion bash", []string{"completion", "bash"}, exitOK, []string{"bash completion", "gitvend"}, nil},
		{"completion zsh", []string{"completion", "zsh"}, exitOK, []string{"#compdef gitvend"}, nil},
		{"completion fish", []string{"completion", "fish"}, exitOK, []string{"complete -c gitvend"}, nil},
		{"check an empty directory", []string{"check", empty}, exitBadUse, nil, []string{"no Kubernetes objects found in " + empty}},
		{"check a missing path", []string{"check", "does/not/exist"}, exitBadUse, nil, []string{"does/not/exist: no such file or directory"}},
		{"check a missing repository", []string{"check", "--repo", "/nonexistent", examples}, exitBadUse, nil, []string{"--repo /nonexistent: no such directory"}},
		{"verify a missing repository", []string{"render", "--verify", "--repo", "/nonexistent"}, exitBadUse, nil, []string{"--repo /nonexistent: no such directory"}},
		{"write a missing repository", []string{"render", "--write", "--repo", "/nonexistent"}, exitBadUse, nil, []string{"--repo /nonexistent: no such directory"}},
		{"verify a directory without gitvend.yaml", []string{"render", "--verify", "--repo", empty}, exitBadUse, nil, []string{"no gitvend.yaml"}},
		{"verify without requests", []string{"render", "--verify", "--repo", noRequests}, exitBadUse, nil, []string{"no request records under " + filepath.Join(noRequests, "requests")}},
		{"verify an orphan without requests", []string{"render", "--verify", "--repo", orphan}, exitFailed, []string{"requests/dev/team-a/old: rendered folder without a request record"}, nil},
		{"write without requests", []string{"render", "--write", "--repo", noRequests}, exitBadUse, nil, []string{"no request records"}},
		{"verify a new repository", []string{"render", "--verify", "--allow-empty", "--repo", noRequests}, exitOK, []string{"verify passed"}, nil},
		{"allow-empty without verify", []string{"render", "--write", "--allow-empty", "--repo", noRequests}, exitBadUse, nil, []string{"--allow-empty goes with --verify"}},
		{"forms for a missing repository", []string{"forms", "--repo", "/nonexistent", "--out", formsOut}, exitBadUse, nil, []string{"--repo /nonexistent: no such directory"}},
		{"forms without gitvend.yaml", []string{"forms", "--repo", empty, "--out", formsOut}, exitBadUse, nil, []string{"no gitvend.yaml"}},
		{"apply without --target", []string{"apply", "--kubeconfig", "k", "--environment", "dev", "--namespace", "a"}, exitBadUse, nil, []string{"--target NAME is required"}},
		{"apply without --namespace", []string{"apply", "--target", "dev", "--environment", "dev"}, exitBadUse, nil, []string{"--namespace is required without --config"}},
		{"drift without --environment", []string{"drift", "--target", "dev", "--namespace", "a"}, exitBadUse, nil, []string{"--environment is required without --config"}},
		{"apply with a bad namespace", []string{"apply", "--target", "dev", "--environment", "dev", "--namespace", "Team_A", "--repo", examples}, exitBadUse, nil, []string{"namespaces[0] (or --namespace[0])", `got "Team_A"`}},
		{"apply with a negative timeout", []string{"apply", "--target", "dev", "--environment", "dev", "--namespace", "a", "--repo", examples, "--timeout", "-1s"}, exitBadUse, nil, []string{"--timeout must be a positive duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := gitvend(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if tt.code == exitOK && errOut != "" {
				t.Errorf("stderr on success: %s", errOut)
			}
			if tt.code == exitBadUse && out != "" {
				t.Errorf("stdout on bad usage: %s", out)
			}
		})
	}
	if _, err := os.Stat(formsOut); err == nil {
		t.Errorf("forms without a repository created %s", formsOut)
	}
}

// TestVersionJSON: version -o json is the version and commit as an object.
func TestVersionJSON(t *testing.T) {
	code, out, _ := gitvend(t, "version", "--output", "json")
	var v struct {
		Version string `json:"version"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &v) != nil || v.Version == "" {
		t.Fatalf("exit %d, %q", code, out)
	}
	_, text, _ := gitvend(t, "--version")
	if !strings.HasPrefix(text, "gitvend "+v.Version) {
		t.Errorf("--version %q does not name version %q", text, v.Version)
	}
}

// TestRenderWriteAllOrNothing: when one request cannot be rendered,
// render --write writes nothing, though other requests' files and the
// environment root are stale, and names the request; once it renders,
// --write writes them.
func TestRenderWriteAllOrNothing(t *testing.T) {
	repo := copyTree(t, examples)
	// A stale rendered file and a stale environment root, which --write
	// would rewrite.
	stale := filepath.Join(repo, "requests/dev/team-payments/payments-api/deployment-payments-api.yaml")
	data, err := os.ReadFile(stale)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, bytes.Replace(data, []byte("cpu: 250m"), []byte(`cpu: "4"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(repo, "environments/dev/kustomization.yaml")
	if err := os.WriteFile(root, []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// One request that cannot be rendered.
	broken := filepath.Join(repo, "requests/dev/team-search/nightly-reindex.yaml")
	good, err := os.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, bytes.Replace(good, []byte("blueprint: scheduled-job"), []byte("blueprint: no-such-blueprint"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, repo)
	code, out, errOut := gitvend(t, "render", "--write", "--repo", repo)
	if code != exitBadUse || !strings.Contains(errOut, "requests/dev/team-search/nightly-reindex.yaml") ||
		!strings.Contains(errOut, "nothing was written") || strings.Contains(out, "wrote") {
		t.Fatalf("render --write with a broken request: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if after := snapshot(t, repo); !equalTrees(before, after) {
		t.Fatalf("render --write changed the repository although a request failed")
	}
	if err := os.WriteFile(broken, good, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = gitvend(t, "render", "--write", "--repo", repo)
	if code != exitOK || !strings.Contains(out, "wrote requests/dev/team-payments/payments-api/deployment-payments-api.yaml") ||
		!strings.Contains(out, "wrote environments/dev/kustomization.yaml") {
		t.Fatalf("render --write once every request renders: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code, out, _ := gitvend(t, "render", "--verify", "--repo", repo); code != exitOK {
		t.Errorf("verify after --write: exit %d\n%s", code, out)
	}
}

// snapshot reads every file under dir, by path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for p, data := range a {
		if got, ok := b[p]; !ok || got != data {
			return false
		}
	}
	return true
}

// TestCheckSARIFLocated: gitvend check -o sarif on a change over its
// budget is valid SARIF 2.1.0, and every result, the budget's too, has a
// file and a line, as code scanning requires.
func TestCheckSARIFLocated(t *testing.T) {
	repo := copyTree(t, examples)
	file := filepath.Join(repo, "requests/dev/team-payments/payments-api/deployment-payments-api.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, bytes.Replace(data, []byte("cpu: 250m"), []byte(`cpu: "12"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := gitvend(t, "check", repo+"/...", "-o", "sarif")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (over budget)\n%s", code, exitFailed, errOut)
	}
	f, err := os.Open("../../internal/check/testdata/sarif-2.1.0-subset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v", err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	budget := false
	for _, r := range log.Runs[0].Results {
		if len(r.Locations) == 0 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" || r.Locations[0].PhysicalLocation.Region.StartLine < 1 {
			t.Errorf("result %s has no file and line: %+v", r.RuleID, r.Locations)
			continue
		}
		if r.RuleID == "budget" {
			budget = true
			if loc := r.Locations[0].PhysicalLocation; loc.ArtifactLocation.URI != "gitvend.yaml" {
				t.Errorf("budget result at %s, want gitvend.yaml", loc.ArtifactLocation.URI)
			}
		}
	}
	if !budget {
		t.Errorf("no budget result:\n%s", out)
	}
}

// TestSchemaCommand: a schema wired into schemas is offered as gitvend
// schema NAME and printed as it is; another name is bad usage.
func TestSchemaCommand(t *testing.T) {
	for _, name := range schema.Names() {
		want, err := schema.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := gitvend(t, "schema", name); code != exitOK || out != string(want) {
			t.Errorf("schema %s: exit %d, %d bytes (want the %d of the schema), %s", name, code, len(out), len(want), errOut)
		}
	}
	if code, out, _ := gitvend(t, "schema", "--help"); code != exitOK || !strings.Contains(out, "one of: request, repo, server") {
		t.Errorf("schema --help: exit %d\n%s", code, out)
	}
	if code, _, errOut := gitvend(t, "schema", "policy"); code != exitBadUse || !strings.Contains(errOut, "give one of request, repo, server") {
		t.Errorf("schema policy: exit %d, %s", code, errOut)
	}
}

// TestCompleteTargets: the shell completion of --target lists the targets
// of the --config given.
func TestCompleteTargets(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "server.yaml")
	err := os.WriteFile(cfg, []byte(`apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
github:
  appID: 1
repositories:
- name: acme/infra
targets:
- name: dev
  repository: acme/infra
  kubeconfig: kubeconfig
  environments: [dev]
  namespaces: ["team-*"]
- name: prod
  repository: acme/infra
  kubeconfig: kubeconfig
  environments: [prod]
  namespaces: ["team-*"]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := gitvend(t, "__complete", "apply", "--config", cfg, "--target", "")
	if code != exitOK || !strings.Contains(out, "dev\nprod\n") {
		t.Errorf("complete --target: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = gitvend(t, "__complete", "check", "-o", "")
	if code != exitOK || !strings.Contains(out, "sarif") {
		t.Errorf("complete -o: exit %d\n%s", code, out)
	}
}

// TestHelpOfEveryCommand: every command's help, on stdout, has its usage,
// exit codes and examples, and names its arguments when it takes some.
func TestHelpOfEveryCommand(t *testing.T) {
	root := newRootCmd(streams{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			code, out, errOut := gitvend(t, c.Name(), "--help")
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, want := range []string{"Usage:\n  gitvend " + c.Name(), "Exit codes:\n  0  ok", "Examples:\n  "} {
				if !strings.Contains(out, want) {
					t.Errorf("help lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(c.Use, "PATH") || strings.Contains(c.Use, "SHELL") || c.Name() == "completion" {
				if !strings.Contains(out, "Arguments:\n") {
					t.Errorf("help of a command with arguments lacks them:\n%s", out)
				}
			}
		})
	}
}

// TestTargetFromFlags: with --config, the flags given override the
// target's settings and the others keep the file's; without it, the
// target is the flags with a server configuration's defaults.
func TestTargetFromFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "server.yaml")
	err := os.WriteFile(cfg, []byte(`apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
github:
  appID: 1
repositories:
- name: acme/infra
targets:
- name: dev
  repository: acme/infra
  kubeconfig: kubeconfig
  context: dev-admin
  environments: [dev]
  namespaces: ["team-*"]
  clusterScopedKinds: [Namespace]
  healthTimeout: 30s
  maxPrune: 3
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) (*applyOptions, *cobra.Command) {
		t.Helper()
		var o applyOptions
		cmd := &cobra.Command{Use: "apply"}
		addTargetFlags(cmd, &o.targetOptions)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return &o, cmd
	}
	o, cmd := parse("--config", cfg, "--target", "dev", "--repo", examples, "--namespace", "team-a,team-b", "--prune", "--context", "other")
	got, err := o.targetFromFlags(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kubeconfig != filepath.Join(dir, "kubeconfig") || got.Context != "other" || !got.Prune || got.MaxPrune != 3 ||
		got.HealthTimeout != 30*time.Second || strings.Join(got.Namespaces, ",") != "team-a,team-b" || strings.Join(got.ClusterScopedKinds, ",") != "Namespace" {
		t.Errorf("target from --config with overrides: %+v", got)
	}
	o, cmd = parse("--target", "cli", "--repo", examples, "--environment", "dev", "--namespace", "team-*", "--max-prune-percent", "10")
	got, err = o.targetFromFlags(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "cli" || got.Kubeconfig != "" || got.Prune || got.MaxPrunePercent != 10 || got.HealthTimeout != cluster.DefaultHealthTimeout ||
		got.InventoryNamespace != cluster.DefaultInventoryNamespace || got.DriftInterval != cluster.DefaultDriftInterval {
		t.Errorf("target from flags alone: %+v", got)
	}
	o, cmd = parse("--target", "cli", "--repo", examples, "--environment", "dev", "--namespace", "team-*", "--max-prune-percent", "300")
	if _, err := o.targetFromFlags(cmd); err == nil || !strings.Contains(err.Error(), "maxPrunePercent (or --max-prune-percent)") {
		t.Errorf("a bad --max-prune-percent: %v", err)
	}
}
