package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/policy"
)

// TestMain lets the test binary serve as the policy sandbox, as main does.
func TestMain(m *testing.M) {
	policy.SandboxMain()
	os.Exit(m.Run())
}

// impactRepo is the example repository with the named policies of
// internal/check's impact test data in its policies/.
func impactRepo(t *testing.T, policies ...string) string {
	t.Helper()
	dir := copyTree(t, examples)
	for _, name := range policies {
		data, err := os.ReadFile(filepath.Join("../../internal/check/testdata/impact", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "policies", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckImpactFormats: a stricter head exits 1 and prints what it
// newly denies, in every format, the same whichever way the head is named.
func TestCheckImpactFormats(t *testing.T) {
	base := impactRepo(t, "no_cronjobs.rego")
	head := impactRepo(t, "cost_center.rego")
	for _, format := range []string{"text", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			code, out, stderr := gitvend(t, "check", "--impact", "--base", base, "--format", format, head)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitFailed, stderr)
			}
			golden(t, filepath.Join("testdata", "golden", "impact."+format), out)
			code2, out2, _ := gitvend(t, "check", "--impact", "--base", base, "--repo", head, "--format", format)
			if code2 != code || out2 != out {
				t.Errorf("--repo HEAD: exit %d, output differs from PATH's", code2)
			}
		})
	}
}

// TestCheckImpactRelaxed: a head that only stops denying exits 0.
func TestCheckImpactRelaxed(t *testing.T) {
	base := impactRepo(t, "no_cronjobs.rego")
	head := impactRepo(t)
	code, out, stderr := gitvend(t, "check", "--impact", "--base", base, head)
	if code != exitOK || !strings.Contains(out, "no longer denied no-cronjobs: CronJob team-search/nightly-reindex") {
		t.Fatalf("exit %d, output %q, stderr %q", code, out, stderr)
	}
}

// TestCheckImpactBrokenRego: a head whose Rego does not parse exits 2 and
// says where, instead of reporting no change.
func TestCheckImpactBrokenRego(t *testing.T) {
	base := impactRepo(t)
	head := impactRepo(t, "broken.rego")
	code, out, _ := gitvend(t, "check", "--impact", "--base", base, head)
	if code != exitBadUse || !strings.Contains(out, "policies/broken.rego:8: rego_parse_error") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// TestCheckImpactUsage: --impact without a base, with a format it does not
// write, or with two repositories is bad usage.
func TestCheckImpactUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--impact", examples}, "--impact needs --base DIR"},
		{[]string{"check", "--impact", "--base", examples, "--format", "sarif", examples}, `unknown format "sarif" for --impact; allowed: text, json, markdown`},
		{[]string{"check", "--impact", "--base", examples, examples, examples}, "give at most one PATH"},
	} {
		code, out, stderr := gitvend(t, tt.args...)
		if code != exitBadUse || !strings.Contains(stderr+out, tt.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", tt.args, code, stderr+out, tt.want)
		}
	}
}
