// Package check runs gitvend's checks over manifests: it loads objects from
// files, directories and kustomize roots (building every environment of
// the checked repository's own gitvend.yaml as apply builds it, with
// desired.BuildEnvironment), places each in the
// desired-state repository's layout, estimates cost (and its change against
// a base), holds budgets, evaluates the policy library, and renders the
// report as text, JSON, Markdown, GitHub workflow annotations or SARIF.
// The CLI's check command and the pull-request checks both use it.
package check
