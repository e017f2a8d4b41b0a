// Package templates holds gitvend's built-in blueprints, embedded in the
// binary. Each top folder is one blueprint: blueprint.yaml, a kustomize base
// in base/ and optional components in components/.
package templates

import "embed"

// FS holds the built-in blueprints, one folder each.
//
//go:embed team-namespace web-service scheduled-job postgres preview
var FS embed.FS
