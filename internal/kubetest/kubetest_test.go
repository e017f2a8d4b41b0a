package kubetest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var kube Shared

func TestMain(m *testing.M) { kube.Main(m) }

func TestRestartKeepsData(t *testing.T) {
	begin := time.Now()
	env := ForTest(t)
	t.Logf("control plane started in %s", time.Since(begin).Round(time.Millisecond))

	ctx := t.Context()
	c, err := client.New(env.Config(), client.Options{})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "default"},
		Data:       map[string]string{"key": "value"},
	}
	if err := c.Create(ctx, cm); err != nil {
		t.Fatalf("create configmap: %v", err)
	}

	begin = time.Now()
	if err := env.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver stopped in %s", time.Since(begin).Round(time.Millisecond))
	down, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = c.Get(down, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{})
	cancel()
	if err == nil {
		t.Fatal("get with kube-apiserver stopped: got no error")
	}
	t.Logf("get with kube-apiserver stopped: %v", err)

	begin = time.Now()
	if err := env.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver restarted in %s", time.Since(begin).Round(time.Millisecond))

	// The client made before the restart still works: same address, CA and
	// client certificate.
	var got corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKeyFromObject(cm), &got); err != nil {
		t.Fatalf("get configmap after restart: %v", err)
	}
	if got.Data["key"] != "value" {
		t.Errorf("configmap data after restart = %v, want key=value", got.Data)
	}

	out, err := env.Kubectl(ctx, "version", "-o", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, out)
	}
	var versions struct {
		ClientVersion struct{ GitVersion string } `json:"clientVersion"`
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal(out, &versions); err != nil {
		t.Fatalf("decode kubectl version: %v\n%s", err, out)
	}
	for what, v := range map[string]string{"client": versions.ClientVersion.GitVersion, "server": versions.ServerVersion.GitVersion} {
		if !strings.HasPrefix(v, "v1.36.") {
			t.Errorf("kubectl version: %s gitVersion = %q, want v1.36.x", what, v)
		}
	}

	out, err = env.Kubectl(ctx, "get", "configmap", "survivor", "-n", "default", "-o", "jsonpath={.data.key}").CombinedOutput()
	if err != nil || string(out) != "value" {
		t.Errorf("kubectl get configmap = %q, %v; want value", out, err)
	}
	out, err = env.Kubectl(ctx, "get", "ns", "-o", "name").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "namespace/default") {
		t.Errorf("kubectl get ns = %q, %v; want namespace/default listed", out, err)
	}

	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(env.KubeconfigPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kubeconfig after Stop: stat error = %v, want not exist", err)
	}
	if err := env.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := env.StartAPIServer(ctx); err == nil {
		t.Error("StartAPIServer after Stop: got no error")
	}
}

func TestSharedApplyDryRunWatch(t *testing.T) {
	env := kube.Env(t)
	if again := kube.Env(t); again != env {
		t.Fatal("Shared.Env returned a different control plane on the second call")
	}
	ns := env.Namespace(t)
	ctx := t.Context()
	c, err := client.NewWithWatch(env.Config(), client.Options{})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}

	w, err := c.Watch(ctx, &corev1.ConfigMapList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatalf("watch configmaps: %v", err)
	}
	defer w.Stop()

	key := client.ObjectKey{Namespace: ns, Name: "applied"}
	apply := func(value string, opts ...client.ApplyOption) error {
		ac := corev1ac.ConfigMap(key.Name, key.Namespace).WithData(map[string]string{"key": value})
		return c.Apply(ctx, ac, append([]client.ApplyOption{client.FieldOwner("gitvend"), client.ForceOwnership}, opts...)...)
	}

	if err := apply("first", client.DryRunAll); err != nil {
		t.Fatalf("server-side dry-run apply: %v", err)
	}
	if err := c.Get(ctx, key, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after dry-run apply: error = %v, want not found", err)
	}
	if err := apply("first"); err != nil {
		t.Fatalf("server-side apply: %v", err)
	}
	var got corev1.ConfigMap
	if err := c.Get(ctx, key, &got); err != nil {
		t.Fatalf("get after apply: %v", err)
	}
	if got.Data["key"] != "first" {
		t.Errorf("data after apply = %v, want key=first", got.Data)
	}
	var managers []string
	for _, mf := range got.ManagedFields {
		managers = append(managers, mf.Manager+"/"+string(mf.Operation))
	}
	if len(managers) != 1 || managers[0] != "gitvend/Apply" {
		t.Errorf("managed fields = %v, want [gitvend/Apply]", managers)
	}

	select {
	case ev := <-w.ResultChan():
		cm, ok := ev.Object.(*corev1.ConfigMap)
		if ev.Type != watch.Added || !ok || cm.Name != key.Name {
			t.Errorf("watch event = %s %T, want ADDED ConfigMap %s", ev.Type, ev.Object, key.Name)
		}
	case <-time.After(10 * time.Second):
		t.Error("no watch event within 10s of the apply")
	}
}

func TestNamespacePrefix(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"TestFoo", "testfoo-"},
		{"TestFoo/sub_case", "testfoo-sub-case-"},
		{"__", "test-"},
		{strings.Repeat("a", 80), strings.Repeat("a", 39) + "-"},
		{strings.Repeat("a", 38) + "/b", strings.Repeat("a", 38) + "-"},
	} {
		if got := namespacePrefix(tc.name); got != tc.want {
			t.Errorf("namespacePrefix(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFindRepoRoot(t *testing.T) {
	root := t.TempDir()
	nested := filepath.Join(root, "tools", "kubeenv")
	deep := filepath.Join(nested, "x", "y")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(dir, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(root, "// comment\nmodule \"github.com/gitvend/gitvend\" // root\n\ngo 1.26\n")
	write(nested, "module github.com/gitvend/gitvend/tools/kubeenv\n")

	got, err := findRepoRoot(deep)
	if err != nil || got != root {
		t.Errorf("findRepoRoot(%s) = %q, %v; want %q", deep, got, err, root)
	}
	write(root, "module example.com/other\n")
	if got, err := findRepoRoot(deep); err == nil {
		t.Errorf("findRepoRoot without the root module = %q, want error", got)
	}
}

func TestCheckBinaries(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "etcd"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kubectl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := CheckBinaries(dir)
	var missing *MissingBinaryError
	if !errors.As(err, &missing) {
		t.Fatalf("CheckBinaries = %v, want *MissingBinaryError", err)
	}
	if got := strings.Join(missing.Missing, ","); got != "kube-apiserver,kubectl" {
		t.Errorf("missing = %s, want kube-apiserver,kubectl", got)
	}
	if !strings.Contains(err.Error(), "run make kube") {
		t.Errorf("error %q does not say how to build the binaries", err)
	}
}
