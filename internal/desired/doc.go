// Package desired owns the layout of a desired-state repository: where
// request records, their rendered manifests and the environment roots live;
// rendering a request into the files that are committed; keeping each
// environment's kustomization in step with its requests; verifying that
// every committed rendered file is exactly what a fresh render gives; and
// building an environment from its root (BuildEnvironment), the one build
// that both the checks of pull requests and apply use.
//
// Layout:
//
//	gitvend.yaml
//	requests/<environment>/<namespace>/<name>.yaml         the Request
//	requests/<environment>/<namespace>/<name>/             its rendered manifests
//	    kustomization.yaml
//	    <kind>-<object name>.yaml                           one object per file
//	environments/<environment>/kustomization.yaml           the root kustomize builds
package desired
