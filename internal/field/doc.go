// Package field owns the one error type gitvend reports problems in files
// and comments with (a file, a line, a field path and a message), the walk
// over joined and wrapped errors that finds them again, and the strict
// YAML decoder every configuration, request and blueprint file goes
// through: it works on yaml.v3 nodes, rejects every unknown field with its
// line and the names allowed there, reports mistyped values with their
// field path and line, and records the line of every field a document sets.
package field
