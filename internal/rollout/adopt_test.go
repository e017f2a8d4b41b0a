package rollout

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// TestAdoptionsReportObjectsMadeByHand: a Service created by hand before
// gitvend applies anything is reported as an object the desired state
// would adopt; the report writes nothing.
func TestAdoptionsReportObjectsMadeByHand(t *testing.T) {
	env := kubetest.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := "team-payments"
	for _, args := range [][]string{
		{"create", "namespace", ns},
		{"create", "service", "clusterip", "payments-api", "-n", ns, "--tcp=80:8080"},
	} {
		if out, err := env.Kubectl(ctx, args...).CombinedOutput(); err != nil && !strings.Contains(string(out), "AlreadyExists") {
			t.Fatalf("kubectl %v: %v: %s", args, err, out)
		}
	}
	target := cluster.Connection{Config: env.Config(), Target: cluster.Target{
		Name: "dev", Repository: "acme/infra", Environments: []string{"dev"}, Namespaces: []string{"team-*"}, ClusterScopedKinds: []string{"Namespace"},
		Prune: true, DriftInterval: time.Hour, HealthTimeout: time.Minute, InventoryNamespace: "gitvend-adopt-test"}}
	r, err := New(Options{Clients: noClients{}, Git: &failingGit{}, Branches: map[string]string{"acme/infra": "main"}, Targets: []cluster.Connection{target}})
	if err != nil {
		t.Fatal(err)
	}
	example := reconcile.Checkout{Dir: filepath.Join("..", "..", "examples", "desired-state")}
	// A base that does not build: every object of the head is looked at.
	lines := r.Adoptions(ctx, "Acme/Infra", reconcile.Checkout{Dir: t.TempDir()}, example)
	want := "dev: adopts existing object Service/team-payments/payments-api"
	found := false
	for _, l := range lines {
		if strings.HasPrefix(l, "dev: could not") {
			t.Fatalf("adoptions: %s", l)
		}
		found = found || strings.HasPrefix(l, want)
	}
	if !found {
		t.Errorf("adoptions %q lack %q", lines, want)
	}
	if got := r.Adoptions(ctx, "acme/other", reconcile.Checkout{Dir: t.TempDir()}, example); len(got) != 0 {
		t.Errorf("another repository's adoptions = %q, want none", got)
	}
	// A change that leaves the target as its base has it adopts nothing
	// new: the base's own check said so.
	if got := r.Adoptions(ctx, "acme/infra", example, example); len(got) != 0 {
		t.Errorf("adoptions of a change that touches nothing = %q, want none", got)
	}
}
