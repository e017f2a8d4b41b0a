// Package manifest owns sets of Kubernetes objects as gitvend reads them from
// Git: decoding multi-document YAML with source positions, object identity,
// scope (namespaced or cluster-wide) of the well-known kinds, deterministic
// encoding, and kustomize builds of directories whose objects keep the file
// and line they came from.
package manifest
