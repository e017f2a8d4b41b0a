// Package config owns gitvend's configuration files: the desired-state
// repository's gitvend.yaml (environments, teams, budgets, prices and policy
// settings) and the server configuration. Both are strict YAML: unknown
// fields are rejected, and every error names the field's path and what is
// allowed.
package config
