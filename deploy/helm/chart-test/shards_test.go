package charttest_test

import (
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitvend/gitvend/internal/manifest"
)

// shardTargets reads leaderElection.shardTargets from the installation's
// config.yaml, and checks that the Role lets the replicas do what sharing
// the targets takes on Leases: list them, get, create and update each
// (take, renew, give back), and never delete one.
func shardTargets(t *testing.T, objs []manifest.Object) bool {
	t.Helper()
	var cfg struct {
		LeaderElection struct {
			ShardTargets bool `yaml:"shardTargets"`
		} `yaml:"leaderElection"`
	}
	found := false
	for _, o := range objs {
		switch o.Kind {
		case "ConfigMap":
			data, ok := manifest.Lookup(o.Content, "data", "config.yaml")
			if !ok {
				continue
			}
			found = true
			s, _ := data.(string)
			if err := yaml.Unmarshal([]byte(s), &cfg); err != nil {
				t.Fatalf("config.yaml: %v", err)
			}
		case "Role":
			var role rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Content, &role); err != nil {
				t.Fatalf("Role %s: %v", o.Name, err)
			}
			leaseVerbs := map[string]bool{}
			for _, r := range role.Rules {
				if slices.Contains(r.APIGroups, "coordination.k8s.io") && slices.Contains(r.Resources, "leases") {
					for _, v := range r.Verbs {
						leaseVerbs[v] = true
					}
				}
			}
			for _, v := range []string{"get", "list", "create", "update"} {
				if !leaseVerbs[v] {
					t.Errorf("Role %s does not grant %s on Leases, which shard Leases need", o.Name, v)
				}
			}
			if leaseVerbs["delete"] || leaseVerbs["deletecollection"] || leaseVerbs["*"] {
				t.Errorf("Role %s may delete Leases: %v", o.Name, leaseVerbs)
			}
		}
	}
	if !found {
		t.Fatal("no ConfigMap holds config.yaml")
	}
	return cfg.LeaderElection.ShardTargets
}
