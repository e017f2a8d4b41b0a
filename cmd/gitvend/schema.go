package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// schemas are the JSON Schemas `gitvend schema NAME` prints, by name:
// request (a Request record), repo (gitvend.yaml) and server (the server
// configuration). Each entry returns the schema document. The command is
// offered only when at least one is wired here, for example
//
//	"request": schema.Request,
var schemas = map[string]func() ([]byte, error){}

// newSchemaCmd is `gitvend schema NAME`, or nil while no schema is wired.
func newSchemaCmd(io streams) *cobra.Command {
	if len(schemas) == 0 {
		return nil
	}
	var names []string
	for n := range schemas {
		names = append(names, n)
	}
	slices.Sort(names)
	return &cobra.Command{
		Use:   "schema " + strings.Join(names, "|"),
		Short: "Print the JSON Schema of a file gitvend reads",
		Long: `Print the JSON Schema of a file gitvend reads, for editors and validators
(reference it with "# yaml-language-server: $schema=...").`,
		Annotations: map[string]string{
			annArgs:  "  NAME  one of: " + strings.Join(names, ", "),
			annExits: exitLineOK + "\n" + exitLineBadUse,
		},
		Example:   "  gitvend schema " + names[0] + " > " + names[0] + ".schema.json",
		ValidArgs: names,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || schemas[args[0]] == nil {
				return usageError("schema: give one of %s", strings.Join(names, ", "))
			}
			return nil
		},
		RunE: action(func(cmd *cobra.Command, args []string) error {
			data, err := schemas[args[0]]()
			if err != nil {
				return fmt.Errorf("schema %s: %w", args[0], err)
			}
			_, err = io.stdout.Write(data)
			return err
		}),
	}
}
