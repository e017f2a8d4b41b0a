package reconcile

import (
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/cluster"
)

func TestTargetRefusal(t *testing.T) {
	tgt := cluster.Target{Name: "prod", Namespaces: []string{"team-*", "payments"}, ClusterScopedKinds: []string{"Namespace"}}
	for _, tc := range []struct {
		name       string
		k          key
		namespaced bool
		want       string // substring; "" means allowed
	}{
		{"allowed exact namespace", key{Kind: "ConfigMap", Namespace: "payments", Name: "a"}, true, ""},
		{"allowed prefix", key{Kind: "ConfigMap", Namespace: "team-search", Name: "a"}, true, ""},
		{"other namespace", key{Kind: "ConfigMap", Namespace: "kube-system", Name: "a"}, true, `namespace "kube-system" is not allowed on target prod (allowed: team-*, payments)`},
		{"no namespace", key{Kind: "ConfigMap", Name: "a"}, true, "has no metadata.namespace"},
		{"allowed Namespace", key{Kind: "Namespace", Name: "team-x"}, false, ""},
		{"Namespace not allowed by name", key{Kind: "Namespace", Name: "kube-system"}, false, `namespace "kube-system" is not allowed`},
		{"cluster-scoped kind not allowed", key{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "x"}, false,
			"cluster-scoped kind ClusterRole.rbac.authorization.k8s.io is not allowed on target prod (allowed: Namespace)"},
		{"a Namespace of another group is not the core Namespace", key{Group: "evil.example.com", Kind: "Namespace", Name: "team-x"}, false,
			"cluster-scoped kind Namespace.evil.example.com is not allowed on target prod (allowed: Namespace)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := refusal(tgt, tc.k, tc.namespaced)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("refusal = %q, want %q", got, tc.want)
			}
		})
	}
	none := cluster.Target{Name: "empty"}
	if got := refusal(none, key{Kind: "ConfigMap", Namespace: "a", Name: "b"}, true); !strings.Contains(got, "allowed: none") {
		t.Errorf("a target without namespaces allowed %q", got)
	}
}
