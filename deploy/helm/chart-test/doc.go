// Package charttest tests gitvend's Helm chart in deploy/helm/gitvend: it
// renders the chart with Helm's own libraries, checks the output like the
// kustomize base's (deploy/internal/deploytest) and runs Helm's linter.
// It is a module of its own because Helm's module graph would move modules
// of gitvend's; run it with test.sh.
package charttest
