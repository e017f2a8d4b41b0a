package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitvend/gitvend/internal/manifest"
)

// These tests make the pull requests a tenant could use to get around the
// guardrails and show that `gitvend check` denies each of them.

// denial is one denied finding of a check, placed at its file and line.
type denial struct {
	Policy, File string
	Line         int
	Message      string
}

// attackRepo copies the example repository and writes files into it. A
// file directly under an environment root is also listed in that root's
// kustomization, as a pull request that means it to be applied would.
func attackRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	repo := copyTree(t, examples)
	for name, body := range files {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if dir, file := filepath.Split(name); strings.HasPrefix(dir, "environments/") && strings.Count(dir, "/") == 2 {
			root := filepath.Join(repo, filepath.FromSlash(dir), "kustomization.yaml")
			data, err := os.ReadFile(root)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), "resources:\n", "resources:\n  - "+file+"\n", 1))
			if err := os.WriteFile(root, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return repo
}

// checkDenials runs `gitvend check --format json` on paths (the whole
// repository when none are given) and returns its denials. The check must
// fail.
func checkDenials(t *testing.T, repo string, paths ...string) []denial {
	t.Helper()
	if len(paths) == 0 {
		paths = []string{repo + "/..."}
	}
	code, out, stderr := gitvend(t, append([]string{"check", "--format", "json", "--repo", repo}, paths...)...)
	r := decodeReport(t, out)
	if code != exitFailed || r.Passed {
		t.Fatalf("exit %d, passed %v, want the check to fail (exit %d); stderr %s\n%s", code, r.Passed, exitFailed, stderr, out)
	}
	var got []denial
	for _, v := range r.Violations {
		if v.Severity == "deny" {
			got = append(got, denial{v.Policy, v.File, v.Line, v.Message})
		}
	}
	return got
}

// wantDenials compares denials with want, in any order.
func wantDenials(t *testing.T, want, got []denial) {
	t.Helper()
	less := func(a, b denial) bool {
		return a.File+a.Policy+a.Message < b.File+b.Policy+b.Message
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(less)); diff != "" {
		t.Errorf("denials (-want +got):\n%s", diff)
	}
}

// clusterAdminForEveryone binds cluster-admin to every authenticated user
// of the cluster, and claims by its label to be the platform's.
const clusterAdminForEveryone = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: everyone
  namespace: team-payments
  labels:
    app.kubernetes.io/name: everyone
    gitvend.dev/owner: platform
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:authenticated
`

func TestAttackClusterAdminLabelledPlatform(t *testing.T) {
	for _, file := range []string{
		"environments/dev/everyone.yaml",
		"requests/dev/team-payments/payments-api/everyone.yaml",
	} {
		t.Run(file, func(t *testing.T) {
			files := map[string]string{file: clusterAdminForEveryone}
			source := "the team that claims its namespace"
			if strings.HasPrefix(file, "requests/") {
				kust := "requests/dev/team-payments/payments-api/kustomization.yaml"
				data, err := os.ReadFile(filepath.Join(examples, kust))
				if err != nil {
					t.Fatal(err)
				}
				files[kust] = string(data) + "- everyone.yaml\n"
				source = "the owner of request payments-api"
			}
			got := checkDenials(t, attackRepo(t, files))
			wantDenials(t, []denial{
				{"namespace-boundary", file, 8, "RoleBinding is labelled gitvend.dev/owner: platform, but it belongs to team payments (" + source + "); set the label to payments"},
				{"rbac", file, 12, "RoleBinding grants ClusterRole cluster-admin in its namespace, including the right to change the namespace's RBAC; bind a Role of the namespace that lists what is needed"},
				{"rbac", file, 16, "RoleBinding grants its role to group system:authenticated, which is every authenticated user of the cluster; bind the team's own group instead"},
			}, got)
		})
	}
}

func TestAttackClusterRoleBindings(t *testing.T) {
	file := "environments/dev/crb.yaml"
	got := checkDenials(t, attackRepo(t, map[string]string{file: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: payments-edit
  labels: {app.kubernetes.io/name: payments-edit, gitvend.dev/owner: payments}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: payments-admins}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: anything
  namespace: team-payments
  labels: {app.kubernetes.io/name: anything, gitvend.dev/owner: payments}
rules:
- apiGroups: [""]
  resources: ["*"]
  verbs: [get, impersonate]
`}))
	wantDenials(t, []denial{
		{"namespace-boundary", file, 2, "ClusterRoleBinding.rbac.authorization.k8s.io is cluster-scoped and shared by every tenant; none are allowed (policy.clusterScopedKinds in gitvend.yaml)"},
		{"rbac", file, 6, "ClusterRoleBinding grants ClusterRole edit in every namespace of the cluster; bind a Role of the namespace that lists what is needed"},
		{"rbac", file, 17, "Role rules[0] uses \"*\" in resources, which also matches every resource Kubernetes adds later; list the resources it needs"},
		{"rbac", file, 18, "Role rules[0] grants the verb impersonate, which lets requests be made as any other user, group or ServiceAccount; remove it"},
	}, got)
}

