package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/kubetest"
)

// TestApplyAndDrift drives `gitvend apply` and `gitvend drift` against a
// real apiserver, without the GitHub App: dry run, apply, no drift, a
// change by hand found as drift (exit 3), and bad usage (exit 2).
func TestApplyAndDrift(t *testing.T) {
	env := kubetest.ForTest(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gitvend.yaml")
	err := os.WriteFile(cfg, []byte(fmt.Sprintf(`apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
github:
  appID: 1
repositories:
- name: acme/infra
targets:
- name: dev
  repository: acme/infra
  kubeconfig: %[1]s
  environments: [dev]
  namespaces: ["team-*"]
  clusterScopedKinds: [Namespace]
  healthTimeout: 0s
- name: heal
  repository: acme/infra
  kubeconfig: %[1]s
  environments: [dev]
  namespaces: ["team-*"]
  clusterScopedKinds: [Namespace]
  selfHeal: true
`, env.KubeconfigPath())), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	repo := "../../examples/desired-state"
	base := []string{"--config", cfg, "--target", "dev", "--repo", repo}

	// A namespace made by hand before gitvend's first apply: the dry run
	// says the merge would take it over, and that gitvend would not prune it.
	if out, err := env.Kubectl(context.Background(), "create", "namespace", "team-search").CombinedOutput(); err != nil {
		t.Fatalf("kubectl create namespace: %v: %s", err, out)
	}
	code, out, errOut := gitvend(t, append([]string{"apply", "--dry-run"}, base...)...)
	if code != 0 || !strings.Contains(out, "dry run: nothing was written") || !strings.Contains(out, "to create") {
		t.Fatalf("apply --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "adopts existing object Namespace/team-search (left in place when it leaves Git") ||
		strings.Contains(out, "adopts existing object Namespace/team-payments") {
		t.Errorf("apply --dry-run does not report the one existing object it would take over:\n%s", out)
	}
	if err := env.Kubectl(context.Background(), "get", "namespace", "team-payments").Run(); err == nil {
		t.Fatal("the dry run created a namespace")
	}
	code, out, errOut = gitvend(t, append([]string{"apply", "--format", "json"}, base...)...)
	var res struct {
		Target  string
		Objects []struct{ Action string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Target != "dev" || len(res.Objects) == 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := gitvend(t, append([]string{"drift"}, base...)...); code != 0 || !strings.Contains(out, "no drift") {
		t.Fatalf("drift after apply: exit %d\n%s", code, out)
	}
	// drift only reports, also on a target that heals itself when served.
	if code, out, errOut := gitvend(t, "drift", "--config", cfg, "--target", "heal", "--repo", repo); code != 0 || !strings.Contains(out, "no drift") {
		t.Fatalf("drift on a self-healing target: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, err := env.Kubectl(context.Background(), "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge",
		"-p", `{"data":{"index.shards":"5"}}`).CombinedOutput(); err != nil {
		t.Fatalf("kubectl patch: %v: %s", err, out)
	}
	code, out, _ = gitvend(t, append([]string{"drift"}, base...)...)
	if code != exitDrifted || !strings.Contains(out, `data[index.shards]: changed, values hidden`) || strings.Contains(out, `"5"`) {
		t.Fatalf("drift after a change by hand: exit %d\n%s", code, out)
	}

	for _, args := range [][]string{
		{"apply", "--target", "dev"},
		{"apply", "--config", cfg},
		{"drift", "--config", cfg, "--target", "nope"},
		{"drift", "--config", cfg, "--target", "dev", "--format", "yaml"},
	} {
		if code, _, errOut := gitvend(t, args...); code != exitBadUse || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with a message", args, code, errOut)
		}
	}
}
