#!/usr/bin/env bash
# Builds goreleaser and actionlint from the pinned modules in this directory
# into the repository's bin/ directory (or $GITVEND_TOOLS_BIN), only when
# they are missing or their inputs changed (see ../pinned.sh; the stamp is
# bin/.release-tools-stamp). Set FORCE=1 to rebuild anyway.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
# shellcheck source=../pinned.sh
source "${here}/../pinned.sh"
pinned_begin "release tools" release-tools "${GITVEND_TOOLS_BIN:-${root}/bin}" "${here}/build.sh" goreleaser actionlint

pinned_build actionlint github.com/rhysd/actionlint/cmd/actionlint
pinned_build goreleaser github.com/goreleaser/goreleaser/v2
pinned_done
