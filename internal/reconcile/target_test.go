package reconcile

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
)

func TestTargetValidate(t *testing.T) {
	good := Target{Name: "prod", Environments: []string{"prod"}, Namespaces: []string{"team-*", "payments"},
		ClusterScopedKinds: []string{"Namespace"}, DriftInterval: time.Minute, HealthTimeout: time.Minute}
	for _, tc := range []struct {
		name   string
		change func(*Target)
		want   []string // field paths
	}{
		{"valid", func(*Target) {}, nil},
		{"zero durations and no namespaces", func(t *Target) {
			t.DriftInterval, t.HealthTimeout, t.Namespaces = 0, 0, nil
		}, nil},
		{"bad name", func(t *Target) { t.Name = "Prod_1" }, []string{"name"}},
		{"no environments", func(t *Target) { t.Environments = nil }, []string{"environments"}},
		{"bad and repeated environments", func(t *Target) { t.Environments = []string{"prod", "Dev", "prod"} },
			[]string{"environments[1]", "environments[2]"}},
		{"bad namespace patterns", func(t *Target) { t.Namespaces = []string{"*", "team-*", "te*am", "UPPER"} },
			[]string{"namespaces[2]", "namespaces[3]"}},
		{"bad kind", func(t *Target) { t.ClusterScopedKinds = []string{"namespace"} }, []string{"clusterScopedKinds[0]"}},
		{"self-heal when report-only", func(t *Target) { t.SelfHeal, t.ReportOnly = true, true }, []string{"selfHeal"}},
		{"negative durations", func(t *Target) { t.DriftInterval, t.HealthTimeout = -1, -time.Second },
			[]string{"driftInterval", "healthTimeout"}},
		{"bad inventory namespace", func(t *Target) { t.InventoryNamespace = "gitvend system" }, []string{"inventoryNamespace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := good
			tc.change(&tgt)
			err := tgt.Validate()
			var got []string
			for _, e := range joined(err) {
				var fe *field.Error
				if !errors.As(e, &fe) || fe.Msg == "" {
					t.Errorf("error %v is not a FieldError with a message", e)
					continue
				}
				got = append(got, fe.Field)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("fields at fault (-want +got):\n%s\nerror: %v", diff, err)
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

func TestTargetRefusal(t *testing.T) {
	tgt := Target{Name: "prod", Namespaces: []string{"team-*", "payments"}, ClusterScopedKinds: []string{"Namespace"}}
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
			"cluster-scoped kind ClusterRole is not allowed on target prod (allowed: Namespace)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tgt.refusal(tc.k, tc.namespaced)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("refusal = %q, want %q", got, tc.want)
			}
		})
	}
	none := Target{Name: "empty"}
	if got := none.refusal(key{Kind: "ConfigMap", Namespace: "a", Name: "b"}, true); !strings.Contains(got, "allowed: none") {
		t.Errorf("a target without namespaces allowed %q", got)
	}
}
