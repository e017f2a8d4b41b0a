// Package policy owns gitvend's policy engine: it compiles the built-in
// Rego library of package policies together with a repository's own
// policies/ directory (whose modules replace built-in modules of the same
// package), validates the policy settings of gitvend.yaml against the
// metadata every policy declares, and evaluates all policies over a set of
// objects in one prepared OPA query. Results carry the file and line of the
// offending field; severity overrides and exceptions are applied here, and
// Test runs the Rego unit tests of the library. Sandbox evaluates policies
// that are not trusted, such as a pull request's, in a child process of
// the same binary, bounded in time and memory (see SandboxMain).
package policy
