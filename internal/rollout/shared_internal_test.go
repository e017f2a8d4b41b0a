package rollout

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/manifest/stamptest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// TestSharedBuildsByTree: plans and adoptions build a stamped checkout's
// target once, and a checkout whose tree differs, or one without stamps,
// is built again.
func TestSharedBuildsByTree(t *testing.T) {
	ctx := context.Background()
	target := cluster.Connection{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Target: cluster.Target{
		Name: "dev", Repository: "acme/infra", Environments: []string{"dev"}, Namespaces: []string{"team-*"},
		DriftInterval: time.Hour, InventoryNamespace: cluster.DefaultInventoryNamespace}}
	r, err := New(Options{Clients: noClients{}, Git: &failingGit{}, Branches: map[string]string{"acme/infra": "main"},
		Targets: []cluster.Connection{target}, ScratchDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	example := filepath.Join("..", "..", "examples", "desired-state")
	stamped := reconcile.Checkout{Dir: example, Stamps: stamptest.Of(t, example)}
	first, err := r.shared(ctx, stamped, target.Target)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.shared(ctx, stamped, target.Target)
	if err != nil || len(first) == 0 || &again[0] != &first[0] {
		t.Fatalf("the same tree was built again (err %v)", err)
	}
	plain, err := r.shared(ctx, reconcile.Checkout{Dir: example}, target.Target)
	if err != nil || &plain[0] == &first[0] {
		t.Fatalf("a checkout without stamps was taken from the shared builds (err %v)", err)
	}

	// Another tree: one setting changed.
	other := t.TempDir()
	if err := os.CopyFS(other, os.DirFS(example)); err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join(other, "environments", "dev", "search-config.yaml")
	data, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, append(data, []byte("  extra: \"1\"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := r.shared(ctx, reconcile.Checkout{Dir: other, Stamps: stamptest.Of(t, other)}, target.Target)
	if err != nil || &changed[0] == &first[0] {
		t.Fatalf("a changed tree was taken from the shared builds (err %v)", err)
	}
}
