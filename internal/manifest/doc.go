// Package manifest owns sets of Kubernetes objects as gitvend reads them from
// Git: decoding multi-document YAML with source positions, object identity,
// scope (namespaced or cluster-wide) of the well-known kinds, deterministic
// encoding, and kustomize builds of directories whose objects keep the file
// and line they came from.
//
// Everything is read through a Tree: a read-only view of one folder
// confined by an os.Root, in which a symbolic link may lead to a file of
// the tree but never outside it nor to a folder, and which bounds the
// folders' depth, the files and bytes read and the objects made (Limits),
// and stops when its context is done. Kustomize reads through the same
// view, with its root-only load restriction and no plugins, after every
// kustomization it will read was vetted: remote references (URLs, Git
// addresses) and Helm charts are refused with their file and line, so
// that a build never reaches the network.
package manifest
