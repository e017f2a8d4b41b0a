// Package kubetest runs a real Kubernetes control plane (kube-apiserver and
// etcd, no controllers and no kubelet) for tests that cross the cluster
// boundary. The binaries come from tools/kubeenv, built into the repository's
// bin/ directory by tools/kubeenv/build.sh (or found in $GITVEND_KUBE_BIN),
// and are started through controller-runtime's envtest.
//
// A test either starts its own control plane with ForTest, or shares one
// per test binary through a Shared value stopped from TestMain, because each
// start costs a few seconds. The API server can be stopped and started again
// while etcd keeps running, so a test can simulate an API server that goes
// away in the middle of an operation and comes back with its data intact.
package kubetest
