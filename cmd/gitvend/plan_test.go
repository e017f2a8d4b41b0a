package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/kubetest"
)

// fingerprints are the hashes that stand for hidden values; they change
// with every process.
var fingerprints = regexp.MustCompile(`#[0-9a-f]{8}`)

// TestApplyDryRunPrintsThePlan applies the example repository, changes it
// (a value changed, an object added, a request's objects removed, an
// object in a namespace the target refuses) and compares what
// `gitvend apply --dry-run` prints with the golden plan; the dry run
// writes nothing.
func TestApplyDryRunPrintsThePlan(t *testing.T) {
	env := kubetest.ForTest(t)
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if out, err := exec.Command("cp", "-r", "../../examples/desired-state", repo).CombinedOutput(); err != nil {
		t.Fatalf("copy the example repository: %v: %s", err, out)
	}
	cfg := filepath.Join(dir, "gitvend.yaml")
	writeFile(t, cfg, fmt.Sprintf(`apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
github: {appID: 1}
repositories: [{name: acme/infra}]
targets:
- name: dev
  repository: acme/infra
  kubeconfig: %s
  environments: [dev]
  namespaces: ["team-*"]
  clusterScopedKinds: [Namespace]
  prune: true
  healthTimeout: 0s
`, env.KubeconfigPath()))
	args := []string{"--config", cfg, "--target", "dev", "--repo", repo}
	if code, out, errOut := gitvend(t, append([]string{"apply"}, args...)...); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}

	root := filepath.Join(repo, "environments", "dev")
	kustomization, err := os.ReadFile(filepath.Join(root, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "kustomization.yaml"), strings.Replace(string(kustomization), "  - ../../requests/dev/team-search/search-pr-42\n", "", 1))
	settings, err := os.ReadFile(filepath.Join(root, "search-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "search-config.yaml"), strings.Replace(string(settings), `index.shards: "3"`, `index.shards: "5"`, 1)+`---
apiVersion: v1
kind: ConfigMap
metadata:
  name: search-synonyms
  namespace: team-search
  labels:
    gitvend.dev/owner: search
data:
  synonyms: "car,automobile"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: sneaky
  namespace: kube-system
  labels:
    gitvend.dev/owner: search
`)
	before := resourceVersions(t, env)
	code, out, errOut := gitvend(t, append([]string{"apply", "--dry-run"}, args...)...)
	if code != exitFailed {
		t.Errorf("apply --dry-run of a plan with a refused object: exit %d, want %d\n%s", code, exitFailed, errOut)
	}
	if after := resourceVersions(t, env); after != before {
		t.Errorf("the dry run changed the cluster:\nbefore %s\nafter  %s", before, after)
	}
	golden(t, "testdata/golden/apply-dry-run-plan.txt", fingerprints.ReplaceAllString(out, "#fingerprint"))
}

// resourceVersions lists the name and resourceVersion of every object of
// the kinds the example applies, and of gitvend's inventory.
func resourceVersions(t *testing.T, env *kubetest.Env) string {
	t.Helper()
	out, err := env.Kubectl(context.Background(), "get", "namespaces,configmaps,services,deployments,ingresses,cronjobs,roles,rolebindings,networkpolicies",
		"-A", "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}={.metadata.resourceVersion} {end}`).Output()
	if err != nil {
		t.Fatalf("kubectl get: %v", err)
	}
	return string(out)
}
