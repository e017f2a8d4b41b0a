#!/usr/bin/env bash
# Compares `conftest test` running gitvend's policy library on 1,000 typical
# objects with gitvend's own engine (internal/policy) on the same objects.
#
# Both run the same Rego modules of this directory: conftest through a small
# wrapper package that turns each document (or, with --combine, every
# document) into gitvend's policy input, gitvend through its prepared query.
#
# Usage: policies/bench-conftest.sh
#   CONFTEST=/path/to/conftest   use this binary; otherwise conftest from
#                                PATH, or install CONFTEST_VERSION with
#                                `go install` into a temporary GOBIN (this
#                                never touches the repository's go.mod)
#   CONFTEST_VERSION=v0.71.1     the version to install (v0.71.1 is the
#                                newest whose go directive builds on Go 1.26)
#   RUNS=3                       runs per measurement; the fastest counts
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${RUNS:-3}

conftest=${CONFTEST:-$(command -v conftest || true)}
if [ -z "$conftest" ]; then
	version=${CONFTEST_VERSION:-v0.71.1}
	echo "installing conftest $version into $work/bin (several minutes)" >&2
	(cd "$work" && GOBIN="$work/bin" GOFLAGS=-buildvcs=false go install "github.com/open-policy-agent/conftest@$version")
	conftest=$work/bin/conftest
fi
echo "conftest: $("$conftest" --version | tr '\n' ' ')"

# The objects: the same 1,000 that BenchmarkEvaluate1000 uses.
(cd "$repo" && GITVEND_BENCH_OBJECTS="$work/objects.yaml" go test ./internal/policy/ -run '^TestTypicalObjects$' -count=1 >/dev/null)
awk 'BEGIN { n = 0 } /^---$/ { n++ } n <= 1' "$work/objects.yaml" >"$work/one.yaml"
echo "objects: $(grep -c '^kind:' "$work/objects.yaml") in $(wc -c <"$work/objects.yaml") bytes"

# The policies: the library without its tests, plus the wrapper.
mkdir -p "$work/policy/lib"
for f in "$repo"/policies/*.rego "$repo"/policies/lib/*.rego; do
	case $f in *_test.rego) continue ;; esac
	cp "$f" "$work/policy/${f#"$repo"/policies/}"
done
cat >"$work/policy/conftest.rego" <<'EOF'
# Runs gitvend's policies under conftest: every document is a subject
# rendered by a request into its own namespace, as in BenchmarkEvaluate1000.
package main

import data.gitvend.lib

subject(obj) := {
	"object": obj,
	"groupKind": lib.group_kind(obj),
	"scope": scope(obj),
	"context": {
		"environment": "dev",
		"request": object.get(obj, ["metadata", "name"], ""),
		"owner": object.get(obj, ["metadata", "labels", "gitvend.dev/owner"], ""),
		"namespace": object.get(obj, ["metadata", "namespace"], ""),
		"allowedNamespaces": [object.get(obj, ["metadata", "namespace"], "")],
	},
}

scope(obj) := "namespaced" if {
	object.get(obj, ["metadata", "namespace"], "") != ""
} else := "cluster"

# conftest --combine passes [{"path", "contents"}], contents being one
# document or the list of a file's documents.
documents := [doc |
	some file in input
	some doc in as_list(file.contents)
] if {
	is_array(input)
} else := [input]

as_list(x) := x if is_array(x) else := [x]

wrapped := {
	"subjects": [subject(doc) | some doc in documents],
	"params": {"allowed-registries": {"registries": ["ghcr.io/acme/"]}},
}

results := r if {
	r := {name: {"severity": p.metadata.severity, "violations": p.violation} |
		some name, p in data.gitvend.policies
	} with input as wrapped
}

deny contains sprintf("%s %s: %s", [name, about(f), f.message]) if {
	some name, r in results
	r.severity == "deny"
	some f in r.violations
}

warn contains sprintf("%s %s: %s", [name, about(f), f.message]) if {
	some name, r in results
	r.severity == "warn"
	some f in r.violations
}

# about names the object of a finding, so that equal messages about
# different objects stay apart.
about(f) := sprintf("%s/%s", [obj.kind, object.get(obj, ["metadata", "name"], "")]) if {
	obj := documents[f.subject]
} else := "-"
EOF

# best prints the fastest wall time of $runs runs of a command, in ms, and
# keeps the last run's summary line in $work/summary.
best() {
	local bestms=
	for _ in $(seq "$runs"); do
		local start end ms
		start=$(date +%s%N)
		"$@" >"$work/out" 2>&1 || true
		end=$(date +%s%N)
		ms=$(((end - start) / 1000000))
		if [ -z "$bestms" ] || [ "$ms" -lt "$bestms" ]; then bestms=$ms; fi
	done
	grep -E '[0-9]+ tests?, ' "$work/out" | tail -1 >"$work/summary" || true
	echo "$bestms"
}

printf '\n%-46s %8s  %s\n' "conftest test (wall time, process included)" "ms" "result"
for mode in "one object:$work/one.yaml:" "1,000 objects, one input each:$work/objects.yaml:" "1,000 objects, --combine:$work/objects.yaml:--combine"; do
	IFS=: read -r label file flag <<<"$mode"
	# shellcheck disable=SC2086
	ms=$(best "$conftest" test --no-color --policy "$work/policy" $flag "$file")
	printf '%-46s %8s  %s\n' "$label" "$ms" "$(cat "$work/summary")"
done

echo
echo "gitvend internal/policy (go test -bench, per operation):"
(cd "$repo" && go test ./internal/policy/ -run '^$' -bench 'BenchmarkNew$|BenchmarkEvaluate1000$|BenchmarkDecodeEvaluate1000$' -benchtime 20x -count "$runs" | grep -E '^Benchmark')
