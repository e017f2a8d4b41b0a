package cluster

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitvend/gitvend/internal/field"
)

// valid is a target every check accepts.
func valid() Target {
	return Target{Name: "prod", Repository: "acme/infra", Environments: []string{"prod"}, Namespaces: []string{"team-*", "payments"},
		ClusterScopedKinds: []string{"Namespace", "Widget.example.com"}, DriftInterval: time.Minute, HealthTimeout: time.Minute,
		InventoryNamespace: DefaultInventoryNamespace}
}

func TestTargetValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Target)
		want   []string // "field: message"
	}{
		{"valid", func(*Target) {}, nil},
		{"no health wait", func(t *Target) { t.HealthTimeout = 0 }, nil},
		{"prune threshold set", func(t *Target) { t.MaxPrune, t.MaxPrunePercent = 5, 100 }, nil},
		{"bad prune threshold", func(t *Target) { t.MaxPrune, t.MaxPrunePercent = -1, 101 }, []string{
			"maxPrune: must be a positive number of objects (0 or absent means 20), got -1",
			"maxPrunePercent: must be a percentage from 1 to 100 (0 or absent means 50), got 101"}},
		{"every namespace, no cluster-scoped kind", func(t *Target) { t.Namespaces, t.ClusterScopedKinds = []string{"*"}, nil }, nil},
		{"bad name", func(t *Target) { t.Name = "Prod_1" }, []string{
			`name: must be a DNS-1123 label (lower case letters, digits and '-', at most 63), got "Prod_1"`}},
		{"no environments", func(t *Target) { t.Environments = nil }, []string{
			"environments: must name at least one environment of the repository"}},
		{"bad and repeated environments", func(t *Target) { t.Environments = []string{"prod", "Dev", "prod"} }, []string{
			`environments[1]: must be an environment name (DNS-1123 label), got "Dev"`,
			`environments[2]: environment "prod" is listed twice`}},
		{"no namespaces", func(t *Target) { t.Namespaces = nil }, []string{
			`namespaces: must name at least one namespace or prefix ("*" allows all)`}},
		{"bad namespace patterns", func(t *Target) { t.Namespaces = []string{"*", "team-*", "te*am", "UPPER", "*-x"} }, []string{
			`namespaces[2]: must be a namespace name or a prefix ending in '*', got "te*am"`,
			`namespaces[3]: must be a namespace name or a prefix ending in '*', got "UPPER"`,
			`namespaces[4]: must be a namespace name or a prefix ending in '*', got "*-x"`}},
		{"bad kind", func(t *Target) { t.ClusterScopedKinds = []string{"namespace"} }, []string{
			`clusterScopedKinds[0]: must be a Kubernetes kind such as Namespace, got "namespace"`}},
		{"built-in kinds, alone or with their group", func(t *Target) {
			t.ClusterScopedKinds = []string{"ClusterRole", "ClusterRole.rbac.authorization.k8s.io", "Namespace", "CustomResourceDefinition"}
		}, nil},
		{"custom kind without its group", func(t *Target) { t.ClusterScopedKinds = []string{"Widget"} }, []string{
			`clusterScopedKinds[0]: Widget is no cluster-scoped kind of Kubernetes' built-in API; name it with its group, such as Widget.example.com`}},
		{"bad group", func(t *Target) { t.ClusterScopedKinds = []string{"Widget.Example_com", "Widget."} }, []string{
			`clusterScopedKinds[0]: must be Kind.group with an API group such as rbac.authorization.k8s.io, got "Widget.Example_com"`,
			`clusterScopedKinds[1]: must be Kind.group with an API group such as rbac.authorization.k8s.io, got "Widget."`}},
		{"bad kind with a group", func(t *Target) { t.ClusterScopedKinds = []string{"widget.example.com"} }, []string{
			`clusterScopedKinds[0]: must be a Kubernetes kind such as Namespace, got "widget.example.com"`}},
		{"self-heal when report-only", func(t *Target) { t.SelfHeal, t.ReportOnly = true, true }, []string{
			"selfHeal: cannot be true when reportOnly is: a report-only target is never written to"}},
		// The drift interval is the backstop to watching the objects: a
		// watch that fails or misses an event must not leave drift unseen,
		// so there is no "watch alone" setting.
		{"zero drift interval", func(t *Target) { t.DriftInterval = 0 }, []string{
			"driftInterval: must be a positive duration such as 30s, 5m or 1h, got 0s"}},
		{"negative durations", func(t *Target) { t.DriftInterval, t.HealthTimeout = -1, -time.Second }, []string{
			"driftInterval: must be a positive duration such as 30s, 5m or 1h, got -1ns",
			"healthTimeout: must be 0 (do not wait for objects to become ready) or a positive duration, got -1s"}},
		{"no inventory namespace", func(t *Target) { t.InventoryNamespace = "" }, []string{
			`inventoryNamespace: must be a namespace name (DNS-1123 label), got ""`}},
		{"bad inventory namespace", func(t *Target) { t.InventoryNamespace = "gitvend system" }, []string{
			`inventoryNamespace: must be a namespace name (DNS-1123 label), got "gitvend system"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := valid()
			tc.change(&tgt)
			var got []string
			for _, e := range joined(tgt.Validate()) {
				var fe *field.Error
				if !errors.As(e, &fe) {
					t.Errorf("error %v is not a *field.Error", e)
					continue
				}
				got = append(got, fe.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestTargetAllows(t *testing.T) {
	tgt := valid()
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"exact namespace", tgt.AllowsNamespace("payments"), true},
		{"prefixed namespace", tgt.AllowsNamespace("team-search"), true},
		{"the bare prefix is no match for team-*", tgt.AllowsNamespace("team"), false},
		{"other namespace", tgt.AllowsNamespace("kube-system"), false},
		{"every namespace", Target{Namespaces: []string{"*"}}.AllowsNamespace("kube-system"), true},
		{"no namespace", Target{}.AllowsNamespace("a"), false},
		{"listed built-in kind", tgt.AllowsClusterScopedKind(schema.GroupKind{Kind: "Namespace"}), true},
		{"listed kind with its group", tgt.AllowsClusterScopedKind(schema.GroupKind{Group: "example.com", Kind: "Widget"}), true},
		{"other kind", tgt.AllowsClusterScopedKind(schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}), false},
		{"a listed built-in kind's name in another group", tgt.AllowsClusterScopedKind(schema.GroupKind{Group: "evil.example.com", Kind: "Namespace"}), false},
		{"a listed kind in another group", tgt.AllowsClusterScopedKind(schema.GroupKind{Group: "evil.example.com", Kind: "Widget"}), false},
		{"a listed kind without its group", tgt.AllowsClusterScopedKind(schema.GroupKind{Kind: "Widget"}), false},
		{"a built-in kind named alone", Target{ClusterScopedKinds: []string{"ClusterRole"}}.AllowsClusterScopedKind(
			schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}), true},
		{"a built-in kind's name alone is not the core group's", Target{ClusterScopedKinds: []string{"ClusterRole"}}.AllowsClusterScopedKind(
			schema.GroupKind{Kind: "ClusterRole"}), false},
		{"served environment", tgt.ServesEnvironment("prod"), true},
		{"other environment", tgt.ServesEnvironment("dev"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestIsNamespacePattern(t *testing.T) {
	for _, tc := range []struct {
		p    string
		want bool
	}{
		{"*", true}, {"team-*", true}, {"payments", true}, {"a", true},
		{"", false}, {"*-x", false}, {"te*am", false}, {"UPPER", false}, {"-a*", false}, {"a**", false},
	} {
		t.Run(tc.p, func(t *testing.T) {
			if got := IsNamespacePattern(tc.p); got != tc.want {
				t.Errorf("IsNamespacePattern(%q) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestTargetPruneLimit(t *testing.T) {
	def := valid()
	set := valid()
	set.MaxPrune, set.MaxPrunePercent = 3, 10
	for _, tc := range []struct {
		name     string
		t        Target
		n, total int
		exceeded bool
		reason   string
	}{
		{"nothing pruned", def, 0, 0, false, ""},
		{"default count reached, not passed", def, 20, 100, false, ""},
		{"default count passed", def, 21, 100, true, "it prunes 21 objects, more than the 20 target prod allows without confirmation"},
		{"default share reached, not passed", def, 2, 4, false, ""},
		{"default share passed", def, 3, 4, true, "it prunes 3 of the 4 objects of target prod, more than the 50% it allows without confirmation"},
		{"set count passed", set, 4, 1000, true, "it prunes 4 objects, more than the 3 target prod allows without confirmation"},
		{"set share passed", set, 2, 10, true, "it prunes 2 of the 10 objects of target prod, more than the 10% it allows without confirmation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exceeded, reason := tc.t.PruneLimit(tc.n, tc.total)
			if exceeded != tc.exceeded || reason != tc.reason {
				t.Errorf("PruneLimit(%d, %d) = %v, %q; want %v, %q", tc.n, tc.total, exceeded, reason, tc.exceeded, tc.reason)
			}
		})
	}
}