// configMap is a ConfigMap in namespace ns whose label names owner.
func configMap(ns, owner string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns +
		"\n  labels: {app.kubernetes.io/name: settings, gitvend.dev/owner: " + owner + "}\ndata: {a: b}\n"
}

func TestAttackUnknownOwnerInKubeSystem(t *testing.T) {
	// The example gives platform every namespace ("*"), which lets its
	// requests go anywhere but makes no hand-written file its own.
	for _, owner := range []string{"nobody", "platform"} {
		t.Run(owner, func(t *testing.T) {
			file := "environments/dev/settings.yaml"
			got := checkDenials(t, attackRepo(t, map[string]string{file: configMap("kube-system", owner)}))
			wantDenials(t, []denial{
				{"namespace-boundary", file, 5, `ConfigMap is in namespace kube-system, which no team of gitvend.yaml claims, so it has no owner; add the namespace to a team's namespaces in gitvend.yaml (a bare "*" claims none)`},
			}, got)
		})
	}
}

func TestAttackRequestFolderForKubeSystem(t *testing.T) {
	dir := "requests/dev/kube-system/sneaky/"
	files := map[string]string{
		dir + "kustomization.yaml": "resources: [configmap.yaml]\n",
		dir + "configmap.yaml":     configMap("kube-system", "platform"),
	}
	t.Run("without a record", func(t *testing.T) {
		got := checkDenials(t, attackRepo(t, files))
		wantDenials(t, []denial{
			{"namespace-boundary", dir + "configmap.yaml", 5, "ConfigMap comes from request sneaky, which has no valid record requests/dev/kube-system/sneaky.yaml to name its owner; add the record, or move the object out of requests/"},
		}, got)
	})
	t.Run("with a record of a team that may not use it", func(t *testing.T) {
		withRecord := map[string]string{
			"requests/dev/kube-system/sneaky.yaml": "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: sneaky}\n" +
				"spec: {blueprint: web-service, environment: dev, namespace: kube-system, owner: payments}\n",
		}
		for k, v := range files {
			withRecord[k] = v
		}
		got := checkDenials(t, attackRepo(t, withRecord))
		wantDenials(t, []denial{
			{"namespace-boundary", dir + "configmap.yaml", 5, "ConfigMap comes from request sneaky for namespace kube-system, which team payments may not use; team payments may use team-payments, payments-*"},
			{"namespace-boundary", dir + "configmap.yaml", 6, "ConfigMap is labelled gitvend.dev/owner: platform, but it belongs to team payments (the owner of request sneaky); set the label to payments"},
		}, got)
	})
}

