// Package cluster owns what gitvend knows of a target cluster before it
// talks to it: the Target (name, the repository and environments it serves,
// its namespace and cluster-scoped-kind allow-lists and its modes), checked
// once by Target.Validate, and the client configuration that reaches it
// (Connect, RESTConfig) from a kubeconfig file and context or from the
// in-cluster configuration. The server configuration decodes its targets
// into this type; reconcile applies to it; `gitvend apply`, `gitvend drift`
// and leader election reach their clusters through it.
package cluster
