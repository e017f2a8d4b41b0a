package check

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/request"
)

const badRepo = "../../cmd/gitvend/testdata/bad"

// TestBuiltinBlueprintsPassPolicies renders every built-in blueprint with
// its defaults and checks the result with the built-in policies: none may
// be denied.
func TestBuiltinBlueprintsPassPolicies(t *testing.T) {
	ctx := context.Background()
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]any{"image": "ghcr.io/acme/app:1.0.0", "credentialsSecret": "db-credentials"}
	for _, bp := range cat.List() {
		t.Run(bp.Name, func(t *testing.T) {
			params := map[string]any{}
			for _, name := range bp.ParameterNames() {
				if p := bp.Parameter(name); p.Required {
					v, ok := required[name]
					if !ok {
						t.Fatalf("no test value for required parameter %s", name)
					}
					params[name] = v
				}
			}
			repo := t.TempDir()
			req := request.New("demo", request.Spec{Blueprint: bp.Name, Environment: "dev", Namespace: "team-a", Owner: "a", Parameters: params})
			r, err := desired.Render(ctx, cat, req)
			if err != nil {
				t.Fatal(err)
			}
			record, err := req.Encode()
			if err != nil {
				t.Fatal(err)
			}
			files := append([]desired.File{{Path: req.Path(), Data: record}}, r.Files...)
			for _, f := range files {
				p := filepath.Join(repo, f.Path)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments: [{name: dev}]\nteams: [{name: a, namespaces: [team-a]}]\n"
			if err := os.WriteFile(filepath.Join(repo, config.RepoFile), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := New(ctx, repo, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := c.Check(ctx, []string{repo}, "")
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Passed || len(rep.Errors) > 0 {
				t.Errorf("%s with defaults does not pass: violations %+v, errors %+v", bp.Name, rep.Violations, rep.Errors)
			}
			if rep.Objects != len(r.Objects) {
				t.Errorf("checked %d objects, rendered %d", rep.Objects, len(r.Objects))
			}
		})
	}
}

// TestFormatsGolden pins every output format for the same failing input.
func TestFormatsGolden(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, badRepo, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Check(ctx, []string{badRepo}, "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(c.Policies())
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := w.Write(&buf, rep, format, format == "text"); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "bad."+format+".golden"), buf.String())
		})
	}
	for name, part := range map[string]func(io.Writer, *Report) error{"policy": w.PolicyMarkdown, "cost": w.CostMarkdown} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := part(&buf, rep); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "bad."+name+".golden"), buf.String())
		})
	}
	if err := w.Write(&bytes.Buffer{}, rep, "yaml", false); err == nil || !strings.Contains(err.Error(), "allowed: text") {
		t.Errorf("unknown format error = %v", err)
	}
}

func TestEscapes(t *testing.T) {
	if got, want := escapeProperty("a:b,c%\n"), "a%3Ab%2Cc%25%0A"; got != want {
		t.Errorf("escapeProperty = %q, want %q", got, want)
	}
	if got, want := escapeData("50%\r\nx"), "50%25%0D%0Ax"; got != want {
		t.Errorf("escapeData = %q, want %q", got, want)
	}
	if got, want := cell("a|b\nc"), "a\\|b<br>c"; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (UPDATE=1 creates it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; UPDATE=1 rewrites it):\n%s", path, diff)
	}
}

// TestChangeCountsWhatThePullRequestChanges: the counts say what a head
// adds, changes and removes against its base, not how many objects the
// repository has.
func TestChangeCountsWhatThePullRequestChanges(t *testing.T) {
	ctx := context.Background()
	cm := func(name, value string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: team-search\ndata:\n  v: \"" + value + "\"\n"
	}
	base, head := t.TempDir(), t.TempDir()
	for _, dir := range []string{base, head} {
		if err := os.CopyFS(dir, os.DirFS("../../examples/desired-state")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "extra"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(dir, name, data string) {
		if err := os.WriteFile(filepath.Join(dir, "extra", name+".yaml"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(base, "keep", cm("keep", "1"))
	write(base, "same", cm("same", "1"))
	write(base, "old", cm("old", "1"))
	write(head, "keep", cm("keep", "2"))
	write(head, "same", cm("same", "1"))
	write(head, "new1", cm("new1", "1"))
	write(head, "new2", cm("new2", "1"))
	ch, err := New(ctx, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ch.For(head).Check(ctx, []string{head}, base)
	if err != nil {
		t.Fatal(err)
	}
	want := &Change{Added: 2, Changed: 1, Removed: 1, Total: rep.Objects, Environments: rep.Change.Environments}
	if diff := cmp.Diff(want, rep.Change); diff != "" {
		t.Errorf("change (-want +got):\n%s", diff)
	}
	w, err := NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := w.Markdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if line := objectsLine(rep); !strings.HasPrefix(line, "2 objects added, 1 changed, 1 removed; ") || !strings.Contains(md.String(), line) {
		t.Errorf("counts %q in:\n%s", line, md.String())
	}
}
