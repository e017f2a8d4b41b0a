// Package schema serves the JSON Schemas (draft 2020-12) of the files
// people edit by hand: a Request record (request), a desired-state
// repository's gitvend.yaml (repo) and the server configuration (server).
// Editors use them through a `# yaml-language-server: $schema=` comment
// naming URL(name); `gitvend schema NAME` prints them. Tests keep each
// schema in step with the Go types that decode the file, and the copies
// under the repository's schemas/ folder identical to the embedded ones.
package schema

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/config"
)

// The names of the schemas.
const (
	Request = "request"
	Repo    = "repo"
	Server  = "server"
)

// BaseURL is where the released schemas are published: the schemas/
// folder of the repository's main branch.
const BaseURL = "https://raw.githubusercontent.com/gitvend/gitvend/main/schemas/"

var (
	//go:embed request.schema.json
	requestSchema []byte
	//go:embed repo.schema.json
	repoSchema []byte
)

// Names lists the schemas' names in the order help shows them.
func Names() []string { return []string{Request, Repo, Server} }

// Get returns the schema called name (one of Names) as indented JSON,
// ending in a newline. An unknown name is an error naming the known ones.
func Get(name string) ([]byte, error) {
	switch name {
	case Request:
		return bytes.Clone(requestSchema), nil
	case Repo:
		return bytes.Clone(repoSchema), nil
	case Server:
		return config.ServerSchema(), nil
	}
	return nil, fmt.Errorf("unknown schema %q: must be one of %s", name, strings.Join(Names(), ", "))
}

// FileName is the name of the schema's file under schemas/, such as
// repo.schema.json.
func FileName(name string) string { return name + ".schema.json" }

// URL is the address of the released schema called name, the one
// Comment names and the schema's $id.
func URL(name string) string { return BaseURL + FileName(name) }

// Comment is the line that points YAML editors (through the YAML
// language server) at the schema called name, without a line break.
func Comment(name string) string { return "# yaml-language-server: $schema=" + URL(name) }
