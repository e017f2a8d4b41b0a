#!/usr/bin/env bash
# Fails unless the gitvend binary links exactly one go-github, major v60:
# go-github majors are separate modules, and a second one (pulled in by an
# upgrade of ghinstallation, say) would double the client in the binary.
# Argument: the binary to inspect (built first when missing).
set -euo pipefail
bin="${1:-bin/gitvend}"
if [[ ! -x "$bin" ]]; then
	go build -trimpath -o "$bin" ./cmd/gitvend
fi
mods="$(go version -m "$bin" | awk '$1 == "dep" && $2 ~ /^github.com\/google\/go-github(\/v[0-9]+)?$/ { print $2 " " $3 }')"
if [[ "$mods" != "github.com/google/go-github/v60 "* || "$(wc -l <<<"$mods")" -ne 1 ]]; then
	echo "one-gogithub: $bin links these go-github modules, want github.com/google/go-github/v60 alone:" >&2
	echo "${mods:-(none)}" >&2
	echo "see which module requires them: go mod graph | grep go-github" >&2
	exit 1
fi
echo "one-gogithub: $bin links $mods alone"
