package deploy_test

import (
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/request"
)

// access is one question to the API server's authorizer: may a member of
// a tier's group do verb on resource in the team's namespace.
type access struct {
	group, resource, subresource, verb, name string
	allowed                                  bool
}

// TestTeamNamespaceTiersAgainstAPIServer installs a team namespace in a
// real API server and asks its authorizer what each tier's group may do:
// the tiers must work, and no tier may change or delete the quota, the
// limits, the network policies or the namespace the request set, nor
// create network policies that open what the default-deny one closes. A
// team admin then tries it for real, and tries to get round it by writing
// or binding a Role that holds those rights.
func TestTeamNamespaceTiersAgainstAPIServer(t *testing.T) {
	env := kube.Env(t)
	ctx := t.Context()
	ns := fmt.Sprintf("team-tiers-%d", time.Now().UnixNano()%1e6)
	admin := newCluster(t, env.Config())
	objs := teamNamespace(t, ns)
	for _, o := range objs {
		if err := admin.apply(ctx, o, false); err != nil {
			t.Fatalf("install %s: %v", o.ID, err)
		}
	}

	guarded := []access{}
	for _, verb := range []string{"create", "update", "patch", "delete", "deletecollection"} {
		guarded = append(guarded,
			access{"", "resourcequotas", "", verb, ns + "-quota", false},
			access{"", "limitranges", "", verb, ns + "-limits", false},
			access{"networking.k8s.io", "networkpolicies", "", verb, ns + "-default-deny", false},
			access{"", "namespaces", "", verb, ns, false},
		)
	}
	reads := []access{
		{"", "resourcequotas", "", "get", ns + "-quota", true},
		{"", "limitranges", "", "list", "", true},
		{"networking.k8s.io", "networkpolicies", "", "get", ns + "-default-deny", true},
	}
	tiers := map[string][]access{
		"a-viewers": append(append([]access{
			{"", "pods", "", "list", "", true},
			{"", "secrets", "", "get", "", false},
			{"apps", "deployments", "", "create", "", false},
		}, reads...), guarded...),
		"a-editors": append(append([]access{
			{"apps", "deployments", "", "update", "", true},
			{"", "secrets", "", "create", "", true},
			{"", "pods", "exec", "create", "", false},
			{"rbac.authorization.k8s.io", "rolebindings", "", "create", "", false},
		}, reads...), guarded...),
		"a-admins": append(append([]access{
			{"apps", "deployments", "", "delete", "", true},
			{"", "pods", "exec", "create", "", true},
			{"rbac.authorization.k8s.io", "roles", "", "update", "", true},
			{"rbac.authorization.k8s.io", "rolebindings", "", "create", "", true},
			{"rbac.authorization.k8s.io", "roles", "", "escalate", "", false},
			{"rbac.authorization.k8s.io", "roles", "", "bind", "", false},
		}, reads...), guarded...),
	}
	cs, err := kubernetes.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	for group, list := range tiers {
		for _, a := range list {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   "alice",
				Groups: []string{group, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: ns, Group: a.group, Resource: a.resource, Subresource: a.subresource, Verb: a.verb, Name: a.name,
				},
			}}
			// The authorizer sees new Roles and RoleBindings through its
			// informers, a moment after they are created: ask again until
			// the answer settles or ten seconds pass.
			var got *authorizationv1.SubjectAccessReview
			for settle := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if got, err = cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{}); err != nil {
					t.Fatalf("ask the authorizer: %v", err)
				}
				if got.Status.Allowed == a.allowed || time.Now().After(settle) {
					break
				}
			}
			if got.Status.Allowed != a.allowed {
				t.Errorf("%s may %s %s%s %s: %v, want %v", group, a.verb, a.resource, sub(a.subresource), a.name, got.Status.Allowed, a.allowed)
			}
		}
	}

	// As a team admin, for real.
	teamAdmin := rest.CopyConfig(env.Config())
	teamAdmin.Impersonate = rest.ImpersonationConfig{UserName: "alice", Groups: []string{"a-admins", "system:authenticated"}}
	as := newCluster(t, teamAdmin)
	for _, o := range objs {
		switch o.Kind {
		case "NetworkPolicy", "ResourceQuota", "LimitRange":
			if err := as.delete(ctx, o); !apierrors.IsForbidden(err) {
				t.Errorf("team admin deleted %s: %v, want forbidden", o.ID, err)
			}
		case "Namespace":
			patch := []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`)
			ri, _, err := as.resource(o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ri.Patch(ctx, o.Name, types.MergePatchType, patch, metav1.PatchOptions{}); !apierrors.IsForbidden(err) {
				t.Errorf("team admin relabelled Namespace %s: %v, want forbidden", o.Name, err)
			}
		}
	}
	quota := objByKind(t, objs, "ResourceQuota")
	quota.Content["spec"] = map[string]any{"hard": map[string]any{"requests.cpu": "1000"}}
	if err := as.apply(ctx, quota, false); !apierrors.IsForbidden(err) {
		t.Errorf("team admin raised the quota: %v, want forbidden", err)
	}
	workaround, err := manifest.Decode("workaround.yaml", []byte(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: open-up, namespace: `+ns+`}
rules:
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: open-up, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range workaround {
		if err := as.apply(ctx, o, false); !apierrors.IsForbidden(err) {
			t.Errorf("team admin created %s, which holds rights the tier lacks: %v, want forbidden", o.ID, err)
		}
	}
	// The tier still does what it is for.
	cm, err := manifest.Decode("cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: "+ns+"}\ndata: {a: b}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := as.apply(ctx, cm[0], false); err != nil {
		t.Errorf("team admin could not write a ConfigMap: %v", err)
	}
}

func sub(s string) string {
	if s == "" {
		return ""
	}
	return "/" + s
}

// teamNamespace renders the team-namespace blueprint for namespace ns and
// owner a, whose groups are a-viewers, a-editors and a-admins.
func teamNamespace(t *testing.T, ns string) []manifest.Object {
	t.Helper()
	ctx := t.Context()
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	r, err := desired.Render(ctx, cat, request.New(ns, request.Spec{Blueprint: "team-namespace", Environment: "dev", Namespace: ns, Owner: "a"}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Objects[0].Kind != "Namespace" {
		t.Fatalf("first object is %s, want the Namespace", r.Objects[0].ID)
	}
	return r.Objects
}

func objByKind(t *testing.T, objs []manifest.Object, kind string) manifest.Object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind {
			return o
		}
	}
	t.Fatalf("no %s rendered", kind)
	return manifest.Object{}
}
