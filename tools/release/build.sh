#!/usr/bin/env bash
# Builds goreleaser and actionlint from the pinned modules in this directory
# into the repository's bin/ directory (or $GITVEND_TOOLS_BIN), reusing Go's
# module and build caches.
#
# The binaries are rebuilt only when one is missing or when go.mod, go.sum,
# this script or the Go toolchain changed since the last build; the hash of
# those inputs is kept in bin/.release-tools-stamp. Set FORCE=1 to rebuild.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
self="${here}/$(basename "${BASH_SOURCE[0]}")"
root="$(cd "${here}/../.." && pwd)"
bin="${GITVEND_TOOLS_BIN:-${root}/bin}"
stamp="${bin}/.release-tools-stamp"

mkdir -p "${bin}"
bin="$(cd "${bin}" && pwd)"

if command -v flock >/dev/null 2>&1; then
	exec 9>"${bin}/.release-tools-lock"
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
	for b in goreleaser actionlint; do
		[[ -x "${bin}/${b}" ]] || return 1
	done
}

if up_to_date; then
	echo "release tools: goreleaser and actionlint in ${bin} are up to date"
	exit 0
fi

# build NAME PACKAGE
build() {
	local name="$1" pkg="$2"
	local start=${SECONDS}
	echo "release tools: building ${name} (the first time takes minutes, cached afterwards)..."
	go build -trimpath -ldflags "-s -w" -o "${bin}/.${name}.tmp" "${pkg}"
	mv -f "${bin}/.${name}.tmp" "${bin}/${name}"
	echo "release tools: built ${bin}/${name} in $((SECONDS - start))s"
}

rm -f "${stamp}"
build actionlint github.com/rhysd/actionlint/cmd/actionlint
build goreleaser github.com/goreleaser/goreleaser/v2
echo "${want}" >"${stamp}"
