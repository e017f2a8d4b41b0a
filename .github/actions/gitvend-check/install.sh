#!/usr/bin/env bash
# Installs gitvend for the gitvend check action and puts it on the PATH.
#
# A release (VERSION such as v0.1.0): downloads the archive for the runner's
# OS and architecture from the GitHub release and verifies it against the
# release's checksums file before unpacking it. FROM_SOURCE=true: builds
# VERSION, any ref of the module (a release, a branch, a commit), with
# go install, for refs that have no release yet.
#
# Environment: VERSION, FROM_SOURCE, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP,
# GITHUB_PATH; REPOSITORY (owner/name, default gitvend/gitvend) and
# SERVER_URL (default https://github.com) for the download.
set -euo pipefail

repo="${REPOSITORY:-gitvend/gitvend}"
server="${SERVER_URL:-https://github.com}"

if [[ "${FROM_SOURCE:-false}" == "true" ]]; then
	if [[ ! "$VERSION" =~ ^[0-9A-Za-z][0-9A-Za-z._/-]*$ ]]; then
		echo "::error::gitvend-version must be a version, branch or commit, got '$VERSION'"
		exit 2
	fi
	GOFLAGS=-trimpath go install "github.com/${repo}/cmd/gitvend@${VERSION}"
	echo "$(go env GOPATH)/bin" >>"$GITHUB_PATH"
	"$(go env GOPATH)/bin/gitvend" version
	exit 0
fi

if [[ ! "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
	echo "::error::gitvend-version must be a release such as v0.1.0, got '$VERSION' (set from-source: true for a branch or commit)"
	exit 2
fi
case "${RUNNER_OS}" in
Linux) os=linux ;;
macOS) os=darwin ;;
*)
	echo "::error::gitvend is released for Linux and macOS runners, not ${RUNNER_OS} (set from-source: true to build it)"
	exit 2
	;;
esac
case "${RUNNER_ARCH}" in
X64) arch=amd64 ;;
ARM64) arch=arm64 ;;
*)
	echo "::error::gitvend is released for X64 and ARM64 runners, not ${RUNNER_ARCH} (set from-source: true to build it)"
	exit 2
	;;
esac

number="${VERSION#v}"
archive="gitvend_${number}_${os}_${arch}.tar.gz"
sums="gitvend_${number}_checksums.txt"
dir="${RUNNER_TEMP}/gitvend-${VERSION}"
mkdir -p "$dir"
cd "$dir"
base="${server}/${repo}/releases/download/${VERSION}"
curl -fsSL --retry 3 -o "$archive" "${base}/${archive}"
curl -fsSL --retry 3 -o "$sums" "${base}/${sums}"

# The checksums file has one "<sha256>  <file>" line per asset.
want="$(awk -v f="$archive" '$2 == f { print $1 }' "$sums")"
if [[ -z "$want" ]]; then
	echo "::error::${sums} lists no checksum for ${archive}"
	exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
	got="$(sha256sum "$archive" | cut -d' ' -f1)"
else
	got="$(shasum -a 256 "$archive" | cut -d' ' -f1)"
fi
if [[ "$got" != "$want" ]]; then
	echo "::error::${archive} has sha256 ${got}, the release's checksums file says ${want}"
	exit 1
fi
tar -xzf "$archive" gitvend
echo "$dir" >>"$GITHUB_PATH"
"$dir/gitvend" version
