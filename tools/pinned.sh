# Shared by the build scripts of pinned tools (tools/kubeenv, tools/release),
# sourced, never run. Each script builds commands from the Go modules pinned
# in its own directory into the repository's bin/ directory, and rebuilds
# only when a binary is missing or when its go.mod, go.sum, the script, this
# file or the Go toolchain changed since the last build; the hash of those
# inputs is kept in bin/.<stamp>-stamp. FORCE=1 rebuilds anyway.

# pinned_begin LABEL STAMP BIN SCRIPT BINARY... sets up bin (created, made
# absolute), serialises concurrent runs against it, and exits the script
# when every BINARY is there and built from the same inputs.
pinned_begin() {
	label="$1" stamp_name="$2" bin="$3" local_script="$4"
	shift 4
	mkdir -p "${bin}"
	bin="$(cd "${bin}" && pwd)"
	stamp="${bin}/.${stamp_name}-stamp"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${bin}/.${stamp_name}-lock"
		flock 9
	fi
	cd "$(dirname "${local_script}")"
	export GOWORK=off
	export CGO_ENABLED=0
	want="$({
		go version
		cat go.mod go.sum "${local_script}" "${BASH_SOURCE[0]}"
	} | sha256sum | cut -d' ' -f1)"
	if [[ "${FORCE:-0}" != "1" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
		local b missing=0
		for b in "$@"; do
			[[ -x "${bin}/${b}" ]] || missing=1
		done
		if [[ ${missing} == 0 ]]; then
			echo "${label}: $* in ${bin} are up to date"
			exit 0
		fi
	fi
	rm -f "${stamp}"
}

# pinned_build NAME PACKAGE [EXTRA_LDFLAGS] builds one command into bin.
pinned_build() {
	local name="$1" pkg="$2" extra="${3:-}"
	local start=${SECONDS}
	echo "${label}: building ${name} (the first time takes minutes, cached afterwards)..."
	go build -trimpath -ldflags "-s -w${extra}" -o "${bin}/.${name}.tmp" "${pkg}"
	mv -f "${bin}/.${name}.tmp" "${bin}/${name}"
	echo "${label}: built ${bin}/${name} in $((SECONDS - start))s"
}

# pinned_done records the inputs the binaries were built from.
pinned_done() {
	echo "${want}" >"${stamp}"
}
