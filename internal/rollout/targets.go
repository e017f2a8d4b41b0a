package rollout

import (
	"fmt"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// TargetFromConfig turns a server configuration target into a rollout
// Target, reaching its cluster through its kubeconfig (or the in-cluster
// configuration when it names none).
func TargetFromConfig(t config.Target) (Target, error) {
	cfg, err := RESTConfig(t.Kubeconfig, t.Context)
	if err != nil {
		return Target{}, fmt.Errorf("targets %s: %w", t.Name, err)
	}
	return Target{Target: ReconcileTarget(t), Repo: t.Repository, Config: cfg}, nil
}

// ReconcileTarget is the reconcile view of a configured target.
func ReconcileTarget(t config.Target) reconcile.Target {
	return reconcile.Target{
		Name: t.Name, Environments: t.Environments, Namespaces: t.Namespaces, ClusterScopedKinds: t.ClusterScopedKinds,
		Prune: t.Prune, SelfHeal: t.SelfHeal, ReportOnly: t.ReportOnly, DriftInterval: t.DriftInterval,
		HealthTimeout: t.HealthTimeout, InventoryNamespace: t.InventoryNamespace,
	}
}

// RESTConfig reads a kubeconfig file and context, or the in-cluster
// configuration when kubeconfig is empty.
func RESTConfig(kubeconfig, context string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster configuration (set kubeconfig to reach a cluster from outside): %w", err)
		}
		return cfg, nil
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: filepath.Clean(kubeconfig)}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}
