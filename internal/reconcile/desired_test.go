package reconcile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/manifest"
)

// exampleRepo returns the path of the example desired-state repository.
func exampleRepo(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "desired-state"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gitvend.yaml")); err != nil {
		t.Skipf("example repository missing: %v", err)
	}
	return dir
}

func TestDesired(t *testing.T) {
	repo := exampleRepo(t)
	objs, err := Desired(t.Context(), repo, cluster.Target{Name: "dev", Environments: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, o := range objs {
		ids[idOf(o).String()] = true
		if manifest.IsGitvendKind(idOf(o)) {
			t.Errorf("gitvend record %s among the desired objects", idOf(o))
		}
	}
	for _, want := range []string{
		"ConfigMap/team-search/search-settings",
		"Deployment/team-payments/payments-api",
		"Namespace/team-payments",
	} {
		if !ids[want] {
			t.Errorf("%s missing from the dev environment (%d objects)", want, len(objs))
		}
	}
	prod, err := Desired(t.Context(), repo, cluster.Target{Name: "prod", Environments: []string{"prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(prod) == 0 || len(prod) >= len(objs) {
		t.Errorf("prod has %d objects, dev %d: want fewer in prod but some", len(prod), len(objs))
	}
}

func TestDesiredErrors(t *testing.T) {
	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "gitvend.yaml"), "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n")
	writeFile(t, filepath.Join(broken, "environments", "dev", "kustomization.yaml"), "resources:\n- missing.yaml\n")
	noRoot := t.TempDir()
	writeFile(t, filepath.Join(noRoot, "gitvend.yaml"), "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n")

	for _, tc := range []struct {
		name, repo string
		envs       []string
		want       string
	}{
		{"failed build", broken, []string{"dev"}, "build environment dev"},
		{"missing root", noRoot, []string{"dev"}, "no kustomization.yaml"},
		{"unknown environment", exampleRepo(t), []string{"staging"}, `environment "staging" is not defined`},
		{"conflicting environments", exampleRepo(t), []string{"dev", "prod"}, "with different content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Desired(t.Context(), tc.repo, cluster.Target{Name: "x", Environments: tc.envs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if len(objs) != 0 {
				t.Errorf("%d objects returned with the error", len(objs))
			}
		})
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
