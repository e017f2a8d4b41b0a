package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/gitvend/gitvend/deploy/internal/deploytest"
	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/leader"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/request"
)

// cluster applies, reads and deletes objects as one user, as gitvend's
// reconciler does: server-side apply with field manager gitvend.
type cluster struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newCluster(t *testing.T, cfg *rest.Config) *cluster {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

func (c *cluster) resource(o manifest.Object) (dynamic.ResourceInterface, schema.GroupVersionResource, error) {
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		return nil, schema.GroupVersionResource{}, err
	}
	m, err := c.mapper.RESTMapping(gv.WithKind(o.Kind).GroupKind(), gv.Version)
	if err != nil {
		return nil, schema.GroupVersionResource{}, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource).Namespace(o.Namespace), m.Resource, nil
	}
	return c.dyn.Resource(m.Resource), m.Resource, nil
}

func (c *cluster) apply(ctx context.Context, o manifest.Object, dryRun bool) error {
	ri, _, err := c.resource(o)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: "gitvend", Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Apply(ctx, o.Name, &unstructured.Unstructured{Object: o.Content}, opts)
	return err
}

func (c *cluster) delete(ctx context.Context, o manifest.Object) error {
	ri, _, err := c.resource(o)
	if err != nil {
		return err
	}
	return ri.Delete(ctx, o.Name, metav1.DeleteOptions{})
}

// watch lists the object's resource in every namespace and opens a watch
// on it, as drift detection and health checks do.
func (c *cluster) watch(ctx context.Context, o manifest.Object) error {
	_, gvr, err := c.resource(o)
	if err != nil {
		return err
	}
	all := c.dyn.Resource(gvr)
	if _, err := all.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return err
	}
	w, err := all.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	w.Stop()
	return nil
}

// impersonate returns cfg acting as the ServiceAccount name in the
// installation's namespace.
func impersonate(cfg *rest.Config, name string) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + deploytest.Namespace + ":" + name,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + deploytest.Namespace, "system:authenticated"},
	}
	return cfg
}

