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
	head := reconcile.Checkout{Dir: other, Stamps: stamptest.Of(t, other)}
	changed, err := r.shared(ctx, head, target.Target)
	if err != nil || &changed[0] == &first[0] {
		t.Fatalf("a changed tree was taken from the shared builds (err %v)", err)
	}

	// The change is split once for its adoptions and its plan; without
	// stamps it is split each time.
	c, err := r.change(ctx, r.targets[0], stamped, head)
	if err != nil {
		t.Fatal(err)
	}
	s := r.split(c)
	if len(s.Touched) != 1 || s.Touched[0].GetKind() != "ConfigMap" || len(s.Untouched) != len(changed)-1 {
		t.Fatalf("split: %d touched (%v), %d untouched of %d", len(s.Touched), s.Touched, len(s.Untouched), len(changed))
	}
	c, err = r.change(ctx, r.targets[0], stamped, head)
	if err != nil {
		t.Fatal(err)
	}
	if again := r.split(c); &again.Untouched[0] != &s.Untouched[0] {
		t.Error("the same change was split again")
	}
	c, err = r.change(ctx, r.targets[0], reconcile.Checkout{Dir: example}, head)
	if err != nil {
		t.Fatal(err)
	}
	if again := r.split(c); c.key != "" || &again.Untouched[0] == &s.Untouched[0] {
		t.Error("a change from a checkout without stamps was taken from the splits kept")
	}
}

// TestCheckoutsKeepTheNewestTwo: a sync takes the checkout holding the
// commit it asks for, or else the oldest, so that the commit applied last
// stays for a change window's comparison; past two, the oldest is removed.
func TestCheckoutsKeepTheNewestTwo(t *testing.T) {
	var c checkouts
	dir := func(name string) string {
		d := filepath.Join(t.TempDir(), name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	applied, head := keptCheckout{sha: "applied", dir: dir("a")}, keptCheckout{sha: "head", dir: dir("h")}
	c.put("acme/infra", applied)
	c.put("acme/infra", head)
	if k, ok := c.take("acme/infra", "next"); !ok || k != applied {
		t.Fatalf("took %+v for a new commit, want the oldest, %+v", k, applied)
	}
	c.put("acme/infra", applied)
	if k, ok := c.take("acme/infra", "head"); !ok || k != head {
		t.Fatalf("took %+v for head, want the checkout holding it", k)
	}
	if _, ok := c.take("acme/other", "head"); ok {
		t.Fatal("took another repository's checkout")
	}
	c.put("acme/infra", head)
	third := keptCheckout{sha: "third", dir: dir("t")}
	c.put("acme/infra", third)
	if _, err := os.Stat(applied.dir); !os.IsNotExist(err) {
		t.Errorf("the oldest of three checkouts is still on disk (%v)", err)
	}
	if got := c.idle["acme/infra"]; len(got) != 2 || got[0] != head || got[1] != third {
		t.Errorf("kept %+v, want the newest two", got)
	}
}
