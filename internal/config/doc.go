// Package config owns gitvend's configuration files: the desired-state
// repository's gitvend.yaml (environments, teams, budgets, prices and policy
// settings) and the server configuration (listen address, GitHub App,
// repositories, queue, resync, leader election and target clusters). Both
// are strict YAML: unknown fields are rejected, and every error names the
// field's path and what is allowed. The server configuration also takes
// GITVEND_ environment overrides and secrets from files, redacts those
// secrets wherever it is printed or logged, and ships a JSON Schema
// (ServerSchema) kept in step with its Go types by a test.
package config