// rendered renders every built-in blueprint into namespace ns with every
// optional component switched on, and adds the kinds teams keep next to
// rendered objects by hand.
func rendered(t *testing.T, ns string) []manifest.Object {
	t.Helper()
	ctx := t.Context()
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]any{"image": "ghcr.io/acme/app:1.0.0", "credentialsSecret": "db-credentials"}
	var objs []manifest.Object
	for _, bp := range cat.List() {
		params := map[string]any{}
		for _, p := range bp.Parameters {
			switch {
			case p.Required:
				params[p.Name] = required[p.Name]
			case p.Type == blueprint.Boolean && p.Component != "":
				params[p.Name] = true
			}
		}
		r, err := desired.Render(ctx, cat, request.New(bp.Name, request.Spec{
			Blueprint: bp.Name, Environment: "dev", Namespace: ns, Owner: "a", Parameters: params}))
		if err != nil {
			t.Fatalf("render %s: %v", bp.Name, err)
		}
		objs = append(objs, r.Objects...)
	}
	byHand, err := manifest.Decode("by-hand.yaml", []byte(strings.ReplaceAll(`
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: NS}
data: {key: value}
---
apiVersion: v1
kind: Secret
metadata: {name: app, namespace: NS}
stringData: {key: value}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: app, namespace: NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`, "NS", ns)))
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, byHand...)
	// Namespaces first, as the reconciler applies them.
	slices.SortStableFunc(objs, func(a, b manifest.Object) int {
		return boolInt(b.Kind == "Namespace") - boolInt(a.Kind == "Namespace")
	})
	return objs
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRBACAgainstAPIServer installs the base's RBAC in a real API server
// and, as gitvend's ServiceAccount, does everything gitvend does: server-side
// apply (dry-run and for real) of every kind the built-in blueprints render,
// list and watch of those kinds, prune, the leader election Lease and the
// inventory ConfigMaps. A ServiceAccount bound to the same ClusterRole less
// escalate and bind shows why those two are granted.
func TestRBACAgainstAPIServer(t *testing.T) {
	env := kube.Env(t)
	ctx := t.Context()
	admin := newCluster(t, env.Config())
	_, base := deploytest.Output(t, t.TempDir(), "base.yaml", build(t, "kustomize/base"))
	var clusterRole manifest.Object
	for _, o := range base {
		if err := admin.apply(ctx, o, false); err != nil {
			t.Fatalf("install %s: %v", o.ID, err)
		}
		if o.Kind == "ClusterRole" {
			clusterRole = o
		}
	}
	limited := withoutEscalate(t, clusterRole)
	for _, o := range limited {
		if err := admin.apply(ctx, o, false); err != nil {
			t.Fatalf("install %s: %v", o.ID, err)
		}
	}

	cfg := impersonate(env.Config(), "gitvend")
	gitvend := newCluster(t, cfg)
	// A namespace of its own per run: without a namespace controller, a
	// deleted namespace stays Terminating for the life of the apiserver.
	objs := rendered(t, fmt.Sprintf("team-rbac-%d", time.Now().UnixNano()%1e6))
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.Kind] = true
		if o.Kind != "Namespace" {
			if err := gitvend.apply(ctx, o, true); err != nil {
				t.Errorf("drift dry-run of %s: %v", o.ID, err)
			}
		}
		if err := gitvend.apply(ctx, o, false); err != nil {
			t.Errorf("apply %s: %v", o.ID, err)
		}
		if err := gitvend.apply(ctx, o, false); err != nil {
			t.Errorf("re-apply %s: %v", o.ID, err)
		}
	}
	for _, kind := range []string{"Namespace", "ResourceQuota", "LimitRange", "Role", "RoleBinding", "NetworkPolicy",
		"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "CronJob", "StatefulSet",
		"PersistentVolumeClaim", "ServiceAccount", "ConfigMap", "Secret"} {
		if !kinds[kind] {
			t.Errorf("no %s among the objects applied", kind)
		}
	}
	watched := map[string]bool{}
	for _, o := range objs {
		if !watched[o.GroupKind()] {
			watched[o.GroupKind()] = true
			if err := gitvend.watch(ctx, o); err != nil {
				t.Errorf("list and watch %s: %v", o.GroupKind(), err)
			}
		}
	}
	for _, o := range slices.Backward(objs) {
		if err := gitvend.delete(ctx, o); err != nil {
			t.Errorf("prune %s: %v", o.ID, err)
		}
	}

	inventory(t, gitvend)
	lease(t, cfg)
	escalation(t, env.Config(), objs)
}

// withoutEscalate returns a ServiceAccount gitvend-limited bound to a copy
// of the ClusterRole without its escalate and bind rule.
func withoutEscalate(t *testing.T, cr manifest.Object) []manifest.Object {
	t.Helper()
	rules, _ := cr.Content["rules"].([]any)
	var kept []any
	for _, r := range rules {
		verbs, _ := r.(map[string]any)["verbs"].([]any)
		if !slices.Contains(verbs, any("escalate")) {
			kept = append(kept, r)
		}
	}
	if len(kept) != len(rules)-1 {
		t.Fatalf("ClusterRole %s: %d rules grant escalate, want 1", cr.Name, len(rules)-len(kept))
	}
	objs, err := manifest.Decode("limited.yaml", []byte(`
apiVersion: v1
kind: ServiceAccount
metadata: {name: gitvend-limited, namespace: `+deploytest.Namespace+`}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: gitvend-limited}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: gitvend-limited}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gitvend-limited}
subjects: [{kind: ServiceAccount, name: gitvend-limited, namespace: `+deploytest.Namespace+`}]
`))
	if err != nil {
		t.Fatal(err)
	}
	objs[1].Content["rules"] = kept
	return objs
}

