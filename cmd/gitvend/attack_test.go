package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// hostPathPod is a privileged Pod that mounts the node's root file system.
const hostPathPod = `apiVersion: v1
kind: Pod
metadata:
  name: node-shell
  namespace: team-payments
  labels: {app.kubernetes.io/name: node-shell, gitvend.dev/owner: payments}
spec:
  containers:
  - name: shell
    image: ghcr.io/acme/shell:1.0.0
    securityContext: {privileged: true}
    volumeMounts: [{name: host, mountPath: /host}]
  volumes:
  - name: host
    hostPath: {path: /}
`

// applyDryRun runs `gitvend apply --dry-run` for a target serving the dev
// environment of repo, whose cluster address nothing listens on: a build
// that fails never gets as far as the cluster.
func applyDryRun(t *testing.T, repo string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeFile(t, kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`)
	cfg := filepath.Join(dir, "gitvend.yaml")
	writeFile(t, cfg, `apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
github: {appID: 1}
repositories: [{name: acme/infra}]
targets:
- name: dev
  repository: acme/infra
  kubeconfig: `+kubeconfig+`
  environments: [dev]
  namespaces: ["team-*"]
`)
	return gitvend(t, "apply", "--dry-run", "--config", cfg, "--target", "dev", "--repo", repo)
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// withDevRoot copies the example repository with extra resources listed
// first in the dev root.
func withDevRoot(t *testing.T, extra ...string) string {
	t.Helper()
	repo := copyTree(t, examples)
	root := filepath.Join(repo, "environments/dev/kustomization.yaml")
	data, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, strings.Replace(string(data), "resources:\n", "resources:\n  - "+strings.Join(extra, "\n  - ")+"\n", 1))
	return repo
}

// checkErrors runs `gitvend check --format json` and returns its exit code
// and the problems it lists as "FILE:LINE: MESSAGE".
func checkErrors(t *testing.T, args ...string) (int, []string) {
	t.Helper()
	code, out, stderr := gitvend(t, append([]string{"check", "--format", "json"}, args...)...)
	if out == "" {
		return code, []string{stderr}
	}
	var got []string
	for _, e := range decodeReport(t, out).Errors {
		got = append(got, e.File+":"+strconv.Itoa(e.Line)+": "+e.Message)
	}
	return code, got
}

// hasPrefix tells whether one of got starts with want.
func hasPrefix(got []string, want string) bool {
	for _, g := range got {
		if strings.HasPrefix(g, want) {
			return true
		}
	}
	return false
}

// TestAttackHiddenRoot moves the dev root into a hidden folder, which the
// check used to pass over while apply applied it: the root is refused by
// the check of the head, by the check with the base's settings, and by
// apply.
func TestAttackHiddenRoot(t *testing.T) {
	cfg, err := os.ReadFile(filepath.Join(examples, "gitvend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head := attackRepo(t, map[string]string{
		"gitvend.yaml":              strings.Replace(string(cfg), "- name: dev\n", "- name: dev\n  root: .x/dev\n", 1),
		".x/dev/kustomization.yaml": "resources: [pod.yaml]\n",
		".x/dev/pod.yaml":           hostPathPod,
	})
	const want = `environments[0].root: must be a plain relative path inside the repository such as environments/dev (no leading '/', no '..' or '.' segments, no folder whose name starts with '.'), got ".x/dev"`
	line := strconv.Itoa(lineWith(t, string(cfg), "- name: dev") + 1) // the root added under it
	t.Run("check of the head", func(t *testing.T) {
		code, got := checkErrors(t, "--repo", head, head+"/...")
		if code != exitBadUse || !hasPrefix(got, "gitvend: "+head+"/gitvend.yaml: line "+line+": "+want) {
			t.Errorf("exit %d, %q; want exit %d naming the root", code, got, exitBadUse)
		}
	})
	t.Run("check with the base's settings", func(t *testing.T) {
		base := copyTree(t, examples)
		code, got := checkErrors(t, "--repo", base, head)
		if code != exitBadUse || !hasPrefix(got, head+"/gitvend.yaml:"+line+": "+want) {
			t.Errorf("exit %d, %q; want exit %d naming the root", code, got, exitBadUse)
		}
	})
	t.Run("apply --dry-run", func(t *testing.T) {
		code, out, stderr := applyDryRun(t, head)
		if code != exitBadUse || out != "" || !strings.Contains(stderr, "line "+line+": "+want) {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit %d naming the root", code, out, stderr, exitBadUse)
		}
	})
}

// TestAttackRemoteBase names a local HTTP server in the dev root: check and
// apply refuse the kustomization with its file and line, and the server
// sees no request.
func TestAttackRemoteBase(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(hostPathPod))
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name, entry, field string
	}{
		{"URL", srv.URL + "/pod.yaml", "resources[0]"},
		{"Git", "git::" + srv.URL + "/acme/infra.git//base?ref=main", "resources[0]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repo := withDevRoot(t, tt.entry)
			want := "environments/dev/kustomization.yaml:5: " + tt.field + ": remote reference " + strconv.Quote(tt.entry) + " is not allowed"
			code, got := checkErrors(t, "--repo", repo, repo+"/...")
			if code != exitBadUse || !hasPrefix(got, want) {
				t.Errorf("check: exit %d, %q; want exit %d and %q", code, got, exitBadUse, want)
			}
			code, out, stderr := applyDryRun(t, repo)
			if code != exitBadUse || out != "" || !strings.Contains(stderr, "kustomization.yaml:5: "+tt.field+": remote reference") {
				t.Errorf("apply: exit %d, stdout %q, stderr %q; want exit %d and the refusal", code, out, stderr, exitBadUse)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the server got %d requests", n)
			}
		})
	}
}

// TestAttackSymbolicLinks makes links that used to keep a check busy for
// as long as memory lasted, and a chain of links out of the repository:
// check and apply refuse each, naming the link, within seconds, and read
// nothing outside.
func TestAttackSymbolicLinks(t *testing.T) {
	t.Run("three links to their folder", func(t *testing.T) {
		repo := withDevRoot(t, "l1/l2/l3/search-config.yaml")
		for _, dir := range []string{"environments/dev", "docs"} {
			for _, l := range []string{"l1", "l2", "l3"} {
				writeFile(t, filepath.Join(repo, dir, "notes.yaml"), "")
				if err := os.Symlink(".", filepath.Join(repo, dir, l)); err != nil {
					t.Fatal(err)
				}
			}
		}
		start := time.Now()
		code, got := checkErrors(t, "--repo", repo, repo+"/...")
		// The root, built as apply builds it, and the links in a folder
		// read file by file.
		if code != exitBadUse || len(got) != 4 || !hasPrefix(got, "environments/dev/l1:0: symbolic link used as a folder") ||
			!hasPrefix(got, "docs/l1:0: symbolic link to a folder") || !hasPrefix(got, "docs/l2:0: symbolic link to a folder") ||
			!hasPrefix(got, "docs/l3:0: symbolic link to a folder") {
			t.Errorf("check: exit %d, %q; want exit %d naming each link", code, got, exitBadUse)
		}
		code, out, stderr := applyDryRun(t, repo)
		if code != exitBadUse || out != "" || !strings.Contains(stderr, "environments/dev/l1: symbolic link used as a folder") {
			t.Errorf("apply: exit %d, stdout %q, stderr %q; want exit %d naming the link", code, out, stderr, exitBadUse)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("check and apply took %s", d)
		}
	})
	t.Run("chain out of the repository", func(t *testing.T) {
		repo := withDevRoot(t, "leak.yaml")
		writeFile(t, filepath.Join(filepath.Dir(repo), "secret.yaml"), strings.Replace(hostPathPod, "node-shell", "stolen", -1))
		// Read as text, the chain stays inside: environments/dev/up/../../../secret.yaml
		// is secret.yaml of the repository. Through the link up it is not.
		if err := os.Symlink("..", filepath.Join(repo, "environments/dev/up")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("up/../../../secret.yaml", filepath.Join(repo, "environments/dev/leak.yaml")); err != nil {
			t.Fatal(err)
		}
		code, out, stderr := gitvend(t, "check", "--format", "json", "--repo", repo, repo+"/...")
		if code != exitBadUse || strings.Contains(out, "stolen") || !strings.Contains(out, `"environments/dev/up"`) {
			t.Errorf("check: exit %d, stderr %q\n%s\nwant exit %d naming the link up and nothing of the file outside", code, stderr, out, exitBadUse)
		}
		code, out, stderr = applyDryRun(t, repo)
		if code != exitBadUse || out != "" || !strings.Contains(stderr, "environments/dev/up: symbolic link used as a folder") {
			t.Errorf("apply: exit %d, stdout %q, stderr %q; want exit %d naming the link", code, out, stderr, exitBadUse)
		}
	})
}

// lineWith is the 1-based number of the first line of text that is line.
func lineWith(t *testing.T, text, line string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if l == line {
			return i + 1
		}
	}
	t.Fatalf("no line %q", line)
	return 0
}