func TestAttackSystemGroupInTeamNamespace(t *testing.T) {
	dir := t.TempDir()
	for _, param := range []string{"viewersGroup", "editorsGroup", "adminsGroup"} {
		t.Run(param, func(t *testing.T) {
			req := filepath.Join(dir, param+".yaml")
			body := "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: team-x}\n" +
				"spec: {blueprint: team-namespace, environment: dev, namespace: team-x, owner: payments, parameters: {" + param + ": 'system:authenticated'}}\n"
			if err := os.WriteFile(req, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, stderr := gitvend(t, "render", "--request", req)
			if code != exitBadUse || out != "" || !strings.Contains(stderr, "parameters."+param+": ") || !strings.Contains(stderr, `"system:authenticated"`) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d naming parameters.%s", code, out, stderr, exitBadUse, param)
			}
		})
	}
	// A rendered RoleBinding edited by hand to name the group is denied.
	file := "requests/dev/team-payments/team-payments/rolebinding-team-payments-viewer.yaml"
	data, err := os.ReadFile(filepath.Join(examples, file))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "name: payments-viewers", "name: system:authenticated", 1)
	got := checkDenials(t, attackRepo(t, map[string]string{file: edited}))
	wantDenials(t, []denial{
		{"rbac", file, 19, "RoleBinding grants its role to group system:authenticated, which is every authenticated user of the cluster; bind the team's own group instead"},
	}, got)
}

// TestAttackTeamAdminTier renders a team namespace and reads its admin
// Role as RBAC does: no rule may let the team's admins change or delete
// the quota, the limits, the network policies or the namespace itself, or
// create network policies that open what the default-deny one closes.
// deploy/tiers_test.go asks a real API server the same.
func TestAttackTeamAdminTier(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := gitvend(t, "render", "--request", examples+"/requests/dev/team-payments/team-payments.yaml", "--out", out); code != exitOK {
		t.Fatalf("render: exit %d: %s", code, stderr)
	}
	objs, err := manifest.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var rules []any
	for _, o := range objs {
		if o.Kind == "Role" && strings.HasSuffix(o.Name, "-admin") {
			rules, _ = o.Content["rules"].([]any)
		}
	}
	if len(rules) == 0 {
		t.Fatal("no admin Role rendered")
	}
	has := func(list any, want string) bool {
		l, _ := list.([]any)
		return slices.Contains(l, any(want)) || slices.Contains(l, any("*"))
	}
	allows := func(group, resource, verb string) bool {
		for _, r := range rules {
			m := r.(map[string]any)
			if has(m["apiGroups"], group) && has(m["resources"], resource) && has(m["verbs"], verb) {
				return true
			}
		}
		return false
	}
	for _, gr := range [][2]string{{"", "resourcequotas"}, {"", "limitranges"}, {"networking.k8s.io", "networkpolicies"}, {"", "namespaces"}} {
		for _, verb := range []string{"create", "update", "patch", "delete", "deletecollection"} {
			if allows(gr[0], gr[1], verb) {
				t.Errorf("the admin tier may %s %s", verb, gr[1])
			}
		}
	}
	if !allows("", "resourcequotas", "get") || !allows("networking.k8s.io", "networkpolicies", "list") {
		t.Error("the admin tier may no longer read the quota and network policies")
	}
	if !allows("rbac.authorization.k8s.io", "rolebindings", "create") || !allows("apps", "deployments", "update") {
		t.Error("the admin tier lost the rights it is for")
	}
}

func TestAttackYAML11Booleans(t *testing.T) {
	file := "environments/dev/agent.yaml"
	repo := attackRepo(t, map[string]string{file: `apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: team-payments
  labels: {app.kubernetes.io/name: agent, gitvend.dev/owner: payments}
spec:
  hostNetwork: yes
  securityContext: {runAsNonRoot: true}
  containers:
  - name: agent
    image: ghcr.io/acme/agent:1.0.0
    securityContext:
      privileged: on
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    resources:
      requests: {cpu: 10m, memory: 16Mi}
      limits: {memory: 32Mi}
`})
	want := []denial{
		{"host-namespaces", file, 8, "pod spec sets hostNetwork: true, which shares the node's network namespace with the pod; remove it or set it to false"},
		{"privileged-container", file, 14, "container agent sets securityContext.privileged: true; remove it or set it to false"},
	}
	// Through the environment root, which kustomize builds, and as a file
	// read on its own.
	t.Run("repository", func(t *testing.T) { wantDenials(t, want, checkDenials(t, repo)) })
	t.Run("file", func(t *testing.T) { wantDenials(t, want, checkDenials(t, repo, filepath.Join(repo, file))) })
}
