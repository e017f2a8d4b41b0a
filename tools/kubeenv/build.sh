#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from the pinned modules in this
# directory into the repository's bin/ directory (or $GITVEND_KUBE_BIN),
# only when they are missing or their inputs changed (see ../pinned.sh;
# the stamp is bin/.kubeenv-stamp). Set FORCE=1 to rebuild anyway.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
# shellcheck source=../pinned.sh
source "${here}/../pinned.sh"
pinned_begin kubeenv kubeenv "${GITVEND_KUBE_BIN:-${root}/bin}" "${here}/build.sh" kube-apiserver etcd kubectl

kube_version="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
kube_date="$(go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
kube_minor="$(echo "${kube_version}" | cut -d. -f2)"
kube_major="$(echo "${kube_version#v}" | cut -d. -f1)"

version_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	version_ldflags+=" -X ${pkg}.gitVersion=${kube_version}"
	version_ldflags+=" -X ${pkg}.gitMajor=${kube_major}"
	version_ldflags+=" -X ${pkg}.gitMinor=${kube_minor}"
	version_ldflags+=" -X ${pkg}.buildDate=${kube_date:-1970-01-01T00:00:00Z}"
done

total=${SECONDS}
pinned_build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "${version_ldflags}"
pinned_build etcd go.etcd.io/etcd/server/v3
pinned_build kubectl k8s.io/kubernetes/cmd/kubectl "${version_ldflags}"
pinned_done
echo "kubeenv: done in $((SECONDS - total))s (kube ${kube_version})"
