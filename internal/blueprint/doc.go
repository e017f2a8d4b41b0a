// Package blueprint owns gitvend's blueprints: the blueprint.yaml format and
// its parameter schema, the catalog of built-in and repository-local
// blueprints, the validation of request parameters, rendering through
// kustomize, and the GitHub issue forms that ask for a blueprint.
//
// A blueprint is a folder:
//
//	<name>/blueprint.yaml           name, title, description, parameter schema
//	<name>/base/kustomization.yaml  a kustomize base and its resource files
//	<name>/components/<c>/...       optional kustomize components
//
// Rendering copies the base and the components the parameters switch on into
// an in-memory file system, adds a generated kustomization that sets the
// request's namespace and gitvend's labels, and runs kustomize. Objects in
// the base named "app" or "app-<suffix>" are renamed to the request name (or
// "<request>-<suffix>") by patches inside that kustomization, so kustomize's
// name-reference handling updates everything that points at them (HPA scale
// targets, RoleBinding roleRefs, Ingress backends, StatefulSet service
// names). Selectors and pod templates that carry app.kubernetes.io/name get
// the request name through kustomize's label transformer.
//
// After the build, each parameter's value is written at its target fields as
// one typed YAML scalar node (!!str, !!int or !!bool). Values are never
// spliced into YAML text, so no request value can add a key, an object or a
// document. The same blueprint and input always give the same objects.
package blueprint
