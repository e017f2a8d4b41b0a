package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestApplyWithKubeconfig drives apply and drift against a real apiserver
// with the target given by flags and no server configuration: the first
// apply writes without waiting (--wait=false), the second one writes
// nothing and so does not wait for health although --timeout allows
// minutes and the Deployments never become ready (no controllers run);
// drift finds nothing, and a context the kubeconfig lacks is bad usage.
func TestApplyWithKubeconfig(t *testing.T) {
	env := kubetest.ForTest(t)
	repo := "../../examples/desired-state"
	target := []string{"--kubeconfig", env.KubeconfigPath(), "--target", "cli", "--repo", repo,
		"--environment", "dev", "--namespace", "team-*", "--cluster-scoped-kind", "Namespace"}

	code, out, errOut := gitvend(t, append([]string{"apply", "--wait=false", "-o", "json"}, target...)...)
	var res struct {
		Target        string
		HealthChecked bool
		Objects       []struct{ Action string }
	}
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.Target != "cli" || len(res.Objects) == 0 || res.HealthChecked {
		t.Fatalf("first apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, o := range res.Objects {
		if o.Action != "created" {
			t.Errorf("first apply: action %q, want created", o.Action)
		}
	}
	if err := env.Kubectl(context.Background(), "get", "configmap", "-n", "gitvend-system", "gitvend-inventory-cli").Run(); err != nil {
		t.Errorf("no inventory named after --target: %v", err)
	}

	start := time.Now()
	code, out, errOut = gitvend(t, append([]string{"apply", "--timeout", "3m"}, target...)...)
	if took := time.Since(start); took > time.Minute {
		t.Errorf("an apply that changed nothing took %s: it waited for health", took)
	}
	if code != exitOK || !strings.Contains(out, "unchanged") || strings.Contains(out, "created") {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}

	if code, out, errOut := gitvend(t, append([]string{"drift"}, target...)...); code != exitOK || !strings.Contains(out, "target cli: no drift") {
		t.Fatalf("drift: exit %d\n%s\n%s", code, out, errOut)
	}
	// An apply that writes does wait, up to --timeout, and fails when the
	// objects are not ready by then.
	if out, err := env.Kubectl(context.Background(), "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge",
		"-p", `{"data":{"index.shards":"5"}}`).CombinedOutput(); err != nil {
		t.Fatalf("kubectl patch: %v: %s", err, out)
	}
	start = time.Now()
	code, out, errOut = gitvend(t, append([]string{"apply", "--timeout", "3s", "-o", "json"}, target...)...)
	res.HealthChecked = false
	if code != exitFailed || json.Unmarshal([]byte(out), &res) != nil || !res.HealthChecked || time.Since(start) < 3*time.Second {
		t.Fatalf("apply of a change whose Deployments cannot become ready: exit %d after %s\n%s\n%s", code, time.Since(start), out, errOut)
	}
	// The current context by name, then one the kubeconfig lacks.
	if code, _, errOut := gitvend(t, append([]string{"drift", "--context", "no-such-context"}, target...)...); code != exitBadUse || !strings.Contains(errOut, "no-such-context") {
		t.Errorf("drift with an unknown context: exit %d, %s", code, errOut)
	}
	// KUBECONFIG stands in for --kubeconfig, as for kubectl.
	t.Setenv("KUBECONFIG", env.KubeconfigPath())
	if code, out, errOut := gitvend(t, "drift", "--target", "cli", "--repo", repo, "--environment", "dev", "--namespace", "team-*", "--cluster-scoped-kind", "Namespace"); code != exitOK || !strings.Contains(out, "no drift") {
		t.Errorf("drift through $KUBECONFIG: exit %d\n%s\n%s", code, out, errOut)
	}
}
