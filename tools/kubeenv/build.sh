#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from the pinned modules in this
# directory into the repository's bin/ directory (or $GITVEND_KUBE_BIN).
#
# The binaries are rebuilt only when one is missing or when go.mod, go.sum,
# this script or the Go toolchain changed since the last build; the hash of
# those inputs is kept in bin/.kubeenv-stamp. Set FORCE=1 to rebuild anyway.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
self="${here}/$(basename "${BASH_SOURCE[0]}")"
root="$(cd "${here}/../.." && pwd)"
bin="${GITVEND_KUBE_BIN:-${root}/bin}"
stamp="${bin}/.kubeenv-stamp"

mkdir -p "${bin}"
bin="$(cd "${bin}" && pwd)"

# Serialise concurrent runs against the same bin/ directory.
if command -v flock >/dev/null 2>&1; then
	exec 9>"${bin}/.kubeenv-lock"
	flock 9
fi

cd "${here}"
export GOWORK=off
export CGO_ENABLED=0

want="$({
	go version
	cat go.mod go.sum "${self}"
} | sha256sum | cut -d' ' -f1)"

up_to_date() {
	[[ "${FORCE:-0}" != "1" ]] || return 1
	[[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]] || return 1
	local b
	for b in kube-apiserver etcd kubectl; do
		[[ -x "${bin}/${b}" ]] || return 1
	done
}

if up_to_date; then
	echo "kubeenv: kube-apiserver, etcd and kubectl in ${bin} are up to date"
	exit 0
fi

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

# build NAME PACKAGE EXTRA_LDFLAGS
build() {
	local name="$1" pkg="$2" extra="$3"
	local start=${SECONDS}
	echo "kubeenv: building ${name} (first time takes ~8 min, cached afterwards)..."
	go build -trimpath -ldflags "-s -w${extra}" -o "${bin}/.${name}.tmp" "${pkg}"
	mv -f "${bin}/.${name}.tmp" "${bin}/${name}"
	echo "kubeenv: built ${bin}/${name} in $((SECONDS - start))s"
}

total=${SECONDS}
rm -f "${stamp}"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "${version_ldflags}"
build etcd go.etcd.io/etcd/server/v3 ""
build kubectl k8s.io/kubernetes/cmd/kubectl "${version_ldflags}"
echo "${want}" >"${stamp}"
echo "kubeenv: done in $((SECONDS - total))s (kube ${kube_version})"
