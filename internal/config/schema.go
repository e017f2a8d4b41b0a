package config

import (
	"bytes"
	_ "embed"
)

//go:embed server.schema.json
var serverSchema []byte

// ServerSchema returns the JSON Schema (draft 2020-12) of the server
// configuration file, for editors and CI linting. The loader enforces the
// same rules and a few the schema cannot express (target repositories among
// repositories, unique target names, ordered leader-election durations,
// secrets present).
func ServerSchema() []byte { return bytes.Clone(serverSchema) }
