package cluster

import (
	"fmt"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Connection is a target together with the client configuration that
// reaches its API server.
type Connection struct {
	Target
	// Config reaches the cluster.
	Config *rest.Config
}

// Connect reads the client configuration of target t: its kubeconfig file
// and context, or the in-cluster configuration when it names no kubeconfig.
// It does not contact the cluster.
func Connect(t Target) (Connection, error) {
	cfg, err := RESTConfig(t.Kubeconfig, t.Context)
	if err != nil {
		return Connection{}, fmt.Errorf("targets %s: %w", t.Name, err)
	}
	return Connection{Target: t, Config: cfg}, nil
}

// RESTConfig reads a kubeconfig file and context (the current one when
// empty), or the in-cluster configuration when kubeconfig is empty.
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
