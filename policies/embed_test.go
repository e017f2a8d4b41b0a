package policies

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

func list(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return out
}

func TestModulesAndTests(t *testing.T) {
	modules, tests := list(t, Modules()), list(t, Tests())
	for _, m := range modules {
		if strings.HasSuffix(m, TestSuffix) {
			t.Errorf("Modules holds the test file %s", m)
		}
	}
	for _, m := range tests {
		if !strings.HasSuffix(m, TestSuffix) {
			t.Errorf("Tests holds the module %s", m)
		}
	}
	var untested []string
	for _, m := range modules {
		if path.Dir(m) == "." && !slices.Contains(tests, strings.TrimSuffix(m, ".rego")+TestSuffix) {
			untested = append(untested, m)
		}
	}
	if diff := cmp.Diff([]string(nil), untested); diff != "" {
		t.Errorf("policy modules without a %s file (-want +got):\n%s", TestSuffix, diff)
	}
	if len(modules) < 18 {
		t.Errorf("Modules holds %d files, want the 17 policies and lib/", len(modules))
	}
	if _, err := fs.ReadFile(Modules(), "privileged_container_test.rego"); err == nil {
		t.Error("Modules opens a test file")
	}
	if _, err := fs.ReadFile(Tests(), "privileged_container.rego"); err == nil {
		t.Error("Tests opens a module")
	}
}

// TestFormatted checks that every Rego file is formatted as `opa fmt`
// formats it.
func TestFormatted(t *testing.T) {
	for _, fsys := range []fs.FS{Modules(), Tests()} {
		for _, name := range list(t, fsys) {
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			got, err := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Errorf("format %s: %v", name, err)
				continue
			}
			if diff := cmp.Diff(string(src), string(got)); diff != "" {
				t.Errorf("%s is not formatted (-file +formatted):\n%s", name, diff)
			}
		}
	}
}
