#!/usr/bin/env bash
# Tests the Helm chart in deploy/helm/gitvend. The test is a Go module of its
# own, so that Helm's dependencies stay out of gitvend's go.mod; it reaches
# gitvend's packages through a replace of the repository root. Modules that
# gitvend adds later are filled into this module's go.sum on the way
# (-mod=mod). Arguments go to go test, such as -run TestChart or -v.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOWORK=off GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=mod"
go vet ./...
go test -count=1 "$@" ./...
