package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
)

// formsOptions are the flags of gitvend forms.
type formsOptions struct {
	catalog, repo, out string
}

func newFormsCmd(io streams) *cobra.Command {
	var o formsOptions
	cmd := &cobra.Command{
		Use:   "forms --out DIR [--repo DIR] [--catalog DIR]",
		Short: "Write one GitHub issue form per blueprint",
		Long: `Write one GitHub issue form per blueprint of the catalog (the built-in blueprints, the
repository's blueprints/ and --catalog), with the repository's environments in its dropdown.
The repository must exist and hold gitvend.yaml: its environments fill the forms.`,
		Args: noArgs,
		Annotations: map[string]string{
			annExits: exitLineOK + "\n" + exitLineBadUse,
		},
		Example: `  gitvend forms --out .github/ISSUE_TEMPLATE
  gitvend forms --repo infra --catalog platform/blueprints --out infra/.github/ISSUE_TEMPLATE`,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runForms(cmd.Context(), o, io)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.catalog, "catalog", "", "extra blueprint directory, overriding built-ins of the same name")
	f.StringVar(&o.repo, "repo", ".", "desired-state repository (its environments fill the form's dropdown)")
	f.StringVar(&o.out, "out", "", "directory for the forms, usually .github/ISSUE_TEMPLATE (required)")
	dirFlag(cmd, "catalog", "repo", "out")
	return cmd
}

func runForms(ctx context.Context, o formsOptions, io streams) error {
	if o.out == "" {
		return usageError("forms: --out DIR is required")
	}
	if err := repoDir("--repo", o.repo); err != nil {
		return err
	}
	cfg, err := config.LoadRepo(o.repo)
	if err != nil {
		return badInput(err)
	}
	cat, err := loadCatalog(ctx, o.repo, o.catalog)
	if err != nil {
		return err
	}
	if len(cat.List()) == 0 {
		return usageError("forms: the catalog has no blueprint: nothing to write")
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	for _, bp := range cat.List() {
		data, err := blueprint.Form(bp, cfg.EnvironmentNames())
		if err != nil {
			return fmt.Errorf("form for %s: %w", bp.Name, err)
		}
		p := filepath.Join(o.out, "gitvend-"+bp.Name+".yml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("write form: %w", err)
		}
		fmt.Fprintln(io.stdout, "wrote", p)
	}
	return nil
}
