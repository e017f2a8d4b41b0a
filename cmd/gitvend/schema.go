package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitvend/gitvend/internal/schema"
)

// newSchemaCmd is `gitvend schema NAME`: the JSON Schema of a request
// record, of gitvend.yaml or of the server configuration (internal/schema).
func newSchemaCmd(io streams) *cobra.Command {
	names := schema.Names()
	return &cobra.Command{
		Use:   "schema " + strings.Join(names, "|"),
		Short: "Print the JSON Schema of a file gitvend reads",
		Long: `Print the JSON Schema of a file gitvend reads, for editors and validators:
request (a request record under requests/), repo (gitvend.yaml) or server (the server
configuration). Editors find them from a first line such as

  ` + schema.Comment(schema.Repo),
		Annotations: map[string]string{
			annArgs:  "  NAME  one of: " + strings.Join(names, ", "),
			annExits: exitLineOK + "\n" + exitLineBadUse,
		},
		Example:   "  gitvend schema repo > gitvend.schema.json",
		ValidArgs: names,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(names, args[0]) {
				return usageError("schema: give one of %s", strings.Join(names, ", "))
			}
			return nil
		},
		RunE: action(func(cmd *cobra.Command, args []string) error {
			data, err := schema.Get(args[0])
			if err != nil {
				return err
			}
			_, err = io.stdout.Write(data)
			return err
		}),
	}
}
