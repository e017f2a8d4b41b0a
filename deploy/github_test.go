package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// step is one step of a workflow job or a composite action.
type step struct {
	Name  string            `yaml:"name"`
	Uses  string            `yaml:"uses"`
	Run   string            `yaml:"run"`
	Shell string            `yaml:"shell"`
	With  map[string]any    `yaml:"with"`
	Env   map[string]string `yaml:"env"`
}

type workflow struct {
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		RunsOn any    `yaml:"runs-on"`
		Uses   string `yaml:"uses"`
		Steps  []step `yaml:"steps"`
	} `yaml:"jobs"`
}

type action struct {
	Name   string         `yaml:"name"`
	Inputs map[string]any `yaml:"inputs"`
	Runs   struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

var (
	// owner/repo[/path]@ref, the ref a version tag or a full commit sha.
	pinnedAction = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@(v[0-9]+(\.[0-9]+){0,2}|[0-9a-f]{40})$`)
	inputRef     = regexp.MustCompile(`inputs\.([A-Za-z0-9_-]+)`)
	// Expressions in scripts are expanded before the shell sees them, so
	// values from inputs or events must come in through env instead.
	scriptExpr = regexp.MustCompile(`\$\{\{[^}]*\b(inputs|github\.event|github\.head_ref|github\.base_ref)\b`)
)

func readYAML(t *testing.T, path string, into any) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(data)
}

// checkSteps checks what every step list needs: each step runs a script or
// uses a pinned action, and scripts take no expressions from inputs.
func checkSteps(t *testing.T, where string, steps []step, composite bool) {
	t.Helper()
	if len(steps) == 0 {
		t.Errorf("%s has no steps", where)
	}
	for i, s := range steps {
		at := fmt.Sprintf("%s step %d %s", where, i+1, s.Name)
		switch {
		case (s.Uses == "") == (s.Run == ""):
			t.Errorf("%s: want exactly one of uses and run", at)
		case s.Uses != "" && !strings.HasPrefix(s.Uses, "./") && !pinnedAction.MatchString(s.Uses):
			t.Errorf("%s: uses %s, want owner/repo@vN or a full commit sha", at, s.Uses)
		case composite && s.Run != "" && s.Shell == "":
			t.Errorf("%s: composite run steps need a shell", at)
		}
		if scriptExpr.MatchString(s.Run) {
			t.Errorf("%s: the script expands an expression from inputs or the event; pass it through env", at)
		}
	}
}

// checkInputs checks that every declared input is used and every input
// used is declared.
func checkInputs(t *testing.T, where, text string, declared map[string]any) {
	t.Helper()
	used := map[string]bool{}
	for _, m := range inputRef.FindAllStringSubmatch(text, -1) {
		used[m[1]] = true
		if _, ok := declared[m[1]]; !ok {
			t.Errorf("%s uses inputs.%s, which it does not declare", where, m[1])
		}
	}
	for name := range declared {
		if !used[name] {
			t.Errorf("%s declares the input %s but never uses it", where, name)
		}
	}
}

// runs joins the scripts of steps and the actions they use.
func runs(steps []step) string {
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(s.Run + "\n" + s.Uses + "\n")
	}
	return b.String()
}

func TestWorkflows(t *testing.T) {
	files, err := filepath.Glob("../.github/workflows/*.y*ml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no workflows in .github/workflows")
	}
	all := map[string]string{}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			var w workflow
			text := readYAML(t, f, &w)
			if len(w.On) == 0 {
				t.Error("no triggers under on")
			}
			if len(w.Jobs) == 0 {
				t.Fatal("no jobs")
			}
			var steps []step
			for id, j := range w.Jobs {
				if j.Uses != "" {
					continue
				}
				if j.RunsOn == nil {
					t.Errorf("job %s has no runs-on", id)
				}
				checkSteps(t, "job "+id, j.Steps, false)
				steps = append(steps, j.Steps...)
			}
			all[name] = runs(steps)
			if call, ok := w.On["workflow_call"].(map[string]any); ok {
				inputs, _ := call["inputs"].(map[string]any)
				checkInputs(t, name, text, inputs)
			}
		})
	}
	wantRuns(t, "ci.yml", all["ci.yml"], "make test", "make fuzz FUZZTIME=10s", "actions/setup-go@")
	wantRuns(t, "gitvend-check.yml", all["gitvend-check.yml"], gitvendCheckRuns...)
	wantRuns(t, "release.yml", all["release.yml"], "goreleaser check", "goreleaser release", "helm package", "helm push", "oci://ghcr.io/")
}

// gitvendCheckRuns is what both the reusable workflow and the action run.
var gitvendCheckRuns = []string{"--format github", "--format sarif", "github/codeql-action/upload-sarif@", "gitvend render --verify"}

func wantRuns(t *testing.T, where, text string, want ...string) {
	t.Helper()
	if text == "" {
		t.Errorf("%s is missing", where)
		return
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not run %q", where, w)
		}
	}
}

func TestActions(t *testing.T) {
	files, err := filepath.Glob("../.github/actions/*/action.y*ml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(files, func(f string) bool { return strings.Contains(f, "/gitvend-check/") }) {
		t.Fatal("no .github/actions/gitvend-check/action.yml")
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			var a action
			text := readYAML(t, f, &a)
			if a.Name == "" {
				t.Error("no name")
			}
			if a.Runs.Using != "composite" {
				t.Errorf("runs.using = %q, want composite", a.Runs.Using)
			}
			checkSteps(t, "action", a.Runs.Steps, true)
			checkInputs(t, "action", text, a.Inputs)
			if strings.Contains(f, "/gitvend-check/") {
				wantRuns(t, "action", runs(a.Runs.Steps), gitvendCheckRuns...)
			}
		})
	}
}