// escalation applies the blueprints' Roles and RoleBindings as
// gitvend-limited, which must be refused: without escalate and bind,
// gitvend could not create the team Roles it does not itself hold.
func escalation(t *testing.T, admin *rest.Config, objs []manifest.Object) {
	t.Helper()
	limited := newCluster(t, impersonate(admin, "gitvend-limited"))
	refused := map[string]bool{}
	for _, o := range objs {
		if o.Kind != "Role" && o.Kind != "RoleBinding" {
			continue
		}
		err := limited.apply(t.Context(), o, true)
		if apierrors.IsForbidden(err) {
			refused[o.Kind] = true
		} else if err != nil {
			t.Errorf("apply %s without escalate and bind: %v", o.ID, err)
		}
	}
	for _, kind := range []string{"Role", "RoleBinding"} {
		if !refused[kind] {
			t.Errorf("every %s was accepted without escalate and bind: the ClusterRole need not grant them", kind)
		}
	}
}

// inventory writes, reads and deletes an inventory ConfigMap in the
// installation's namespace.
func inventory(t *testing.T, c *cluster) {
	t.Helper()
	objs, err := manifest.Decode("inventory.yaml", []byte(`
apiVersion: v1
kind: ConfigMap
metadata: {name: gitvend-inventory-dev, namespace: `+deploytest.Namespace+`}
data: {objects: ""}
`))
	if err != nil {
		t.Fatal(err)
	}
	inv := objs[0]
	ctx := t.Context()
	ri, _, err := c.resource(inv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.apply(ctx, inv, false); err != nil {
		t.Fatalf("create inventory: %v", err)
	}
	got, err := ri.Get(ctx, inv.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read inventory: %v", err)
	}
	if err := unstructured.SetNestedField(got.Object, "apps/v1/Deployment/team-a/web", "data", "objects"); err != nil {
		t.Fatal(err)
	}
	if _, err := ri.Update(ctx, got, metav1.UpdateOptions{FieldManager: "gitvend"}); err != nil {
		t.Errorf("update inventory: %v", err)
	}
	if err := c.delete(ctx, inv); err != nil {
		t.Errorf("delete inventory: %v", err)
	}
}

// lease does what replicas do with Leases, as gitvend: one term of leader
// election (the Lease created, renewed and given back), a repository's
// Lease taken and given back, and a push signal sent and heard.
func lease(t *testing.T, cfg *rest.Config) {
	t.Helper()
	e, err := leader.New(cfg, leader.Options{
		Namespace: deploytest.Namespace, Name: "gitvend",
		LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	led := false
	if err := e.Run(ctx, func(context.Context) { led = true }); err != nil {
		t.Fatalf("leader election: %v", err)
	}
	if !led {
		t.Errorf("gitvend's ServiceAccount did not acquire the Lease: %v", ctx.Err())
	}

	// A repository's Lease, taken, renewed and given back.
	locks, err := leader.NewLocks(cfg, leader.LockOptions{Namespace: deploytest.Namespace, Prefix: "gitvend",
		LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	jobCtx, release, err := locks.Lock(ctx, "acme/infra")
	if err != nil {
		t.Fatalf("repository Lease: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // renewed meanwhile
	if jobCtx.Err() != nil {
		t.Errorf("repository Lease lost: %v", context.Cause(jobCtx))
	}
	release()

	// A push signal, listed, watched and sent.
	pushes, err := leader.NewPushes(cfg, leader.PushOptions{Namespace: deploytest.Namespace, Prefix: "gitvend"})
	if err != nil {
		t.Fatal(err)
	}
	kicked := make(chan string, 1)
	if err := pushes.Watch(ctx, func(repo string) { kicked <- repo }); err != nil {
		t.Fatalf("watch push signals: %v", err)
	}
	if err := pushes.Signal(ctx, "acme/infra", "0123456789abcdef"); err != nil {
		t.Fatalf("signal a push: %v", err)
	}
	select {
	case <-kicked:
	case <-ctx.Done():
		t.Error("gitvend's ServiceAccount did not hear its push signal")
	}
}
