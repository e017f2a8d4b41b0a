// Package deploytest holds the checks shared by the tests of gitvend's
// deployment manifests, the kustomize base and the Helm chart: each renders
// an installation and hands its objects here, to be held against what
// deploy/README.md promises (restricted pods, probes, the metrics port kept
// off the Service GitHub reaches, two replicas with a disruption budget,
// credentials never in a manifest, least-privilege RBAC), against gitvend's
// own policies through internal/check, and against the server
// configuration format.
package deploytest
