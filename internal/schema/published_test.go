package schema_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitvend/gitvend/internal/schema"
)

// TestPublishedSchemas keeps the schemas/ folder, which the
// yaml-language-server comments point editors at, identical to the
// embedded schemas. UPDATE=1 writes them.
func TestPublishedSchemas(t *testing.T) {
	dir := filepath.Join(repoRoot, "schemas")
	for _, name := range schema.Names() {
		want, err := schema.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, schema.FileName(name))
		if os.Getenv("UPDATE") == "1" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (UPDATE=1 go test ./internal/schema/ writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("schemas/%s differs from the embedded schema; run UPDATE=1 go test ./internal/schema/", schema.FileName(name))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(schema.Names()) {
		t.Errorf("schemas/ holds %d files, want the %d schemas alone", len(entries), len(schema.Names()))
	}
}

func TestGet(t *testing.T) {
	for _, name := range schema.Names() {
		data, err := schema.Get(name)
		if err != nil || !bytes.HasSuffix(data, []byte("}\n")) {
			t.Errorf("Get(%q) = %d bytes, %v; want the schema ending in a newline", name, len(data), err)
		}
		data[0] = 'x' // a caller's change must not reach the next caller
		if again, _ := schema.Get(name); again[0] != '{' {
			t.Errorf("Get(%q) hands out the embedded bytes", name)
		}
	}
	if _, err := schema.Get("requests"); err == nil || err.Error() != `unknown schema "requests": must be one of request, repo, server` {
		t.Errorf("Get(requests) error = %v", err)
	}
	if got, want := schema.Comment(schema.Repo), "# yaml-language-server: $schema=https://raw.githubusercontent.com/gitvend/gitvend/main/schemas/repo.schema.json"; got != want {
		t.Errorf("Comment(repo) = %q, want %q", got, want)
	}
}
