package desired

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
)

// TestVerifyParallelIsDeterministic renders a repository of many
// requests, some broken, stale, stray or orphaned, one request at a time
// and in parallel, several times: the plan lists requests in the same
// order and Verify gives the same findings every time.
func TestVerifyParallelIsDeterministic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/desired-state")); err != nil {
		t.Fatal(err)
	}
	write := func(rel, data string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 16 {
		bp, env := "web-service", "dev"
		switch i % 8 {
		case 3:
			bp = "no-such-blueprint"
		case 5:
			env = "nowhere"
		}
		write(fmt.Sprintf("requests/%s/team-payments/svc-%d.yaml", env, i), fmt.Sprintf(
			"apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata:\n  name: svc-%d\nspec:\n  blueprint: %s\n  environment: %s\n"+
				"  namespace: team-payments\n  owner: payments\n  parameters:\n    image: ghcr.io/acme/svc:%d.0.0\n", i, bp, env, i))
	}
	write("requests/dev/team-payments/payments-api/stray.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray}\n")
	write("requests/dev/team-payments/gone/kustomization.yaml", "resources: []\n")
	write("requests/dev/team-payments/broken.yaml", "kind: [\n")
	cfg, err := config.LoadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	run := func(procs int) ([]Finding, []string) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		findings, err := Verify(ctx, dir, cfg, cat)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Build(ctx, dir, cfg, cat)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, r := range plan.Rendered {
			order = append(order, r.Request.Path())
		}
		return findings, order
	}
	wantFindings, wantOrder := run(1)
	if len(wantFindings) < 14 || len(wantOrder) < 14 {
		t.Fatalf("%d findings and %d rendered requests: the repository is not the one meant", len(wantFindings), len(wantOrder))
	}
	for _, procs := range []int{4, 8} {
		got, order := run(procs)
		if diff := cmp.Diff(wantFindings, got); diff != "" {
			t.Errorf("GOMAXPROCS %d: findings differ (-one at a time +parallel):\n%s", procs, diff)
		}
		if diff := cmp.Diff(wantOrder, order); diff != "" {
			t.Errorf("GOMAXPROCS %d: rendered order differs:\n%s", procs, diff)
		}
	}
}
